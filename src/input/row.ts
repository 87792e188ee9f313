import { hash } from 'node:crypto';
import { DEFAULTS } from '../core/defaults.js';
import { RUNPOD } from '../core/wire.js';
import type { InputIssue } from '../core/errors.js';
import type { RunRequestBody } from '../core/wire.js';
import type { InputOptions, InputRow } from './types.js';

export type ReadItem = { kind: 'row'; row: InputRow } | { kind: 'issue'; issue: InputIssue };

/** RunPod's /run payload limit. */
export const DEFAULT_MAX_BODY_BYTES: number = RUNPOD.maxRunBodyBytes;

/** Per-file reading state shared by the JSONL and CSV readers. */
export interface ReadContext {
  file: string;
  idField: string;
  csvCast: boolean;
  maxBodyBytes: number;
  /** A line or CSV record longer than this is not buffered (memory guard); it becomes an issue. */
  maxLineBytes: number;
  /** Rows yielded so far: the next row's `seq`. */
  seq: number;
}

export function readContext(file: string, opts: InputOptions = {}): ReadContext {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return {
    file,
    idField: opts.idField ?? DEFAULTS.idField,
    csvCast: opts.csvCast ?? false,
    maxBodyBytes,
    // Room for keys that are dropped from the body (e.g. `output`/`error` of a fed-back results file).
    maxLineBytes: maxBodyBytes + 64 * 1024 * 1024,
    seq: 0,
  };
}

/** sha1 hex of the body's JSON text. */
export function hashBody(bodyJson: string): string {
  return hash('sha1', bodyJson, 'hex');
}

export function issue(ctx: ReadContext, line: number, message: string): ReadItem {
  return { kind: 'issue', issue: { file: ctx.file, line, message } };
}

/** What kind of JSON value `v` is, for messages: object, array, string, number, boolean, null. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The id message, or undefined when `v` is a usable id (non-empty string or finite number). */
export function idProblem(ctx: ReadContext, v: unknown): string | undefined {
  if (typeof v === 'string' ? v.length > 0 : typeof v === 'number' && Number.isFinite(v)) return undefined;
  const got = v === '' ? 'empty string' : typeof v === 'number' ? String(v) : kindOf(v);
  const name = ctx.idField === 'id' ? 'id' : `id field '${ctx.idField}'`;
  return `${name} must be a non-empty string or a number, got ${got}`;
}

/** Serializes and checks the body, then yields it as the next row (or as an issue when it is too large). */
export function makeRow(ctx: ReadContext, line: number, id: string | number, body: RunRequestBody): ReadItem {
  const bodyJson = JSON.stringify(body);
  // A UTF-16 unit is at most 3 UTF-8 bytes: only count bytes when the text could be over the limit.
  if (bodyJson.length * 3 > ctx.maxBodyBytes) {
    const bytes = Buffer.byteLength(bodyJson);
    if (bytes > ctx.maxBodyBytes) {
      const limit =
        ctx.maxBodyBytes === DEFAULT_MAX_BODY_BYTES ? "RunPod's 10 MB /run limit" : `the ${ctx.maxBodyBytes}-byte limit for a /run body`;
      return issue(ctx, line, `row is ${bytes} bytes, over ${limit}`);
    }
  }
  const row: InputRow = { key: String(id), id, line, seq: ctx.seq++, body, bodyJson, hash: hashBody(bodyJson) };
  return { kind: 'row', row };
}
