/**
 * What the state remembers about a batch besides its rows and jobs: one typed entry per key of the `meta` table
 * (JSON values). Every key is listed here, so a reader finds what is kept, and a typo is a compile error.
 */
import type { Fingerprint, HealthSeen, SizingRecord } from '../core/records.js';

/** The endpoint a batch runs on. */
/** `--media`: base64 media in outputs become files under <out>/media/ (`files`), or stay inline (`off`). */
export type MediaMode = 'files' | 'off';

export interface SavedTarget {
  baseUrl: string;
  endpoint: string | null;
}

/** What the views of a batch need besides the rows; saved so `runpod-batch report` redraws them alike. */
export interface BatchSettings {
  idField: string;
  pricePerSecond: number | null;
  priceSource: string;
  /** The input's file name, for report titles. */
  title: string;
  /** Endpoint id, or the base URL in local-server mode. */
  endpointLabel: string;
}

/** How `runpod-batch run` was run: later commands (retry) act on the batch the same way. */
export interface SavedRun {
  input: string;
  /** As given: a number, or 'auto' (learned from /health). */
  concurrency: number | 'auto';
  retries: number;
  /** --accept-empty-output (absent in states written before it existed: off). */
  acceptEmptyOutput?: boolean;
  /** --stream (absent in states written before it existed: off). */
  stream?: boolean;
  format: 'jsonl' | 'csv' | 'openai-batch' | 'parquet' | null;
  csvCast: boolean;
  limit: number | null;
  /** Where base64 media in outputs went: `files` (under <out>/media/) or `off` (kept inline); absent before it existed. */
  media?: MediaMode;
}

/** The input as last loaded, and the options it was read with: together they say whether a rerun may skip it. */
export interface SavedInput {
  /** The path as given on the command line. */
  path: string;
  /** The file's real absolute path: a run whose input is another file is refused (states before 0.2 lack it). */
  absPath?: string;
  fingerprint: Fingerprint;
  format: string | null;
  idField: string;
  csvCast: boolean;
  limit: number | null;
  /** The --map expression the rows were mapped with (absent in states written before it existed: none). */
  map?: string | null;
  /**
   * `--shard k/n`: the folder holds shard k (0 … n-1) of the input's rows, each row's seq its position among all the
   * input's rows, so the shards' folders merge back into input order (`export a.runpod b.runpod …`). Absent (states
   * before it existed) or null: all rows.
   */
  shard?: { k: number; n: number } | null;
  rows: number;
}

export interface BatchMeta {
  /** Marks the file as a runpod-batch state (schema.ts). */
  app: string;
  /** Generation of the rows of the current input: rows of older generations were edited out of it. */
  gen: number;
  input: SavedInput;
  target: SavedTarget;
  settings: BatchSettings;
  run: SavedRun;
  /** Id of the run whose end wrote the views now on disk; null: the views must be rewritten. */
  viewsOf: number | null;
  /** The in-flight target auto-sizing chose last, and its mode changes (batch/sizing-record.ts). */
  sizing: SizingRecord;
  /** Workers /health showed starting, summed over the batch's runs (the report's cold-start estimate). */
  healthSeen: HealthSeen;
}

export type MetaKey = keyof BatchMeta;
