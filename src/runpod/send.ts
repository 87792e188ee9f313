import type { Dispatcher } from 'undici';
import { noteFailure } from './stale-socket.js';

export interface SendOptions {
  origin: string;
  /** Path and query, starting with '/'. */
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Longest wait for the headers, then between body chunks; 0: none. */
  timeoutMs: number;
}

export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP request through undici's `dispatch`, the body collected into a string. It does what
 * `undici.request(url, …)` + `body.text()` do without a URL parse and a Readable stream per answer: that pair cost
 * about 45 µs of CPU per job of a zero-latency run (bench/overhead.mjs), a fifth of the client's budget.
 * Rejects with undici's own errors (UND_ERR_*, ECONNRESET…), or with the signal's reason when aborted.
 */
export function send(dispatcher: Dispatcher, o: SendOptions): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const signal = o.signal;
    if (signal?.aborted) return reject(signal.reason);
    let controller: { abort(reason?: unknown): void } | undefined;
    let settled = false;
    const onAbort = () => {
      // The request may still wait for a socket: it is aborted as soon as it gets one.
      controller?.abort(signal!.reason);
      settle(signal!.reason);
    };
    const settle = (err: unknown, answer?: Answer) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (answer) resolve(answer);
      else reject(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let statusCode = 0;
    let headers: Answer['headers'] = {};
    let chunks: Buffer[] = [];
    try {
      dispatcher.dispatch(
        {
          origin: o.origin,
          path: o.path,
          method: o.method,
          headers: o.headers,
          body: o.body ?? null,
          headersTimeout: o.timeoutMs,
          bodyTimeout: o.timeoutMs,
        },
        {
          onRequestStart(ctl) {
            controller = ctl;
            if (settled) ctl.abort(signal?.reason);
          },
          onResponseStart(_ctl, code, h) {
            // 1xx answers come before the real one: keep only the last.
            statusCode = code;
            headers = h;
            chunks = [];
          },
          onResponseData(_ctl, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
            settle(undefined, { statusCode, headers, text });
          },
          onResponseError(_ctl, err) {
            // No status line yet: no byte of the answer came (a stale kept-alive socket shows so: stale-socket.ts).
            noteFailure(err, statusCode !== 0);
            settle(err);
          },
        },
      );
    } catch (err) {
      settle(err);
    }
  });
}
