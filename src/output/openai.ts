/**
 * The lines of OpenAI's Batch output format (`export --format openai`), one per row: what a tool written for OpenAI's
 * Batch API reads back as it is.
 *
 *   {"id": "batch_req_…", "custom_id": "<row id>", "response": {"status_code": 200, "request_id": "<RunPod job id>",
 *    "body": {<the OpenAI response object>}}, "error": null}
 *
 * A row that did not complete has `"response": null` and `"error": {"code", "message"}` (ERROR_CODES). Pure: built
 * from the stored row alone (and a salt that makes `id` differ between inputs).
 *
 * `body` is the response object worker-vllm returned for the OpenAI passthrough (`{"openai_route", "openai_input"}`),
 * unwrapped from the one-element list its output is (RUNPOD_API.md, "What real workers return"). A streamed request
 * (`"stream": true`) leaves a list of chunks instead — `chat.completion.chunk` objects, or the Server-Sent-Events text
 * `data: {…}` holding them: they are assembled into the one object the request would have returned without `stream`
 * (OpenAI's Batch API does not stream): per choice, the text of the deltas joined, the last finish_reason, and the
 * usage of the last chunk that carries one. Any other output is left as the worker sent it.
 */
import { createHash } from 'node:crypto';
import { rowStatus, type StoredRow } from '../core/records.js';

/** One line of the output file; the field order is OpenAI's. */
export interface OpenAiBatchLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/**
 * `error.code` of a row that did not complete: from its error code (core/errors.ts RowErrorCode) when it has one,
 * else from its state. OpenAI's own codes are snake_case strings too (`batch_expired`, `batch_cancelled`).
 */
export const ERROR_CODES = {
  /** The worker's error inside a COMPLETED output: worker-vllm's `{"error": {…}}`, an OpenAI `{"object": "error"}`. */
  RPB_OUTPUT_ERROR: 'worker_error',
  RPB_EMPTY_OUTPUT: 'empty_output',
  RPB_LOST: 'job_lost',
  /** /run refused the row's body (400, 413, 422). */
  RPB_BAD_REQUEST: 'invalid_request',
  /** RunPod's FAILED: the handler raised. */
  FAILED: 'job_failed',
  TIMED_OUT: 'timed_out',
  CANCELLED: 'cancelled',
  /** PENDING or SUBMITTED: the row has no result (yet). */
  NOT_FINISHED: 'not_finished',
} as const;

/** One JSONL line (without its newline). `salt` tells batches apart in `id`: the input's SHA-256 is what export uses. */
export function openaiLine(r: StoredRow, salt = ''): string {
  return JSON.stringify(openaiRecord(r, salt));
}

export function openaiRecord(r: StoredRow, salt = ''): OpenAiBatchLine {
  const id = JSON.parse(r.idJson) as unknown;
  const line = {
    // Stable (the same row of the same input gets the same id at every export, from every shard) and unique within
    // the file (row ids are). 32 hex digits, about the length of OpenAI's own.
    id: `batch_req_${createHash('sha256').update(`${salt}\n${r.idJson}`).digest('hex').slice(0, 32)}`,
    // OpenAI's custom_id is a string; a numeric row id is written as one.
    custom_id: typeof id === 'string' ? id : JSON.stringify(id),
  };
  if (r.state === 'COMPLETED') {
    const body = r.output === null ? null : openaiBody(JSON.parse(r.output));
    return { ...line, response: { status_code: 200, request_id: r.jobId ?? '', body }, error: null };
  }
  return { ...line, response: null, error: rowError(r) };
}

/** The OpenAI response object in a worker's output (see the top of this file). */
export function openaiBody(output: unknown): unknown {
  if (Array.isArray(output) && output.length === 1 && isRecord(output[0]) && !isChunk(output[0])) return output[0];
  if (isRecord(output) && !isChunk(output)) return output;
  const chunks: Record<string, unknown>[] = [];
  if (!collectChunks(output, chunks) || chunks.length === 0) return output;
  const kind = chunks[0]!.object;
  if (!chunks.every((c) => c.object === kind)) return output;
  return assemble(chunks, kind === 'text_completion' ? 'text_completion' : 'chat.completion');
}

/** The error of a row that did not complete. */
export function rowError(r: StoredRow): { code: string; message: string } {
  if (r.state === 'PENDING' || r.state === 'SUBMITTED') {
    const where =
      r.state === 'PENDING' ? 'no job of it was on RunPod' : `its job ${r.jobId ?? '(id not known)'} was ${rowStatus(r)} on RunPod`;
    return { code: ERROR_CODES.NOT_FINISHED, message: `the request did not run to the end: ${where} when the batch was exported` };
  }
  const code =
    (r.errorCode !== null ? (ERROR_CODES as Record<string, string>)[r.errorCode] : undefined) ??
    (r.errorCode !== null ? r.errorCode.replace(/^RPB_/, '').toLowerCase() : undefined) ??
    (ERROR_CODES as Record<string, string>)[r.state] ??
    r.state.toLowerCase();
  return { code, message: errorMessage(r) };
}

