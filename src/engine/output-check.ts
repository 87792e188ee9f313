/**
 * What a terminal job means for its row: RunPod's status, then the output checks. Pure: decided from the /status
 * answer and the options alone.
 *
 * A COMPLETED job is not a success by itself (RUNPOD_API.md, "What real workers return"):
 * - **Empty output.** RunPod reports COMPLETED with no output when the worker's result POST was refused
 *   (runpod-python#309, worker-comfyui#167), and a generator handler without `return_aggregate_stream` leaves its data
 *   on /stream/{id} only. Empty is: no `output` key, `null`, `""`, `[]`, `{}`, or a one-element list whose element is
 *   one of those (`[null]`, `[{}]`: an aggregated generator that yielded nothing useful). `0` and `false` are values, not
 *   holes. The attempt failed and is retryable: the next attempt may well deliver (a refused POST is transient).
 * - **An error inside the output.** Workers put errors into a COMPLETED output: worker-vllm yields
 *   `[{"error": {"message", "type": "worker_error"}}]`, the infinity embedding worker returns
 *   `{"object": "error", "message", "code": 400}`, a handler may return `{"error": "…"}`. Looked at: the top level, or
 *   the only element of a one-element list — `error` set (truthy, as runpod-python tests a handler's `error`: so `null`, `false`, `""`,
 *   `0`, `[]`, `{}` are unset) or `"object": "error"`. Not looked at: a field named `error` deeper inside the data
 *   (`{"data": [{"error": …}]}`, `{"result": {"error": …}}`), a list of several results, an output that is a JSON
 *   *string*: those are the handler's data, and calling them failures would throw results away.
 *   Retryable like a FAILED job (within --retries), unless the error carries a 4xx-like code (`code`, `status` or
 *   `status_code` 400–499, except 408/425/429 which classify.ts also retries): the worker judged the input itself bad,
 *   so running it again gives the same answer and bills again.
 */
import type { RowErrorCode } from '../core/errors.js';
import type { StatusResponse } from '../core/wire.js';

/** Job statuses the checks record in the jobs table (beside RunPod's, LOST and EXPIRED): the report counts them. */
export const EMPTY_OUTPUT = 'EMPTY_OUTPUT';
export const OUTPUT_ERROR = 'OUTPUT_ERROR';

export interface OutputCheckOptions {
  /** A COMPLETED job with an empty output is a success (handlers that legitimately return nothing). @default false */
  acceptEmptyOutput?: boolean;
}

/** What a check caught in a COMPLETED job's output. */
export type OutputProblem =
  | { kind: 'empty'; code: 'RPB_EMPTY_OUTPUT' /** The output as found: 'no output', 'null', '[]', … */; shape: string }
  | {
      kind: 'error';
      code: 'RPB_OUTPUT_ERROR';
      /** The error as stored (errors.jsonl, the report's groups): the worker's string, or its error object as JSON. */
      error: string;
      /** The error's message, as a person reads it. */
      message: string;
      /** A 4xx-like code the worker gave, else null. */
      httpStatus: number | null;
      retryable: boolean;
    };

/** The checks on a terminal /status answer: null when nothing is wrong with it (or it is not COMPLETED). */
export function checkOutput(s: Pick<StatusResponse, 'status' | 'output'>, o: OutputCheckOptions = {}): OutputProblem | null {
  if (s.status !== 'COMPLETED') return null;
  const out = s.output;
  if (isEmptyOutput(out)) {
    return o.acceptEmptyOutput
      ? null
      : { kind: 'empty', code: 'RPB_EMPTY_OUTPUT', shape: out === undefined ? 'no output' : JSON.stringify(out) };
  }
  const target = Array.isArray(out) && out.length === 1 ? out[0] : out;
  if (!isRecord(target)) return null;
  if (truthy(target.error)) return errorProblem(target.error, target);
  if (target.object === 'error') return errorProblem(target, target);
  return null;
}

