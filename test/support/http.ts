/** Real-HTTP helpers for tests that talk to the emulator with undici. */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { request } from 'undici';
import { waitFor } from './wait.js';

/**
 * The fields of the emulator's JSON answers, read by the tests: which of them an answer has depends on the route
 * (run/status: id, status, times, output, error; health: jobs, workers; purge-queue: removed; /_emulator/stats:
 * the counters; the local dialect's 422: detail). A test that reads an absent one gets undefined and fails its check.
 */
export interface EmulatorBody {
  id: string;
  status: string;
  delayTime: number;
  executionTime: number;
  workerId: string;
  output: unknown;
  error: string;
  stream: unknown[];
  jobs: { completed: number; failed: number; inProgress: number; inQueue: number; retried: number };
  workers: { idle: number; running: number; initializing: number; ready: number; throttled: number; unhealthy: number };
  removed: number;
  detail: unknown;
  jobsCreated: number;
  requests: Record<string, number>;
  submissionsByInput: Record<string, number>;
}

export interface Answer<T = EmulatorBody> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: T;
}

export interface CallOptions {
  /** Bearer key; null = no Authorization header. @default 'test-key' */
  key?: string | null;
  /** JSON-encoded as the body. */
  json?: unknown;
  /** Sent as-is (takes precedence over json). */
  raw?: string | Buffer;
  /** Abort the request after this many ms (AbortSignal.timeout). */
  timeoutMs?: number;
}

export async function call<T = EmulatorBody>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  o: CallOptions = {},
): Promise<Answer<T>> {
  const key = o.key === undefined ? 'test-key' : o.key;
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | Buffer | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.json !== undefined) body = JSON.stringify(o.json);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(url, {
    method,
    headers,
    body,
    signal: o.timeoutMs === undefined ? undefined : AbortSignal.timeout(o.timeoutMs),
  });
  const text = await res.body.text();
  let parsed: T | undefined;
  try {
    parsed = JSON.parse(text) as T;
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, body: parsed as T };
}

/** Calls fn until pred holds for its answer, and returns that answer (no deadline: the test's timeout bounds it). */
export async function pollUntil<T>(fn: () => Promise<T>, pred: (v: T) => boolean, what = 'the polled answer to match'): Promise<T> {
  let last: T | undefined;
  await waitFor(async () => {
    last = await fn();
    return pred(last);
  }, what);
  return last as T;
}

/**
 * Listens on 127.0.0.1 (a free port) and tracks the server's sockets; `cleanups` gets the closing step (every socket
 * destroyed, then the server closed). Returns the port. `onSocket` sees each new connection.
 */
export async function listenTracked(
  server: Server,
  cleanups: (() => Promise<void>)[],
  onSocket: (s: Socket) => void = () => {},
): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    onSocket(s);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}
