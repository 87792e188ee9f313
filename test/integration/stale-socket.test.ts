// Stale kept-alive sockets (src/runpod/stale-socket.ts, the requester's stale-socket retry): the real RunPod client
// (its own undici Pools) and the real Requester against a real HTTP server on 127.0.0.1 that closes or resets a
// kept-alive socket when the next request arrives on it — what a client sees when the server's keep-alive timeout
// closed a pooled socket while the client's event loop was too busy to notice.
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NetworkError } from '../../src/core/errors.js';
import { RequestFailed } from '../../src/engine/classify.js';
import { systemClock } from '../../src/engine/clock.js';
import { Requester, STALE_SOCKET_RETRIES } from '../../src/engine/requester.js';
import { createClient, type RunpodClient } from '../../src/runpod/client.js';
import { listenTracked } from '../support/http.js';

/** What the server does with a request: answer it, close its socket (FIN), or reset it (RST), before any byte. */
type Fate = 'answer' | 'close' | 'reset';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A /run endpoint; `fate(n)` decides for the nth request (1-based) on its socket. Counts what it did. */
async function serve(fate: (nOnSocket: number) => Fate) {
  const did = { answer: 0, close: 0, reset: 0, sockets: 0 };
  const perSocket = new WeakMap<Socket, number>();
  let jobs = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      const f = fate(n);
      did[f]++;
      if (f === 'close') req.socket.destroy();
      else if (f === 'reset') req.socket.resetAndDestroy();
      else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: `job-${++jobs}`, status: 'IN_QUEUE' }));
      }
    });
  });
  // The server never closes an idle socket itself here: the fates above stand in for that, at a known moment.
  server.keepAliveTimeout = 60_000;
  const port = await listenTracked(server, cleanups, () => {
    did.sockets++;
  });
  const client = createClient({ baseUrl: `http://127.0.0.1:${port}/v2`, endpointId: 'ep', apiKey: 'k' });
  cleanups.push(() => client.close());
  return { client, did };
}

function requester(maxConsecutiveFailures: number): Requester {
  return new Requester(systemClock, () => 0.5, {
    maxConsecutiveFailures,
    backoff: { baseMs: 1, factor: 1, maxMs: 1, maxRetryAfterMs: 1, jitter: 0 },
  });
}

const run = (r: Requester, client: RunpodClient) =>
  r.request('run', 'run', (signal) => client.run('{"input":{}}', { signal }), new AbortController().signal);

describe('a kept-alive socket the server has closed', () => {
  it.each([
    ['closed (undici: other side closed)', 'close'],
    ['reset (ECONNRESET)', 'reset'],
  ] as [string, Fate][])(
    '%s before any answer byte: retried at once on a fresh socket, not counted as a failure',
    async (_name, reused) => {
      // Every request on a reused socket meets a socket the server has given up on.
      const { client, did } = await serve((n) => (n === 1 ? 'answer' : reused));
      // One counted failure would stop the run: every request must get through on the stale-socket retry alone.
      const r = requester(1);
      for (let i = 0; i < 10; i++) expect((await run(r, client)).status).toBe('IN_QUEUE');
      expect(did.answer).toBe(10);
      expect(did[reused]).toBe(9);
      // Each is in the stats as a retry, none as a failure in a row.
      expect(r.ops.run).toMatchObject({ requests: 19, retries: 9 });
      expect(r.retrying()).toBeNull();
    },
  );

  it.each([
    ['closed', 'close'],
    ['reset', 'reset'],
  ] as [string, Fate][])(
    'a fresh socket %s before any answer is no stale socket: it counts toward the failures in a row',
    async (_name, fresh) => {
      const { client, did } = await serve(() => fresh);
      const r = requester(3);
      const err = await run(r, client).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestFailed);
      expect((err as RequestFailed).verdict).toMatchObject({ kind: 'retry', staleSocket: false });
      expect(((err as RequestFailed).cause as NetworkError).staleSocket).toBe(false);
      expect(did[fresh]).toBe(3);
    },
  );

  it('a socket closed after part of the answer is no stale socket either', async () => {
    // The server sends the status line and headers, then closes: a byte of the answer came.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"id":');
      setImmediate(() => res.socket?.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const client = createClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`,
      endpointId: 'ep',
      apiKey: 'k',
    });
    cleanups.push(() => client.close());
    const err = await client.run('{"input":{}}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).staleSocket).toBe(false);
  });
});

describe('the stale-socket retry is bounded', () => {
  it(`${STALE_SOCKET_RETRIES} a request, then such failures count as any other`, async () => {
    // A server whose every reused socket is stale, reached through a dispatcher that always picks a reused one, is
    // what an endless loop would need; the requester sees it as failures marked stale, one after another.
    let calls = 0;
    const r = requester(1);
    const stale = () => {
      calls++;
      return Promise.reject(
        new NetworkError(
          'run',
          'POST',
          'http://127.0.0.1/v2/ep/run',
          Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
          true,
        ),
      );
    };
    const err = await r.request('run', 'run', stale, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestFailed);
    expect(calls).toBe(STALE_SOCKET_RETRIES + 1);
  });
});
