import type { Dispatcher } from 'undici';
// undici's index loads all of undici (fetch, WebSocket, caches, mocks): 20 MB of RSS and ~0.1 s of CPU at start-up.
// The client needs its Pool only (11 MB). undici has no "exports" map, so this module is part of what it publishes.
import Pool from 'undici/lib/dispatcher/pool.js';
import { DEFAULTS } from '../core/defaults.js';
import { HttpError, NetworkError, RunpodBatchError } from '../core/errors.js';
import { RUNPOD, type HealthResponse, type RunResponse, type StatusResponse, type StreamResponse } from '../core/wire.js';
import { parseRetryAfter } from './retry-after.js';
import { redact } from '../core/redact.js';
import { send, type Answer } from './send.js';
import { AnswerLane, LARGE_ANSWER_CHARS } from './answer-lane.js';
import { connectorTaggingResets, wasStaleSocket } from './stale-socket.js';

export type Op = 'run' | 'runsync' | 'status' | 'status-sync' | 'stream' | 'cancel' | 'retry' | 'purge-queue' | 'health';

export interface ClientOptions {
  /** e.g. https://api.runpod.ai/v2, or http://localhost:8000 for runpod-python's local test server. */
  baseUrl: string;
  /** Endpoint id. null/undefined: the base URL is the endpoint itself (local test server). */
  endpointId?: string | null;
  /** Sent as `Authorization: Bearer <key>`; never logged. */
  apiKey?: string | null;
  /**
   * undici dispatcher for every call. When absent, two keep-alive Pools for the API's origin are made: one for /run
   * (and the other short calls), one for /status and its long polls, so a /run never waits for a socket behind
   * status calls.
   */
  dispatcher?: Dispatcher;
  /** Time to wait for an answer (headers and body) on short operations. @default 30_000 (DEFAULTS.timeoutMs) */
  timeoutMs?: number;
  /** Most connections for status calls (long polls hold one each). @default 400 (RunPod's concurrent /status cap) */
  connections?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** No client-side timeout: the call may legitimately take as long as a handler runs (local test server). */
  noTimeout?: boolean;
}

export interface RunpodClient {
  readonly baseUrl: string;
  run(bodyJson: string, opts?: CallOptions): Promise<RunResponse>;
  status(jobId: string, opts?: CallOptions): Promise<StatusResponse>;
  /** Long poll: answers as soon as the job is terminal, or after `waitMs` with its current status. */
  statusSync(jobId: string, waitMs: number, opts?: CallOptions): Promise<StatusResponse>;
  /** A generator handler's chunks since the last call, and the job's status. */
  stream(jobId: string, opts?: CallOptions): Promise<StreamResponse>;
  cancel(jobId: string, opts?: CallOptions): Promise<StatusResponse>;
  retry(jobId: string, opts?: CallOptions): Promise<RunResponse>;
  health(opts?: CallOptions): Promise<HealthResponse>;
  /** 'GET' until a server answers 405 to a GET /status, then 'POST' (runpod-python's local test server). */
  readonly statusMethod: 'GET' | 'POST';
  close(): Promise<void>;
}

