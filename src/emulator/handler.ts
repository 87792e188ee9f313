/**
 * Running the user's handler and turning its result into a job outcome, the way runpod-python does
 * (RUNPOD_API.md: a handler error gives FAILED with `error` — a JSON string holding error_type,
 * error_message, error_traceback; a handler returning `{"error": "…"}` gives that string).
 */
import type { Rng } from './rng.js';
import type { ExecutionMsOption, HandlerFn } from './types.js';

export interface Outcome {
  status: 'COMPLETED' | 'FAILED';
  /** Absent when the handler returned undefined/null (no `output` key in the answer). */
  output?: unknown;
  error?: string;
}

export const echoHandler: HandlerFn = (input) => ({ echo: input });

/** The default handler as a generator: n chunks `{chunk: k, of: n, echo: input}`, one per turn of the event loop. */
export function streamingEchoHandler(n: number): HandlerFn {
  return async function* (input) {
    for (let k = 1; k <= n; k++) {
      await new Promise<void>((r) => setImmediate(r));
      yield { chunk: k, of: n, echo: input };
    }
  };
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** runpod-python's error payload for an exception raised by the handler. */
export function errorPayload(err: unknown): string {
  const e = err instanceof Error ? err : undefined;
  return JSON.stringify({
    error_type: e?.name ?? typeof err,
    error_message: e ? e.message : String(err),
    error_traceback: e?.stack ?? '',
  });
}

export interface StreamOptions {
  /** Each chunk a generator handler yields, in order. */
  onChunk: (output: unknown) => void;
  /** runpod-python's return_aggregate_stream: the job's output is the list of chunks. */
  aggregate: boolean;
}

export async function runHandler(
  handler: HandlerFn,
  input: unknown,
  ctx: { jobId: string; attempt: number },
  stream?: StreamOptions,
): Promise<Outcome> {
  let result: unknown;
  try {
    result = await handler(input, ctx);
    if (isAsyncIterable(result)) {
      const all: unknown[] = [];
      for await (const chunk of result) {
        stream?.onChunk(chunk);
        if (stream?.aggregate) all.push(chunk);
      }
      return stream?.aggregate && all.length > 0 ? { status: 'COMPLETED', output: all } : { status: 'COMPLETED' };
    }
  } catch (err) {
    return { status: 'FAILED', error: errorPayload(err) };
  }
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && 'error' in result) {
    const msg = (result as { error: unknown }).error;
    // runpod-python pops "error" and fails the job only when it is set (truthy).
    if (msg !== undefined && msg !== null && msg !== '' && msg !== false) {
      return { status: 'FAILED', error: typeof msg === 'string' ? msg : JSON.stringify(msg) };
    }
  }
  return result === undefined || result === null ? { status: 'COMPLETED' } : { status: 'COMPLETED', output: result };
}

/** Unscaled execution ms for one job. */
export function drawExecutionMs(opt: ExecutionMsOption, input: unknown, rng: Rng): number {
  let ms: number;
  if (typeof opt === 'number') ms = opt;
  else if (typeof opt === 'function') ms = opt(input, rng);
  else ms = opt.min + rng() * (opt.max - opt.min);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
