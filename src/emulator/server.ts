/**
 * The HTTP front: node:http server, per-request fault gate (reset, slow, 500, 502, rate limit — in
 * that order, before the request does anything), then the cloud or local dialect.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CloudDialect } from './cloud-dialect.js';
import { FaultInjector } from './faults.js';
import { BAD_GATEWAY_HTML, Exchange, parseTarget, type Target } from './http.js';
import { LocalDialect } from './local-dialect.js';
import { faultProblems, resolveOptions } from './options.js';
import { createStats, statsToJson } from './stats.js';
import { Timers } from './timers.js';
import type { Emulator, EmulatorJob, EmulatorOp, EmulatorOptions, FaultOptions } from './types.js';
import { UsageError } from '../core/errors.js';
import { EmulatedEndpoint } from './endpoint.js';

/** A matched route: its op (for stats, faults, rate limits) and how to serve it. */
interface Routed {
  op: EmulatorOp;
  serve(ex: Exchange): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = resolveOptions(options);
  const stats = createStats();
  const timers = new Timers();
  const jobs = new Map<string, EmulatorJob>();
  const faults = new FaultInjector(opts.seed, stats, opts.faults);
  const emulated = opts.dialect === 'cloud' ? new EmulatedEndpoint(opts, stats, faults, timers, jobs) : undefined;
  const cloud = emulated && new CloudDialect(opts, emulated);
  const local = emulated ? undefined : new LocalDialect(opts, stats, timers, jobs);
  const routeOf = (target: Target): Routed => {
    if (cloud) {
      const r = cloud.route(target);
      return { op: r.op, serve: (ex) => cloud.handle(ex, r, target) };
    }
    const r = (local as LocalDialect).route(target);
    return { op: r.op, serve: (ex) => (local as LocalDialect).handle(ex, r) };
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const target = parseTarget(req.url);
    // Out-of-band counters for out-of-process checks: no auth, no faults, not counted.
    if (target.segments.length === 2 && target.segments[0] === '_emulator' && target.segments[1] === 'stats') {
      new Exchange(req, res, timers, 0).json(200, statsToJson(stats));
      return;
    }
    const route = routeOf(target);
    stats.requests[route.op] = (stats.requests[route.op] ?? 0) + 1;
    const decision = faults.decideRequest(route.op, Date.now());
    if (decision.fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const ex = new Exchange(req, res, timers, decision.slowMs);
    switch (decision.fault?.kind) {
      case 'http500':
        ex.json(500, { error: 'Internal Server Error' });
        return;
      case 'http502':
        ex.send(502, 'text/html', BAD_GATEWAY_HTML);
        return;
      case 'rate-limited': {
        const after = decision.fault.retryAfterSec;
        ex.json(429, { error: 'Too Many Requests' }, after === undefined ? undefined : { 'retry-after': String(after) });
        return;
      }
    }
    route.serve(ex).catch((err: unknown) => {
      ex.json(500, { error: `emulator error: ${err instanceof Error ? err.message : String(err)}` });
    });
  };

  const server = createServer(onRequest);
  // Long polls (/status-sync, /runsync up to 300 s) must not be cut by Node's default request timeout.
  server.requestTimeout = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    baseUrl: opts.dialect === 'cloud' ? `${url}/v2` : url,
    port,
    stats,
    jobs,
    setFaults(f: FaultOptions) {
      const problems = faultProblems(f);
      if (problems.length > 0) throw new UsageError(`invalid faults:\n  ${problems.join('\n  ')}`);
      faults.set(f);
    },
    health() {
      return emulated?.health();
    },
    expireAllResults() {
      emulated?.expireAllResults();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        emulated?.close(); // releases long polls
        timers.clearAll();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
