/** Small node:http helpers: one answer per exchange, optionally held back by the `slow` fault. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Timers } from './timers.js';

export interface Target {
  segments: string[];
  query: URLSearchParams;
}

export function parseTarget(url: string | undefined): Target {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '') continue;
    try {
      segments.push(decodeURIComponent(s));
    } catch {
      segments.push(s);
    }
  }
  return { segments, query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

export type BodyResult = { ok: true; text: string } | { ok: false; tooLarge: true };

/**
 * Read the whole body. Over `limit` bytes the rest is read and discarded (answering 413 before the
 * client finished sending makes many clients see a reset instead of the 413).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else chunks.push(c);
    });
    req.on('end', () => resolve(tooLarge ? { ok: false, tooLarge: true } : { ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', () => resolve({ ok: true, text: '' }));
  });
}

export class Exchange {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly timers: Timers,
    /** Real ms to hold the answer back (the `slow` fault). */
    private readonly slowMs: number,
  ) {}

  json(status: number, body: unknown, headers?: Record<string, string>): void {
    this.send(status, 'application/json', JSON.stringify(body), headers);
  }

  send(status: number, contentType: string, text: string, headers?: Record<string, string>): void {
    const write = () => {
      const res = this.res;
      if (res.headersSent || res.destroyed || res.writableEnded) return;
      res.writeHead(status, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    };
    if (this.slowMs > 0) this.timers.after(this.slowMs, write);
    else write();
  }

  get gone(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }
}

export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';
