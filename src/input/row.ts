import { hash } from 'node:crypto';
import { DEFAULTS } from '../core/defaults.js';
import { RUNPOD } from '../core/wire.js';
import type { InputIssue } from '../core/errors.js';
import type { RunRequestBody } from '../core/wire.js';
import type { InputOptions, InputRow } from './types.js';

export type ReadItem = { kind: 'row'; row: InputRow } | { kind: 'issue'; issue: InputIssue };

/**
 * How a record read from the file becomes a /run body when no `--map` is given: `request` — the JSONL rule (an object
 * with `input` is a whole body, anything else is the input); `input` — the record is the input (a CSV row);
 * `openai` — an OpenAI Batch line, sent in worker-vllm's passthrough form.
 */
export type RecordForm = 'request' | 'input' | 'openai';

/** A record waiting for the mapping (`--map`), which is asynchronous: readers yield it only when one is given. */
export interface RecordItem {
  kind: 'record';
  line: number;
  id: string | number;
  value: Record<string, unknown>;
  form: RecordForm;
  /** The row's 0-based position among the file's rows (taken when read, so it does not depend on the shard). */
  seq: number;
}

/** What a reader yields: rows and issues, and records when a mapping is to be applied to them. */
export type SourceItem = ReadItem | RecordItem;

/** `--map`: turns a record into the request (or throws / returns undefined); a promise when JSONata evaluates it. */
export type Mapper = (record: Record<string, unknown>) => unknown;

/** `--shard k/n`: the rows of this shard. */
export interface Shard {
  k: number;
  n: number;
}

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
  /** Rows read so far (every shard's): the next row's `seq`. */
  seq: number;
  /** `--map`, compiled. */
  mapper?: Mapper;
  /** `--shard k/n`: rows of other shards are read (and checked) but not yielded. */
  shard?: Shard;
  /** The file is in OpenAI's Batch input format; undefined until the first JSONL row tells. */
  openai?: boolean;
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
    ...(opts.shard ? { shard: opts.shard } : {}),
    ...(opts.format === 'openai-batch' ? { openai: true } : opts.format === 'jsonl' ? { openai: false } : {}),
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

/**
 * A record read from the file, as the next row: built at once when there is no mapping, or handed on as a record for
 * the mapping stage (index.ts). Undefined for a row of another shard (its seq is still taken, so every shard numbers
 * rows by their place in the whole file).
 */
export function recordItem(
  ctx: ReadContext,
  line: number,
  id: string | number,
  value: Record<string, unknown>,
  form: RecordForm,
): SourceItem | undefined {
  const seq = ctx.seq++;
  if (!inShard(ctx, id)) return undefined;
  if (ctx.mapper !== undefined) return { kind: 'record', line, id, value, form, seq };
  return formItem(ctx, line, id, value, form, seq);
}

/** The row with this id is one this run reads (always, without `--shard`). */
export function inShard(ctx: ReadContext, id: string | number): boolean {
  return ctx.shard === undefined || shardOf(String(id), ctx.shard.n) === ctx.shard.k;
}

/** The body a record stands for when no mapping is given (see RecordForm). */
export function formItem(
  ctx: ReadContext,
  line: number,
  id: string | number,
  value: Record<string, unknown>,
  form: RecordForm,
  seq: number,
): ReadItem {
  if (form === 'input') return makeRow(ctx, line, id, { input: value }, seq);
  if (form === 'openai') return makeRow(ctx, line, id, { input: { openai_route: value.url, openai_input: value.body } }, seq);
  const body = requestBody(value);
  if (typeof body === 'string') return issue(ctx, line, body);
  return makeRow(ctx, line, id, body, seq);
}

/**
 * The JSONL rule: an object with `input` is a whole request (`{input, webhook?, policy?, s3Config?}`; other keys —
 * status, error, … of a fed-back errors.jsonl — are dropped), anything else is the input. A string is the problem.
 */
export function requestBody(obj: Record<string, unknown>): RunRequestBody | string {
  if (!Object.hasOwn(obj, 'input')) return { input: obj };
  if (obj.input === null || obj.input === undefined) return 'input must not be null';
  const body: RunRequestBody = { input: obj.input };
  if (obj.webhook !== undefined) {
    if (typeof obj.webhook !== 'string') return `webhook must be a string, got ${kindOf(obj.webhook)}`;
    body.webhook = obj.webhook;
  }
  for (const key of ['policy', 's3Config'] as const) {
    const v = obj[key];
    if (v === undefined) continue;
    if (kindOf(v) !== 'object') return `${key} must be a JSON object, got ${kindOf(v)}`;
    body[key] = v as Record<string, unknown>;
  }
  return body;
}

/**
 * `--shard k/n`: the shard (0 … n-1) a row key belongs to — the first 32 bits of its SHA-1, modulo n. The same on
 * every machine and every run, whatever the file's order or the other rows.
 */
export function shardOf(key: string, n: number): number {
  if (n <= 1) return 0;
  return hash('sha1', key, 'buffer').readUInt32BE(0) % n;
}

/** The row id: the id field's value when the object has one (or the problem with it), else `fallback` (the line or row). */
export function rowIdOf(ctx: ReadContext, obj: Record<string, unknown>, fallback: number): { id: string | number } | { problem: string } {
  const raw = obj[ctx.idField];
  if (raw === undefined) return { id: fallback };
  const problem = idProblem(ctx, raw);
  return problem === undefined ? { id: raw as string | number } : { problem };
}

/** Serializes and checks the body, then yields it as a row (or as an issue when it is too large). */
export function makeRow(ctx: ReadContext, line: number, id: string | number, body: RunRequestBody, seq: number): ReadItem {
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
  const row: InputRow = { key: String(id), id, line, seq, body, bodyJson, hash: hashBody(bodyJson) };
  return { kind: 'row', row };
}
