import { AtomicFile } from '../output/atomic-file.js';
import { exportRows } from '../output/export.js';
import { openBatch } from './open.js';

export type ExportFormat = 'jsonl' | 'csv';

/**
 * Streams the batch's results as JSONL or CSV lines (`runpod-batch export`): to `write`, or into the file `output`
 * (written whole or not at all). Returns the rows written.
 */
export function exportBatch(outDir: string, format: ExportFormat, to: { write: (chunk: string) => void } | { output: string }): number {
  const { store, gen } = openBatch(outDir, { readonly: true });
  try {
    const rows = () => store.rows(gen);
    if ('write' in to) return exportRows(rows, format, to.write);
    const f = new AtomicFile(to.output);
    const n = exportRows(rows, format, (c) => f.write(c));
    f.commit();
    return n;
  } finally {
    store.close();
  }
}
