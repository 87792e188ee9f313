import { checkInputFile, detectFormat } from './format.js';
import { readJsonl } from './jsonl.js';
import { readContext, type ReadItem } from './row.js';
import type { InputOptions } from './types.js';

export type { InputFormat, InputOptions, InputRow } from './types.js';
export type { ReadItem } from './row.js';
export { detectFormat } from './format.js';
export { hashBody } from './row.js';

/**
 * Streams the file's rows in order. Bad rows yield an 'issue' item (file:line, message) and reading goes on, so the
 * caller can report the first problems. Problems with the file as a whole throw InputError at once, from this call
 * (missing file, a directory, unknown extension without `opts.format`, unreadable); a read error met later is thrown
 * by the iterator. An empty file yields one issue (line 1, "empty input: no rows"), a header-only CSV one issue
 * ("no data rows…"). Memory does not grow with the file: nothing is kept but the current chunk.
 */
export function readInput(path: string, opts: InputOptions = {}): AsyncIterable<ReadItem> {
  checkInputFile(path);
  const format = detectFormat(path, opts.format);
  const ctx = readContext(path, opts);
  return format === 'csv' ? readCsvLazily(ctx) : readJsonl(ctx);
}

/** csv-parse is loaded only for CSV input: a JSONL run (and every other command) starts without it. */
async function* readCsvLazily(ctx: ReturnType<typeof readContext>): AsyncGenerator<ReadItem> {
  const { readCsv } = await import('./csv.js');
  yield* readCsv(ctx);
}