/** What a person reads of the stored error: the message inside RunPod's or the worker's error JSON, else its text. */
function errorMessage(r: StoredRow): string {
  const text = r.error;
  if (text === null || text === '' || text === r.state) {
    if (r.state === 'TIMED_OUT') return 'the job timed out on RunPod (its execution timeout passed)';
    if (r.state === 'CANCELLED') return 'the job was cancelled on RunPod';
    return `the job ended ${r.state}`;
  }
  // JSON, or JSON encoded twice (a handler's error JSON sent as a JSON string: "\"{\\\"error_message\\\": …}\"").
  let v: unknown = text;
  for (let i = 0; i < 2 && typeof v === 'string' && /^\s*[[{"]/.test(v); i++) {
    try {
      v = JSON.parse(v);
    } catch {
      break;
    }
  }
  return messageOf(v) ?? text;
}

function messageOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (Array.isArray(v)) return v.length === 1 ? messageOf(v[0]) : undefined;
  if (!isRecord(v)) return undefined;
  // runpod-python's {error_type, error_message, error_traceback}; OpenAI's and vLLM's {message}, or {error: {message}}.
  for (const k of ['message', 'error_message', 'detail']) if (typeof v[k] === 'string' && v[k] !== '') return v[k] as string;
  return v.error === undefined ? undefined : messageOf(v.error);
}

const CHUNK_OBJECTS = new Set(['chat.completion.chunk', 'text_completion']);

function isChunk(v: Record<string, unknown>): boolean {
  return v.object === 'chat.completion.chunk';
}

/**
 * Gathers the stream chunks in an output: objects, lists of them (worker-vllm yields batches of chunks), and SSE text
 * (`data: {…}` lines, `data: [DONE]` skipped). False when something else is in there.
 */
function collectChunks(v: unknown, into: Record<string, unknown>[]): boolean {
  if (Array.isArray(v)) return v.every((x) => collectChunks(x, into));
  if (isRecord(v)) {
    if (!CHUNK_OBJECTS.has(v.object as string) || !Array.isArray(v.choices)) return false;
    into.push(v);
    return true;
  }
  if (typeof v !== 'string') return false;
  for (const raw of v.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('data:')) return false;
    const data = line.slice(5).trim();
    if (data === '[DONE]') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return false;
    }
    if (!collectChunks(parsed, into)) return false;
  }
  return true;
}

interface Choice {
  index: number;
  fields: Record<string, unknown>;
  toolCalls: Map<number, { id?: unknown; type?: unknown; name: string; arguments: string }>;
  finish: unknown;
  logprobs: unknown[] | null;
}

/** One response object from stream chunks, as the request without `stream` returns it. */
function assemble(chunks: Record<string, unknown>[], object: 'chat.completion' | 'text_completion'): Record<string, unknown> {
  const first = chunks[0]!;
  const choices = new Map<number, Choice>();
  let usage: unknown = null;
  for (const c of chunks) {
    if (isRecord(c.usage)) usage = c.usage;
    for (const ch of c.choices as unknown[]) {
      if (!isRecord(ch)) continue;
      const index = typeof ch.index === 'number' ? ch.index : 0;
      let acc = choices.get(index);
      if (!acc) {
        acc = { index, fields: {}, toolCalls: new Map(), finish: null, logprobs: null };
        choices.set(index, acc);
      }
      if (ch.finish_reason !== null && ch.finish_reason !== undefined) acc.finish = ch.finish_reason;
      const lp = isRecord(ch.logprobs) && Array.isArray(ch.logprobs.content) ? ch.logprobs.content : null;
      if (lp) acc.logprobs = [...(acc.logprobs ?? []), ...lp];
      const delta = object === 'chat.completion' ? ch.delta : { text: ch.text };
      if (isRecord(delta)) addDelta(acc, delta);
    }
  }
  const out: Record<string, unknown> = { id: first.id, object, created: first.created, model: first.model };
  if (first.system_fingerprint !== undefined) out.system_fingerprint = first.system_fingerprint;
  out.choices = [...choices.values()]
    .sort((a, b) => a.index - b.index)
    .map((a) => {
      const logprobs = a.logprobs === null ? null : { content: a.logprobs };
      if (object === 'text_completion') return { index: a.index, text: a.fields.text ?? '', logprobs, finish_reason: a.finish };
      const message: Record<string, unknown> = { role: 'assistant', content: null, ...a.fields };
      if (a.toolCalls.size > 0) {
        message.tool_calls = [...a.toolCalls.entries()]
          .sort(([x], [y]) => x - y)
          .map(([, t]) => ({ id: t.id, type: t.type ?? 'function', function: { name: t.name, arguments: t.arguments } }));
      }
      return { index: a.index, message, logprobs, finish_reason: a.finish };
    });
  out.usage = usage;
  return out;
}

/** Text fields (content, reasoning_content, refusal, text) are joined; role is set; tool calls are joined by index. */
function addDelta(acc: Choice, delta: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(delta)) {
    if (k === 'tool_calls' && Array.isArray(v)) {
      for (const t of v) {
        if (!isRecord(t)) continue;
        const i = typeof t.index === 'number' ? t.index : acc.toolCalls.size;
        const call = acc.toolCalls.get(i) ?? { name: '', arguments: '' };
        if (t.id !== undefined) call.id = t.id;
        if (t.type !== undefined) call.type = t.type;
        const fn = isRecord(t.function) ? t.function : {};
        if (typeof fn.name === 'string') call.name += fn.name;
        if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
        acc.toolCalls.set(i, call);
      }
    } else if (k === 'role') {
      if (typeof v === 'string') acc.fields.role = v;
    } else if (typeof v === 'string') {
      acc.fields[k] = typeof acc.fields[k] === 'string' ? acc.fields[k] + v : v;
    } else if (v !== null && v !== undefined && acc.fields[k] === undefined) {
      acc.fields[k] = v;
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
