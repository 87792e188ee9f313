import { UsageError } from '../core/errors.js';
import { AtomicFile } from '../output/atomic-file.js';
import { exportRows } from '../output/export.js';
import { COLUMNS, ParquetFile, recordOf, recordWeight, SchemaLearner } from '../output/parquet.js';
import { openBatch } from './open.js';

export type ExportFormat = 'jsonl' | 'csv' | 'parquet' | 'hf';

/**
 * Streams the batch's results as JSONL or CSV lines (`runpod-batch export`): to `write`, or into the file `output`
 * (written whole or not at all). Returns the rows written. Parquet (`exportParquet`) and the Hugging Face folder
 * (`exportHf`, export-hf.ts) need a path.
 */
export function exportBatch(outDir: string, format: 'jsonl' | 'csv', to: { write: (chunk: string) => void } | { output: string }): number {
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

/**
 * Writes every row of the batch, in input order, into one Parquet file at `output` (through a temporary file and a
 * rename). Two passes over the state: the schema is learnt from all the rows first (output/parquet-shape.ts), then
 * the rows are written in row groups of bounded size. Returns the rows written.
 */
export function exportParquet(outDir: string, output: string | undefined): number {
  if (!output) throw new UsageError('export --format parquet writes a file: give it with -o <file.parquet>');
  const { store, gen } = openBatch(outDir, { readonly: true });
  try {
    const learner = new SchemaLearner();
    for (const r of store.rows(gen)) learner.learn(recordOf(r) as unknown as Record<string, unknown>);
    const f = new ParquetFile(output, learner.columns(COLUMNS));
    try {
      for (const r of store.rows(gen)) f.add(recordOf(r) as unknown as Record<string, unknown>, recordWeight(r));
      f.commit();
    } catch (err) {
      f.abort();
      throw err;
    }
    return f.rows;
  } finally {
    store.close();
  }
}
