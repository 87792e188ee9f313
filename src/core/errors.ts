/**
 * One root error class with a stable `code` (like undici's UND_ERR_*). The CLI maps codes to exit codes
 * in one place; the store keeps the code, never the class.
 */
export type ErrorCode =
  | 'RPB_USAGE' // bad flags or options
  | 'RPB_CONFIG' // missing key/endpoint, unusable configuration
  | 'RPB_INPUT' // the input file is missing or has invalid rows
  | 'RPB_STATE' // state.sqlite is unusable (corrupt, foreign, locked, other endpoint)
  | 'RPB_AUTH' // 401/403 from RunPod
  | 'RPB_ENDPOINT' // 404 on /run: wrong endpoint id
  | 'RPB_HTTP' // an HTTP answer we could not use
  | 'RPB_NETWORK' // socket reset, timeout, connection refused
  | 'RPB_ABORTED'; // interrupted by SIGINT/SIGTERM

/**
 * Why a row ended without a result, stored in the row (errors.jsonl `errorCode`) beside the error text; never thrown.
 * A row that ended FAILED, TIMED_OUT or CANCELLED with RunPod's own error has none.
 */
export type RowErrorCode =
  | 'RPB_BAD_REQUEST' // /run refused the row's body (400, 413, 422)
  | 'RPB_LOST' // the row's job was lost or expired (404 on /status) more than 5 times (maxReruns)
  | 'RPB_EMPTY_OUTPUT' // every attempt COMPLETED with an empty output (engine/output-check.ts)
  | 'RPB_OUTPUT_ERROR'; // the job COMPLETED with an error inside its output (engine/output-check.ts)

export class RunpodBatchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunpodBatchError';
    this.code = code;
  }
}

export class UsageError extends RunpodBatchError {
  constructor(message: string) {
    super('RPB_USAGE', message);
    this.name = 'UsageError';
  }
}

export class ConfigError extends RunpodBatchError {
  constructor(message: string) {
    super('RPB_CONFIG', message);
    this.name = 'ConfigError';
  }
}

export class StateError extends RunpodBatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RPB_STATE', message, options);
    this.name = 'StateError';
  }
}

/** One problem in an input file, located as `file:line`. */
export interface InputIssue {
  file: string;
  line: number;
  message: string;
}

/** The input file cannot be used. `issues` holds the first problems found (at most 20), each with file:line. */
export class InputError extends RunpodBatchError {
  readonly issues: InputIssue[];
  readonly totalIssues: number;
  constructor(issues: InputIssue[], totalIssues = issues.length, message?: string) {
    const text =
      message ??
      issues.map((i) => `${i.file}:${i.line}: ${i.message}`).join('\n') +
        (totalIssues > issues.length ? `\n… and ${totalIssues - issues.length} more problems` : '');
    super('RPB_INPUT', text);
    this.name = 'InputError';
    this.issues = issues;
    this.totalIssues = totalIssues;
  }
}

/** An HTTP answer from RunPod (or the emulator) that was not a success. */
export class HttpError extends RunpodBatchError {
  readonly status: number;
  readonly op: string;
  /** Seconds from a Retry-After header, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  readonly body: string;
  constructor(op: string, method: string, url: string, status: number, body: string, retryAfterMs?: number) {
    const code: ErrorCode = status === 401 || status === 403 ? 'RPB_AUTH' : 'RPB_HTTP';
    super(code, `${method} ${url}: HTTP ${status}${body ? ` ${truncate(body, 200)}` : ''}`);
    this.name = 'HttpError';
    this.status = status;
    this.op = op;
    this.retryAfterMs = retryAfterMs;
    this.body = body;
  }
}

export class NetworkError extends RunpodBatchError {
  readonly op: string;
  constructor(
    op: string,
    method: string,
    url: string,
    cause: unknown,
    /** It failed on a kept-alive socket the server had closed, before any byte of an answer (runpod/stale-socket.ts). */
    readonly staleSocket = false,
  ) {
    const detail = cause instanceof Error ? `${(cause as { code?: string }).code ?? cause.name}: ${cause.message}` : String(cause);
    super('RPB_NETWORK', `${method} ${url}: ${detail}`, { cause });
    this.name = 'NetworkError';
    this.op = op;
  }
}

function truncate(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n)}…` : flat;
}
