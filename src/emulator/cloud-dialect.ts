/**
 * The api.runpod.ai/v2 dialect: `/v2/{endpointId}/{op}[/{jobId}]` with Bearer auth (RUNPOD_API.md,
 * "Operations" and "Auth and errors"). runpod-sdk builds `${baseUrl}/${endpointId}/run` with
 * baseUrl = https://api.runpod.ai/v2, so the emulator's baseUrl is `${url}/v2`.
 */
import { isTerminal, RUNPOD } from '../core/wire.js';
import { readBody, type Exchange, type Target } from './http.js';
import type { ResolvedOptions } from './options.js';
import type { EmulatorOp } from './types.js';
import type { EmulatedEndpoint, SubmitOptions } from './endpoint.js';

export interface CloudRoute {
  op: EmulatorOp;
  endpoint?: string;
  id?: string;
  methods: readonly string[];
}

/** RUNPOD_API.md payload limits: /run 10 MB, /runsync 20 MB. */
const RUN_BODY_LIMIT = RUNPOD.maxRunBodyBytes;
const RUNSYNC_BODY_LIMIT = 20 * 1024 * 1024;
/** Shortest ?wait of /status-sync and /runsync (RUNPOD_API.md). */
const MIN_WAIT_MS = 1000;

const POST = ['POST'] as const;
const GET = ['GET'] as const;
/** POST /status is accepted too: the engine falls back to it, as the local dev server only serves POST. */
const GET_POST = ['GET', 'POST'] as const;

export function routeCloud(segments: string[]): CloudRoute {
  if (segments[0] !== 'v2' || segments.length < 3 || segments.length > 4) {
    return { op: 'unknown', endpoint: segments[0] === 'v2' ? segments[1] : undefined, methods: [] };
  }
  const endpoint = segments[1];
  const name = segments[2];
  const id = segments[3];
  const noId = id === undefined;
  switch (name) {
    case 'run':
    case 'runsync':
    case 'purge-queue':
      if (noId) return { op: name, endpoint, methods: POST };
      break;
    case 'health':
      if (noId) return { op: name, endpoint, methods: GET };
      break;
    case 'status':
    case 'status-sync':
    case 'stream':
      if (!noId) return { op: name, endpoint, id, methods: GET_POST };
      break;
    case 'cancel':
    case 'retry':
      if (!noId) return { op: name, endpoint, id, methods: POST };
      break;
  }
  return { op: 'unknown', endpoint, methods: [] };
}

function clampWait(raw: string | null, min: number, max: number, dflt: number): number {
  const n = raw === null ? NaN : Number(raw);
  if (!Number.isFinite(n)) return dflt;
  return Math.min(max, Math.max(min, n));
}

type ParsedRun = { ok: true; input: unknown; policy?: SubmitOptions['policy'] } | { ok: false; error: string };

export function parseRunBody(text: string): ParsedRun {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: 'invalid JSON body' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  if (b.input === undefined) return { ok: false, error: 'missing "input"' };
  if (b.policy === undefined) return { ok: true, input: b.input };
  const p = b.policy;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return { ok: false, error: '"policy" must be an object' };
  const policy: SubmitOptions['policy'] = {};
  for (const k of ['executionTimeout', 'ttl'] as const) {
    const v = (p as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0)) return { ok: false, error: `"policy.${k}" must be a positive number of ms` };
    policy[k] = v;
  }
  return { ok: true, input: b.input, policy };
}

