import type { Stats } from '../report/stats.js';
import { lockBatch, openBatch } from './open.js';
import { regenerate, type ViewFiles } from './views.js';

/** Regenerates results, errors, stats and the reports from the state (`runpod-batch report`). */
export function regenerateBatch(outDir: string): { files: ViewFiles; stats: Stats } {
  const { store, gen, settings } = openBatch(outDir);
  const release = lockBatch(store, outDir);
  try {
    const views = regenerate(store, outDir, gen, settings);
    store.setMeta('viewsOf', store.lastRunId());
    return views;
  } finally {
    store.close();
    release();
  }
}
