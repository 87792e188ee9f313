// The HTTP transport under the RunPod client (src/runpod/send.ts), against a real server on 127.0.0.1.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../../src/runpod/send.js';
import { waitFor } from '../support/wait.js';
import { listenTracked } from '../support/http.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function serve(handler: Handler): Promise<{ origin: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, res, body);
    });
  });
  const port = await listenTracked(server, cleanups);
  return { origin: `http://127.0.0.1:${port}`, seen };
}

function agent(connections = 8): Agent {
  const a = new Agent({ connections, keepAliveTimeout: 1000 });
  cleanups.push(() => a.destroy());
  return a;
}

const headers = { 'content-type': 'application/json' };

describe('send', () => {
  it('sends method, path, query and body; returns status, headers and the body text', async () => {
    const { origin } = await serve((req, res, body) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
    });
    const a = await send(agent(), {
      origin,
      path: '/v2/ep/run?wait=5',
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer k' },
      body: '{"input":{"x":1}}',
      timeoutMs: 5000,
    });
    expect(a.statusCode).toBe(429);
    expect(a.headers['retry-after']).toBe('3');
    expect(JSON.parse(a.text)).toEqual({ method: 'POST', url: '/v2/ep/run?wait=5', body: '{"input":{"x":1}}', auth: 'Bearer k' });
  });

  it('decodes UTF-8 split across chunks', async () => {
    const text = JSON.stringify({ output: 'ünïcødé 🚀 '.repeat(50) });
    const bytes = Buffer.from(text, 'utf8');
    const cut = bytes.indexOf(Buffer.from('🚀')) + 2; // inside the 4-byte emoji
    const { origin } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(bytes.subarray(0, cut));
      setTimeout(() => res.end(bytes.subarray(cut)), 30);
    });
    const a = await send(agent(), { origin, path: '/s', method: 'GET', headers, timeoutMs: 5000 });
    expect(a.text).toBe(text);
  });

  it('an abort while the request waits for a socket rejects at once, and the request is never sent', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { origin, seen } = await serve((req, res) => {
      if (req.url === '/slow') void held.then(() => res.end('{}'));
      else res.end('{}');
    });
    const one = agent(1);
    const first = send(one, { origin, path: '/slow', method: 'GET', headers, timeoutMs: 5000 });
    await waitFor(() => seen.length === 1, 'the server holding /slow on the only socket');
    const ac = new AbortController();
    const second = send(one, { origin, path: '/queued', method: 'GET', headers, timeoutMs: 5000, signal: ac.signal });
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(second).rejects.toBe(reason);
    release();
    expect((await first).statusCode).toBe(200);
    // A request queued after it on the same socket is served: the aborted one, queued before it, was dropped.
    expect((await send(one, { origin, path: '/after', method: 'GET', headers, timeoutMs: 5000 })).statusCode).toBe(200);
    expect(seen).toEqual(['GET /slow', 'GET /after']);
  });

  it('an abort mid-request rejects and closes the request on the server side', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => (closed = r));
    const { origin, seen } = await serve((_req, res) => {
      res.on('close', () => closed());
    });
    const ac = new AbortController();
    const p = send(agent(), { origin, path: '/hang', method: 'GET', headers, timeoutMs: 5000, signal: ac.signal });
    await waitFor(() => seen.length === 1, 'the server holding the request');
    ac.abort(new Error('bye'));
    await expect(p).rejects.toThrow('bye');
    await serverSawClose;
  });

  it('an already aborted signal sends nothing', async () => {
    const { origin, seen } = await serve((_req, res) => res.end('{}'));
    const ac = new AbortController();
    ac.abort(new Error('early'));
    const a = agent(1);
    await expect(send(a, { origin, path: '/x', method: 'GET', headers, timeoutMs: 5000, signal: ac.signal })).rejects.toThrow('early');
    // The next request on the same (single) socket is the first the server sees.
    expect((await send(a, { origin, path: '/y', method: 'GET', headers, timeoutMs: 5000 })).statusCode).toBe(200);
    expect(seen).toEqual(['GET /y']);
  });

  it('times out on headers that do not come', async () => {
    const { origin } = await serve(() => {
      /* never answers */
    });
    const err = await send(agent(), { origin, path: '/hang', method: 'GET', headers, timeoutMs: 150 }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('rejects when the connection drops mid-body, never resolving a cut answer', async () => {
    const { origin } = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"status":"COMP', () => req.socket.destroy()); // once the head and a part of the body are out
    });
    const err = await send(agent(), { origin, path: '/cut', method: 'GET', headers, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
  });
});
