import { UsageError } from '../core/errors.js';
import { AtomicFile } from '../output/atomic-file.js';
import { exportRows, type LineFormat } from '../output/export.js';
import { COLUMNS, ParquetFile, recordOf, recordWeight, SchemaLearner } from '../output/parquet.js';
import { type MergedRows, mergedRows } from './merge.js';

export type ExportFormat = LineFormat | 'parquet' | 'hf';

/** What every export takes besides its folders and format. */
export interface ExportOptions {
  /** Told when shards of the input are missing from the folders given (their rows are not in the export). */
  warn?: (message: string) => void;
}

/**
 * Streams the batch's results as JSONL, OpenAI Batch output or CSV lines (`runpod-batch export`): to `write`, or into
 * the file `output` (written whole or not at all). `outDirs`: one batch folder, or the folders of the shards of one
 * input, merged in input order (merge.ts). Returns the rows written. Parquet (`exportParquet`) and the Hugging Face
 * folder (`exportHf`, export-hf.ts) need a path.
 */
export function exportBatch(
  outDirs: string | readonly string[],
  format: LineFormat,
  to: { write: (chunk: string) => void } | { output: string },
  o: ExportOptions = {},
): number {
  const merged = mergedRows(outDirs, o);
  try {
    const rows = () => merged.rows();
    const salt = idSalt(merged);
    if ('write' in to) return exportRows(rows, format, to.write, salt);
    const f = new AtomicFile(to.output);
    const n = exportRows(rows, format, (c) => f.write(c), salt);
    f.commit();
    return n;
  } finally {
    merged.close();
  }
}

/** What tells one input's OpenAI line ids from another's: the input's SHA-256 (the same in each of its shards). */
function idSalt(merged: MergedRows): string {
  return merged.sources[0]!.store.getMeta('input')?.fingerprint.sha256 ?? '';
}

/**
 * Writes every row of the batch, in input order, into one Parquet file at `output` (through a temporary file and a
 * rename). Two passes over the state: the schema is learnt from all the rows first (output/parquet-shape.ts), then
 * the rows are written in row groups of bounded size. Returns the rows written.
 */
export function exportParquet(outDirs: string | readonly string[], output: string | undefined, o: ExportOptions = {}): number {
  if (!output) throw new UsageError('export --format parquet writes a file: give it with -o <file.parquet>');
  const merged = mergedRows(outDirs, o);
  try {
    const learner = new SchemaLearner();
    for (const r of merged.rows()) learner.learn(recordOf(r) as unknown as Record<string, unknown>);
    const f = new ParquetFile(output, learner.columns(COLUMNS));
    try {
      for (const r of merged.rows()) f.add(recordOf(r) as unknown as Record<string, unknown>, recordWeight(r));
      f.commit();
    } catch (err) {
      f.abort();
      throw err;
    }
    return f.rows;
  } finally {
    merged.close();
  }
}
