import { checkInputFile, detectFormat } from './format.js';
import { readJsonl } from './jsonl.js';
import { compileMapping, mappedProblem } from './map.js';
import { issue, makeRow, readContext, type ReadContext, type ReadItem, requestBody, type SourceItem } from './row.js';
import type { InputOptions } from './types.js';

export type { InputFormat, InputOptions, InputRow } from './types.js';
export type { ReadItem, Shard } from './row.js';
export { detectFormat } from './format.js';
export { hashBody, shardOf } from './row.js';
export { mappingText } from './map.js';

/**
 * Streams the file's rows in order. Bad rows yield an 'issue' item (file:line, message) and reading goes on, so the
 * caller can report the first problems. Problems with the file as a whole throw InputError at once, from this call
 * (missing file, a directory, unknown extension without `opts.format`, unreadable); a read error met later is thrown
 * by the iterator. An empty file yields one issue (line 1, "empty input: no rows"), a header-only CSV one issue
 * ("no data rows…"). Memory does not grow with the file: nothing is kept but the current chunk (Parquet: the current
 * row group, or slice of one).
 */
export function readInput(path: string, opts: InputOptions = {}): AsyncIterable<ReadItem> {
  checkInputFile(path);
  const format = detectFormat(path, opts.format);
  const ctx = readContext(path, opts);
  if (opts.map !== undefined) ctx.mapper = compileMapping(opts.map);
  const source = format === 'csv' ? readCsvLazily(ctx) : format === 'parquet' ? readParquetLazily(ctx) : readJsonl(ctx);
  // Without a mapping the readers build rows themselves and yield no records: no stage in between.
  return ctx.mapper === undefined ? (source as AsyncIterable<ReadItem>) : mapRecords(ctx, source);
}

/** csv-parse is loaded only for CSV input: a JSONL run (and every other command) starts without it. */
async function* readCsvLazily(ctx: ReadContext): AsyncGenerator<SourceItem> {
  const { readCsv } = await import('./csv.js');
  yield* readCsv(ctx);
}

/** The Parquet reader (hyparquet) is loaded only for Parquet input. */
async function* readParquetLazily(ctx: ReadContext): AsyncGenerator<SourceItem> {
  const { readParquet } = await import('./parquet.js');
  yield* readParquet(ctx);
}

/**
 * `--map`: each record read becomes the value of the mapping, which follows the JSONL rule (an object with `input`
 * is a whole body, any other object is the input). A mapping that throws or gives no object is that row's issue.
 */
async function* mapRecords(ctx: ReadContext, source: AsyncIterable<SourceItem>): AsyncGenerator<ReadItem> {
  const mapper = ctx.mapper!;
  for await (const item of source) {
    if (item.kind !== 'record') {
      yield item;
      continue;
    }
    let value: unknown;
    try {
      value = mapper(item.value);
      // The compiled form answers at once; JSONata's evaluator with a promise.
      if (value instanceof Promise) value = await value;
    } catch (e) {
      const err = e as { message?: string };
      yield issue(ctx, item.line, `--map failed: ${err.message ?? String(e)}`);
      continue;
    }
    const problem = mappedProblem(value);
    if (problem !== undefined) {
      yield issue(ctx, item.line, problem);
      continue;
    }
    const body = requestBody(value as Record<string, unknown>);
    if (typeof body === 'string') yield issue(ctx, item.line, `--map gave ${body}`);
    else yield makeRow(ctx, item.line, item.id, body, item.seq);
  }
}
