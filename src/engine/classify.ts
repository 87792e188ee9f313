import { HttpError, NetworkError, RunpodBatchError } from '../core/errors.js';

/** What to do after a failed request. Pure: decided from the operation and the error alone. */
export type Verdict =
  /**
   * Transient: try the same request again after a backoff. A 429 also slows every request of that operation.
   * `label` is the short cause for the progress line ("ECONNREFUSED", "HTTP 502"); `unreachable` marks a failure
   * to reach the server at all (refused connection, unknown host), which stops a run that never got an answer;
   * `staleSocket` a kept-alive socket the server had closed, before any byte of an answer: retried at once, and not
   * counted as a failure a few times per request (requester.ts).
   */
  | {
      kind: 'retry';
      rateLimited: boolean;
      retryAfterMs: number | undefined;
      reason: string;
      label: string;
      unreachable: boolean;
      staleSocket?: boolean;
    }
  /** Stop the whole run (bad key, wrong endpoint, no server, a bug): retrying cannot help and would burn the file. */
  | { kind: 'fatal'; code: 'RPB_AUTH' | 'RPB_ENDPOINT' | 'RPB_HTTP' | 'RPB_NETWORK'; message: string }
  /** /status answered 404: the job expired (retention, ttl) or was lost. Run the row again. */
  | { kind: 'lost'; reason: string }
  /** The server refused this row's body (400, 413, 422): the row fails, the batch goes on. */
  | { kind: 'bad-row'; message: string }
  /** We aborted it ourselves (SIGINT, shutdown). */
  | { kind: 'aborted' };

/** A request that will not be retried, with what to do about it. Thrown by the engine's request loops. */
export class RequestFailed extends Error {
  constructor(
    readonly verdict: Verdict,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'RequestFailed';
  }
}

/** The verdict of a failed request: the one a request loop gave up with, else classified now. */
export function verdictOf(op: string, err: unknown): Verdict {
  return err instanceof RequestFailed ? err.verdict : classify(op, err);
}

/**
 * Retryable statuses, written out: 408 request timeout, 425 too early, 429 rate limited, and every 5xx
 * (RunPod returns 5xx and drops connections now and then; RUNPOD_API.md "Auth and errors").
 */
const RETRY_STATUSES = new Set([408, 425, 429]);

/**
 * Socket errors that say no server answered at all: nothing listens on the port, the host does not resolve or
 * cannot be routed to, the connection never opened. A reset or a timeout after connecting is not among them: a
 * server is there, and RunPod's edge drops connections now and then.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The socket error code under a NetworkError ("ECONNREFUSED"), or its error name. */
export function networkCode(err: NetworkError): string {
  const cause = err.cause as { code?: unknown; name?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof cause?.name === 'string' ? cause.name : 'network error';
}

export function classify(op: string, err: unknown): Verdict {
  if (err instanceof NetworkError) {
    const code = networkCode(err);
    return {
      kind: 'retry',
      rateLimited: false,
      retryAfterMs: undefined,
      reason: err.message,
      label: code,
      unreachable: UNREACHABLE_CODES.has(code),
      staleSocket: err.staleSocket,
    };
  }
  if (err instanceof HttpError) {
    const s = err.status;
    const retry = (rateLimited: boolean) =>
      ({
        kind: 'retry',
        rateLimited,
        retryAfterMs: err.retryAfterMs,
        reason: `HTTP ${s} on /${op}`,
        label: `HTTP ${s}`,
        unreachable: false,
      }) as const;
    if (s === 429) return retry(true);
    if (s >= 500 || RETRY_STATUSES.has(s)) return retry(false);
    if (s === 401 || s === 403) {
      return { kind: 'fatal', code: 'RPB_AUTH', message: `RunPod refused the API key (HTTP ${s} on /${op}): check RUNPOD_API_KEY` };
    }
    if (s === 404) {
      if (op === 'status' || op === 'cancel' || op === 'retry') return { kind: 'lost', reason: `HTTP 404 on /${op}` };
      // Asked for a job just seen COMPLETED: the endpoint does not serve /stream (no retry of every row would help).
      if (op === 'stream')
        return {
          kind: 'fatal',
          code: 'RPB_ENDPOINT',
          message:
            'HTTP 404 on /stream for a job the endpoint just reported COMPLETED: it does not serve /stream/{id}; run without --stream',
        };
      return {
        kind: 'fatal',
        code: 'RPB_ENDPOINT',
        message: `HTTP 404 on /${op}: no such endpoint at ${err.message.split(' ')[1] ?? ''} (check --endpoint and --base-url)`,
      };
    }
    if (op === 'run' && (s === 400 || s === 413 || s === 422))
      return { kind: 'bad-row', message: `HTTP ${s}: ${err.body || 'bad request'}` };
    return { kind: 'fatal', code: 'RPB_HTTP', message: err.message };
  }
  if (err instanceof RunpodBatchError && err.code === 'RPB_ABORTED') return { kind: 'aborted' };
  // Anything else is a bug of ours or an unknown failure: stop rather than loop.
  return { kind: 'fatal', code: 'RPB_HTTP', message: err instanceof Error ? err.message : String(err) };
}
