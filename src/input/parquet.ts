import { fileError } from './format.js';
import type { ReadContext, SourceItem } from './row.js';

/** Parquet input: not read yet. */
// biome-ignore lint/correctness/useYield: placeholder until the reader lands
export async function* readParquet(ctx: ReadContext): AsyncGenerator<SourceItem> {
  throw fileError(ctx.file, 'Parquet input is not supported yet');
}
