/** Real-HTTP helpers for tests that talk to the emulator with undici. */
import { request } from 'undici';

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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll fn until pred holds (or throw after timeoutMs). */
export async function pollUntil<T>(fn: () => Promise<T>, pred: (v: T) => boolean, timeoutMs = 5000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`pollUntil: condition not met after ${timeoutMs} ms; last value: ${JSON.stringify(v)}`);
    await sleep(everyMs);
  }
}