/** A client over undici for one endpoint. Each call is one HTTP request: retrying is the scheduler's business. */
export function createClient(opts: ClientOptions): RunpodClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const root = opts.endpointId ? `${base}/${encodeURIComponent(opts.endpointId)}` : base;
  // Parsed once: each request is sent as origin + path, with no URL parse of its own.
  const rootUrl = new URL(root);
  const origin = rootUrl.origin;
  const prefix = rootUrl.pathname.replace(/\/+$/, '');
  // One origin: Pools of its own (an Agent would only look the Pool up for each request). /run gets a Pool apart so
  // that it never queues for a socket behind hundreds of long polls; RunPod allows 200 concurrent /run.
  // Their connector tags socket errors with the bytes the socket had received: a reset of a reused socket is then
  // retried at once as a stale socket, not counted as a failure (stale-socket.ts).
  const own = opts.dispatcher
    ? null
    : {
        short: new Pool(origin, {
          connections: RUNPOD.maxConcurrentRuns,
          keepAliveTimeout: 30_000,
          pipelining: 1,
          connect: connectorTaggingResets(),
        }),
        status: new Pool(origin, {
          connections: opts.connections ?? RUNPOD.maxConcurrentStatus,
          keepAliveTimeout: 30_000,
          pipelining: 1,
          connect: connectorTaggingResets(),
        }),
      };
  const shortDispatcher: Dispatcher = opts.dispatcher ?? own!.short;
  const statusDispatcher: Dispatcher = opts.dispatcher ?? own!.status;
  const lane = new AnswerLane();

  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const secret = opts.apiKey ?? null;
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (secret) headers.authorization = `Bearer ${secret}`;
  let statusMethod: 'GET' | 'POST' = 'GET';

  async function call<T>(
    op: Op,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    co: CallOptions = {},
    timeout = timeoutMs,
  ): Promise<T> {
    const url = root + path;
    let res: Answer;
    try {
      res = await send(op === 'status' || op === 'status-sync' || op === 'stream' ? statusDispatcher : shortDispatcher, {
        origin,
        path: prefix + path,
        method,
        headers,
        body,
        signal: co.signal,
        timeoutMs: co.noTimeout ? 0 : timeout,
      });
    } catch (err) {
      if (co.signal?.aborted) throw abortError(err);
      throw new NetworkError(op, method, url, scrub(err, secret), wasStaleSocket(err));
    }
    // A large answer is parsed in its turn, after the /run answers that are ready (answer-lane.ts).
    if (res.text.length > LARGE_ANSWER_CHARS) await lane.turn(res.text.length);
    let text = res.text;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new HttpError(op, method, url, res.statusCode, redact(text, secret), parseRetryAfter(res.headers['retry-after'], Date.now()));
    }
    // A server may echo the key back inside a job's output or error: it must not reach the state or the results.
    if (secret && text.includes(secret)) text = text.split(secret).join('[REDACTED]');
    try {
      return JSON.parse(text) as T;
    } catch {
      // A 2xx that is not JSON (a proxy's HTML page, a cut body): treat like a 502, retryable.
      throw new HttpError(op, method, url, 502, `invalid JSON in a ${res.statusCode} answer: ${redact(text.slice(0, 200), secret)}`);
    }
  }

  return {
    baseUrl: root,
    get statusMethod() {
      return statusMethod;
    },
    run: (bodyJson, co) => call<RunResponse>('run', 'POST', '/run', bodyJson, co),
    async status(jobId, co) {
      const path = `/status/${encodeURIComponent(jobId)}`;
      if (statusMethod === 'GET') {
        try {
          return await call<StatusResponse>('status', 'GET', path, undefined, co);
        } catch (err) {
          // runpod-python's local test server serves status by POST only and answers 405 to GET.
          if (!(err instanceof HttpError && err.status === 405)) throw err;
          statusMethod = 'POST';
        }
      }
      return call<StatusResponse>('status', 'POST', path, undefined, co);
    },
    statusSync: (jobId, waitMs, co) =>
      // The server holds the answer up to waitMs: the client timeout starts after that.
      call<StatusResponse>(
        'status-sync',
        'GET',
        `/status-sync/${encodeURIComponent(jobId)}?wait=${Math.round(waitMs)}`,
        undefined,
        co,
        timeoutMs === 0 ? 0 : waitMs + timeoutMs,
      ),
    stream: (jobId, co) => call<StreamResponse>('stream', 'GET', `/stream/${encodeURIComponent(jobId)}`, undefined, co),
    cancel: (jobId, co) => call<StatusResponse>('cancel', 'POST', `/cancel/${encodeURIComponent(jobId)}`, undefined, co),
    retry: (jobId, co) => call<RunResponse>('retry', 'POST', `/retry/${encodeURIComponent(jobId)}`, undefined, co),
    health: (co) => call<HealthResponse>('health', 'GET', '/health', undefined, co),
    async close() {
      if (own) await Promise.all([own.short.close(), own.status.close()]);
    },
  };
}

function abortError(cause: unknown): RunpodBatchError {
  return new RunpodBatchError('RPB_ABORTED', 'aborted', { cause });
}

/** Network errors may carry request options in their properties; keep only name, code and a redacted message. */
function scrub(err: unknown, secret: string | null): Error {
  if (!(err instanceof Error)) return new Error(redact(String(err), secret));
  const clean = new Error(redact(err.message, secret));
  clean.name = err.name;
  (clean as { code?: string }).code = (err as { code?: string }).code;
  return clean;
}
