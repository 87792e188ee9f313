import type { RunRequestBody } from '../core/wire.js';

export type InputFormat = 'jsonl' | 'csv' | 'openai-batch' | 'parquet';

/** One row of the input file, ready to be sent to /run. */
export interface InputRow {
  /** Row key: the id field's value as a string, or the 1-based line (JSONL) / data-row number (CSV). Unique per file. */
  key: string;
  /** The id as it appeared in the file (string or number), or the line/data-row number when there was none. */
  id: string | number;
  /** 1-based physical line where the row starts in the file (for file:line messages). */
  line: number;
  /** 0-based position among the file's rows: output order. */
  seq: number;
  /** The /run body: `{input, webhook?, policy?}`. */
  body: RunRequestBody;
  /** JSON text of `body` (what is sent and stored). */
  bodyJson: string;
  /** Content hash of bodyJson (hex): detects rows edited between runs. */
  hash: string;
}

export interface InputOptions {
  /** Input format. @default from the extension: .jsonl/.ndjson/.json → jsonl, .csv → csv, .parquet → parquet */
  format?: InputFormat;
  /** Field holding the row id. @default 'id' */
  idField?: string;
  /** CSV only: infer numbers and booleans instead of keeping strings. @default false */
  csvCast?: boolean;
  /** Largest /run body accepted, in bytes (RunPod's /run payload limit is 10 MB). @default 10_000_000 */
  maxBodyBytes?: number;
  /** A JSONata expression turning each row into its request (input/map.ts); its text, not `@file`. */
  map?: string;
  /** Only the rows whose id hashes to shard k of n (0 ≤ k < n); the others are read and checked, not yielded. */
  shard?: { k: number; n: number };
}