export class CloudDialect {
  private readonly endpoints: ReadonlySet<string>;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly emulated: EmulatedEndpoint,
  ) {
    this.endpoints = new Set(opts.endpoints);
  }

  route(target: Target): CloudRoute {
    return routeCloud(target.segments);
  }

  async handle(ex: Exchange, route: CloudRoute, target: Target): Promise<void> {
    // RUNPOD_API.md: bad key → 401, wrong endpoint id → 404; the key is checked first.
    if (this.opts.apiKey !== null && ex.req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      return ex.json(401, { error: 'Unauthorized' });
    }
    if (route.endpoint !== undefined && !this.endpoints.has(route.endpoint)) {
      return ex.json(404, { error: 'endpoint not found' });
    }
    if (route.op === 'unknown') return ex.json(404, { error: 'not found' });
    if (!route.methods.includes(ex.req.method ?? '')) {
      return ex.json(405, { error: 'method not allowed' }, { allow: route.methods.join(', ') });
    }
    const emulated = this.emulated;
    const id = route.id ?? '';
    switch (route.op) {
      case 'run':
      case 'runsync':
        return this.submit(ex, route.op, target);
      case 'status': {
        const job = emulated.lookup(id);
        return job ? ex.json(200, emulated.view(job)) : notFound(ex);
      }
      case 'status-sync': {
        let job = emulated.lookup(id);
        if (job && !isTerminal(job.status)) {
          await emulated.waitForTerminal(job, clampWait(target.query.get('wait'), MIN_WAIT_MS, RUNPOD.maxLongPollMs, RUNPOD.maxLongPollMs));
          job = emulated.lookup(id);
        }
        return job ? ex.json(200, emulated.view(job)) : notFound(ex);
      }
      case 'stream': {
        const job = emulated.lookup(id);
        return job ? ex.json(200, emulated.streamView(job)) : notFound(ex);
      }
      case 'cancel': {
        const job = emulated.lookup(id);
        if (!job) return notFound(ex);
        emulated.cancel(job); // terminal jobs are left as they were
        return ex.json(200, { id: job.id, status: job.status });
      }
      case 'retry':
        return this.retry(ex, id);
      case 'purge-queue':
        return ex.json(200, { removed: emulated.purgeQueue(), status: 'completed' });
      case 'health':
        return ex.json(200, emulated.health());
    }
  }

  private async submit(ex: Exchange, op: 'run' | 'runsync', target: Target): Promise<void> {
    const body = await readBody(ex.req, op === 'run' ? RUN_BODY_LIMIT : RUNSYNC_BODY_LIMIT);
    if (!body.ok) return ex.json(413, { error: `payload too large (limit ${op === 'run' ? 10 : 20} MB)` });
    const parsed = parseRunBody(body.text);
    if (!parsed.ok) return ex.json(400, { error: parsed.error });
    if (op === 'run') {
      const job = this.emulated.submit(parsed.input, { policy: parsed.policy, allowLost: true });
      return ex.json(200, { id: job.id, status: 'IN_QUEUE' });
    }
    // RUNPOD_API.md: /runsync waits up to ?wait (default 90000, 1000–300000) and keeps its result 1 minute.
    const job = this.emulated.submit(parsed.input, {
      policy: parsed.policy,
      retentionMs: Math.min(RUNPOD.runsyncRetentionMs, this.opts.retentionMs),
      allowLost: false,
    });
    const waitMs = clampWait(target.query.get('wait'), MIN_WAIT_MS, RUNPOD.maxRunsyncWaitMs, RUNPOD.defaultRunsyncWaitMs);
    await this.emulated.waitForTerminal(job, waitMs);
    const cur = this.emulated.lookup(job.id);
    return ex.json(200, cur && isTerminal(cur.status) ? this.emulated.view(cur) : { id: job.id, status: job.status });
  }

  private retry(ex: Exchange, id: string): void {
    const job = this.emulated.lookup(id);
    if (!job) {
      if (this.emulated.known(id)) ex.json(400, { error: 'job result expired; it cannot be retried' });
      else notFound(ex);
      return;
    }
    if (!this.emulated.retry(job)) {
      ex.json(400, { error: `job is ${job.status}; only FAILED or TIMED_OUT jobs can be retried` });
      return;
    }
    ex.json(200, { id: job.id, status: 'IN_QUEUE' });
  }
}

function notFound(ex: Exchange): void {
  ex.json(404, { error: 'job not found' });
}