/** How a terminal job ends for its row, once RunPod's status and the output checks are taken together. */
export interface JobFate {
  /** The row's status if this attempt is its last: RunPod's, or FAILED when a check caught the output. */
  status: string;
  /** The job's status in the jobs table: RunPod's, or EMPTY_OUTPUT / OUTPUT_ERROR when a check caught it. */
  jobStatus: string;
  /** The error to store: RunPod's (as text), the check's, or null. */
  error: string | null;
  /** The row's error code when a check caught the output (core/errors.ts RowErrorCode), else null. */
  code: Extract<RowErrorCode, 'RPB_EMPTY_OUTPUT' | 'RPB_OUTPUT_ERROR'> | null;
  /** The row may run again (within --retries): FAILED, TIMED_OUT, an empty output, a retryable output error. */
  retryable: boolean;
}

export function jobFate(s: Pick<StatusResponse, 'status' | 'output' | 'error'>, o: OutputCheckOptions = {}): JobFate {
  const p = checkOutput(s, o);
  if (p === null) {
    const error = s.error === undefined || s.error === null ? null : typeof s.error === 'string' ? s.error : JSON.stringify(s.error);
    return { status: s.status, jobStatus: s.status, error, code: null, retryable: s.status === 'FAILED' || s.status === 'TIMED_OUT' };
  }
  if (p.kind === 'empty') return { status: 'FAILED', jobStatus: EMPTY_OUTPUT, error: emptyMessage(p.shape), code: p.code, retryable: true };
  return { status: 'FAILED', jobStatus: OUTPUT_ERROR, error: p.error, code: p.code, retryable: p.retryable };
}

/** The error an empty output is stored with: what happened, the two usual causes, and the way out. */
export function emptyMessage(shape: string): string {
  return (
    `empty output: the job COMPLETED with ${shape === 'no output' ? 'no output' : `output ${shape}`}. ` +
    'RunPod reports COMPLETED when the worker could not deliver its result (its result POST was refused), and a generator ' +
    'handler without return_aggregate_stream leaves its output on /stream/{id} only (run with --stream to read it, ' +
    'or set return_aggregate_stream=True in the worker). ' +
    'If the handler legitimately returns nothing, run with --accept-empty-output'
  );
}

function errorProblem(part: unknown, holder: Record<string, unknown>): OutputProblem {
  const inner = isRecord(part) ? part : null;
  const message =
    typeof part === 'string'
      ? part
      : inner
        ? (firstString(inner.message, inner.error_message, typeof inner.error === 'string' ? inner.error : undefined, inner.detail) ??
          JSON.stringify(inner))
        : JSON.stringify(part);
  const httpStatus = statusOf(inner) ?? statusOf(holder);
  const retryable = httpStatus === null || !(httpStatus >= 400 && httpStatus < 500) || RETRYABLE_4XX.has(httpStatus);
  return {
    kind: 'error',
    code: 'RPB_OUTPUT_ERROR',
    error: typeof part === 'string' ? part : JSON.stringify(part),
    message,
    httpStatus,
    retryable,
  };
}

/** Request timeout, too early, rate limited: transient even when a worker says them (classify.ts retries them too). */
const RETRYABLE_4XX = new Set([408, 425, 429]);

/** An HTTP-like status a worker put on its error (`code: 400`, `"status_code": "422"`), else null. */
function statusOf(o: Record<string, unknown> | null): number | null {
  if (!o) return null;
  for (const v of [o.code, o.status, o.status_code]) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : Number.NaN;
    if (Number.isInteger(n) && n >= 100 && n <= 599) return n;
  }
  return null;
}

function firstString(...vs: unknown[]): string | undefined {
  for (const v of vs) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** No output at all: absent, null, "", [], {}, or a one-element list of one of those. */
export function isEmptyOutput(out: unknown): boolean {
  return isEmpty(out) || (Array.isArray(out) && out.length === 1 && isEmpty(out[0]));
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return isRecord(v) && Object.keys(v).length === 0;
}

/** Python's truthiness, as runpod-python tests a handler's `error`. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isRecord(v)) return Object.keys(v).length > 0;
  return true;
}
