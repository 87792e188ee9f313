import { createReadStream } from 'node:fs';
import { readError } from './format.js';
import { LineSplitter, type LineProblem } from './lines.js';
import { issue, kindOf, recordItem, rowIdOf, type ReadContext, type SourceItem } from './row.js';

/** Read chunk size: large chunks cut per-chunk overhead. */
const CHUNK_BYTES = 256 * 1024;

/** Streams a JSONL file: one row or issue per non-blank line, in order. */
export async function* readJsonl(ctx: ReadContext): AsyncGenerator<SourceItem> {
  const stream = createReadStream(ctx.file, { highWaterMark: CHUNK_BYTES });
  const chunks = stream[Symbol.asyncIterator]();
  const splitter = new LineSplitter(ctx.maxLineBytes);
  const pending: SourceItem[] = [];
  let sawLine = false;
  const sink = (line: number, text: string | null, problem?: LineProblem): void => {
    const item = lineItem(ctx, line, text, problem, !sawLine);
    if (item !== undefined) {
      sawLine = true;
      if (item !== null) pending.push(item);
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

/** One line → row, issue, or record to map; undefined for a blank line, null for a row of another shard. */
export function lineItem(
  ctx: ReadContext,
  line: number,
  text: string | null,
  problem: LineProblem | undefined,
  isFirst: boolean,
): SourceItem | undefined | null {
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
  // OpenAI's Batch input format: recognised on the first row (or named with --format openai-batch), then every row.
  ctx.openai ??= isOpenAiLine(obj);
  if (ctx.openai) {
    const problemText = openAiProblem(obj);
    if (problemText !== undefined) return issue(ctx, line, problemText);
    return recordItem(ctx, line, obj.custom_id as string, obj, 'openai') ?? null;
  }
  const id = rowIdOf(ctx, obj, line);
  if ('problem' in id) return issue(ctx, line, id.problem);
  return recordItem(ctx, line, id.id, obj, 'request') ?? null;
}

const OPENAI_KEYS = ['custom_id', 'method', 'url', 'body'] as const;

/** A line of OpenAI's Batch input format: `{"custom_id", "method", "url", "body"}` and nothing else. */
export function isOpenAiLine(obj: Record<string, unknown>): boolean {
  const keys = Object.keys(obj);
  return keys.length === OPENAI_KEYS.length && OPENAI_KEYS.every((k) => Object.hasOwn(obj, k));
}

/** What is wrong with a line of an OpenAI Batch file, or undefined. */
export function openAiProblem(obj: Record<string, unknown>): string | undefined {
  const missing = OPENAI_KEYS.filter((k) => obj[k] === undefined);
  if (missing.length > 0) return `OpenAI Batch line without ${missing.join(', ')} (each line needs custom_id, method, url and body)`;
  if (typeof obj.custom_id !== 'string' || obj.custom_id === '')
    return `custom_id must be a non-empty string, got ${obj.custom_id === '' ? 'empty string' : kindOf(obj.custom_id)}`;
  if (obj.method !== 'POST') return `method must be "POST", got ${JSON.stringify(obj.method)}`;
  if (typeof obj.url !== 'string' || !obj.url.startsWith('/v1/'))
    return `url must be an OpenAI route such as "/v1/chat/completions", got ${JSON.stringify(obj.url)}`;
  if (kindOf(obj.body) !== 'object') return `body must be a JSON object, got ${kindOf(obj.body)}`;
  return undefined;
}
