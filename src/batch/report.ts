import type { Stats } from '../report/stats.js';
import { lockHolder } from '../store/lock.js';
import { lockBatch, openBatch } from './open.js';
import { regenerate, type ViewFiles } from './views.js';

/**
 * Regenerates results, errors, stats and the reports from the state (`runpod-batch report`). While a run holds the
 * batch, they are written from a read-only look at the state: a snapshot of the night so far, which the run replaces
 * with its own when it ends (rows whose job id is still in the job-id log show as PENDING there).
 */
export function regenerateBatch(outDir: string): { files: ViewFiles; stats: Stats; runningPid: number | null } {
  const runningPid = lockHolder(outDir);
  if (runningPid !== null) {
    const { store, gen, settings } = openBatch(outDir, { readonly: true });
    try {
      return { ...regenerate(store, outDir, gen, settings, { running: true }), runningPid };
    } finally {
      store.close();
    }
  }
  const { store, gen, settings } = openBatch(outDir);
  const release = lockBatch(store, outDir);
  try {
    const views = regenerate(store, outDir, gen, settings);
    store.setMeta('viewsOf', store.lastRunId());
    return { ...views, runningPid: null };
  } finally {
    store.close();
    release();
  }
}
