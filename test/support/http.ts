/** Real-HTTP helpers for tests that talk to the emulator with undici. */
import { request } from 'undici';
import { waitFor } from './wait.js';

export interface Answer<T = any> {
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

export async function call<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, o: CallOptions = {}): Promise<Answer<T>> {
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
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, body: parsed };
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
