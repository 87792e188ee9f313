import { createReadStream } from 'node:fs';
import type { RunRequestBody } from '../core/wire.js';
import { readError } from './format.js';
import { LineSplitter, type LineProblem } from './lines.js';
import { idProblem, issue, kindOf, makeRow, type ReadContext, type ReadItem } from './row.js';

/** Read chunk size: large chunks cut per-chunk overhead. */
const CHUNK_BYTES = 256 * 1024;

/** Streams a JSONL file: one row or issue per non-blank line, in order. */
export async function* readJsonl(ctx: ReadContext): AsyncGenerator<ReadItem> {
  const stream = createReadStream(ctx.file, { highWaterMark: CHUNK_BYTES });
  const chunks = stream[Symbol.asyncIterator]();
  const splitter = new LineSplitter(ctx.maxLineBytes);
  const pending: ReadItem[] = [];
  let sawLine = false;
  const sink = (line: number, text: string | null, problem?: LineProblem): void => {
    const item = lineItem(ctx, line, text, problem, !sawLine);
    if (item !== undefined) {
      sawLine = true;
      pending.push(item);
    }
  };
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<Buffer>;
      } catch (e) {
        throw readError(ctx.file, e);
      }
      if (next.done) break;
      splitter.push(next.value, sink);
      for (let i = 0; i < pending.length; i++) yield pending[i]!;
      pending.length = 0;
    }
    splitter.end(sink);
    yield* pending;
    if (!sawLine) yield issue(ctx, 1, 'empty input: no rows');
  } finally {
    stream.destroy();
  }
}

/** One line → row, issue, or undefined for a blank line. */
export function lineItem(
  ctx: ReadContext,
  line: number,
  text: string | null,
  problem: LineProblem | undefined,
  isFirst: boolean,
): ReadItem | undefined {
  if (text === null) {
    return issue(ctx, line, problem === 'too-long' ? `line is over ${ctx.maxLineBytes} bytes: too large for a /run body` : 'invalid UTF-8');
  }
  // '{' first is the common case: skip the blank-line check for it.
  if (text.charCodeAt(0) !== 0x7b && text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const hint =
      isFirst && /^\s*[[{]\s*$/.test(text) ? ' (each line must hold one whole JSON object: JSONL, not a pretty-printed JSON document)' : '';
    return issue(ctx, line, `invalid JSON: ${(e as Error).message}${hint}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return issue(ctx, line, `row must be a JSON object, got ${kindOf(value)}`);
  }
  const obj = value as Record<string, unknown>;
  const rawId = obj[ctx.idField];
  let id: string | number = line;
  if (rawId !== undefined) {
    const problemText = idProblem(ctx, rawId);
    if (problemText !== undefined) return issue(ctx, line, problemText);
    id = rawId as string | number;
  }
  let body: RunRequestBody;
  if (Object.hasOwn(obj, 'input')) {
    // A request line ({input, webhook?, policy?, s3Config?}); other keys (status, error, … of a fed-back errors.jsonl) are dropped.
    if (obj.input === null) return issue(ctx, line, 'input must not be null');
    body = { input: obj.input };
    if (obj.webhook !== undefined) {
      if (typeof obj.webhook !== 'string') return issue(ctx, line, `webhook must be a string, got ${kindOf(obj.webhook)}`);
      body.webhook = obj.webhook;
    }
    for (const key of ['policy', 's3Config'] as const) {
      const v = obj[key];
      if (v === undefined) continue;
      if (kindOf(v) !== 'object') return issue(ctx, line, `${key} must be a JSON object, got ${kindOf(v)}`);
      body[key] = v as Record<string, unknown>;
    }
  } else {
    body = { input: obj };
  }
  return makeRow(ctx, line, id, body);
}
