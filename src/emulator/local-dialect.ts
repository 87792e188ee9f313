/**
 * runpod-python 1.12's `python handler.py --rp_serve_api` dev server (FastAPI): routes at the root,
 * no auth, no delayTime/executionTime/workerId. /run only stores the job; the handler runs during the
 * first POST /status/{id}, which deletes the job (a second status answers "Job ID not found").
 * GET /status answers 405. The server handles one request at a time: a running handler blocks every
 * other answer, modelled by one mutex.
 */
import { randomUUID } from 'node:crypto';
import { drawExecutionMs, runHandler, type Outcome } from './handler.js';
import { readBody, type Exchange, type Target } from './http.js';
import type { ResolvedOptions } from './options.js';
import { deriveRng, type Rng } from './rng.js';
import { recordSubmission } from './stats.js';
import type { Timers } from './timers.js';
import type { EmulatorJob, EmulatorOp, EmulatorStats } from './types.js';

export interface LocalRoute {
  op: EmulatorOp;
  id?: string;
  methods: readonly string[];
}

const POST = ['POST'] as const;
const BODY_LIMIT = 100 * 1024 * 1024;

export function routeLocal(segments: string[]): LocalRoute {
  const [name, id, ...rest] = segments;
  if (rest.length > 0) return { op: 'unknown', methods: [] };
  if ((name === 'run' || name === 'runsync') && id === undefined) return { op: name, methods: POST };
  if (name === 'status' && id !== undefined) return { op: 'status', id, methods: POST };
  return { op: 'unknown', methods: [] };
}

/** FastAPI/pydantic's validation error for the `input` field. */
function unprocessable(ex: Exchange, msg: string, type: string): void {
  ex.json(422, { detail: [{ loc: ['body', 'input'], msg, type }] });
}

export class LocalDialect {
  private readonly pending = new Map<string, EmulatorJob>();
  private tail: Promise<void> = Promise.resolve();
  private readonly timingRng: Rng;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly stats: EmulatorStats,
    private readonly timers: Timers,
    private readonly jobs: Map<string, EmulatorJob>,
  ) {
    this.timingRng = deriveRng(opts.seed, 'timings');
  }

  route(target: Target): LocalRoute {
    return routeLocal(target.segments);
  }

  /** One request at a time, in arrival order (the body is read first, outside the lock). */
  private lock(fn: () => Promise<void> | void): Promise<void> {
    const run = this.tail.then(fn);
    this.tail = run.then(noop, noop);
    return run;
  }

  async handle(ex: Exchange, route: LocalRoute): Promise<void> {
    const wantsBody = route.op === 'run' || route.op === 'runsync';
    const body = wantsBody && ex.req.method === 'POST' ? await readBody(ex.req, BODY_LIMIT) : undefined;
    return this.lock(async () => {
      if (route.op === 'unknown') return ex.json(404, { detail: 'Not Found' });
      if (!route.methods.includes(ex.req.method ?? '')) {
        return ex.json(405, { detail: 'Method Not Allowed' }, { allow: route.methods.join(', ') });
      }
      if (route.op === 'status') return this.status(ex, route.id ?? '');
      if (!body?.ok) return ex.json(413, { detail: 'Request Entity Too Large' });
      const input = this.parseInput(ex, body.text);
      if (input === undefined) return;
      const job = this.create(input);
      if (route.op === 'run') return ex.json(200, { id: job.id, status: 'IN_PROGRESS' });
      return this.answer(ex, job, await this.execute(job));
    });
  }

  private parseInput(ex: Exchange, text: string): Record<string, unknown> | undefined {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      unprocessable(ex, 'JSON decode error', 'json_invalid');
      return undefined;
    }
    const input = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).input : undefined;
    if (input === undefined) {
      unprocessable(ex, 'Field required', 'missing');
      return undefined;
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      unprocessable(ex, 'Input should be a valid dictionary', 'dict_type');
      return undefined;
    }
    return input as Record<string, unknown>;
  }

  private create(input: unknown): EmulatorJob {
    recordSubmission(this.stats, input);
    const job: EmulatorJob = {
      id: `test-${randomUUID()}`,
      input,
      status: 'IN_PROGRESS', // what the dev server's /run answers, though nothing runs yet
      createdAt: Date.now(),
      attempt: 1,
      lost: false,
      expired: false,
    };
    this.jobs.set(job.id, job);
    this.pending.set(job.id, job);
    return job;
  }

  private async status(ex: Exchange, id: string): Promise<void> {
    const job = this.pending.get(id);
    if (!job) return ex.json(200, { id, status: 'FAILED', error: 'Job ID not found' });
    this.pending.delete(id); // runpod-python deletes the job on its first status answer
    this.answer(ex, job, await this.execute(job));
  }

  private answer(ex: Exchange, job: EmulatorJob, o: Outcome): void {
    if (o.status === 'FAILED') {
      ex.json(200, { id: job.id, status: 'FAILED', error: o.error });
      return;
    }
    ex.json(200, o.output === undefined ? { id: job.id, status: 'COMPLETED' } : { id: job.id, status: 'COMPLETED', output: o.output });
  }

  /** Run the handler and the simulated execution time together, holding the lock. */
  private async execute(job: EmulatorJob): Promise<Outcome> {
    const execMs = drawExecutionMs(this.opts.executionMs, job.input, this.timingRng);
    const start = Date.now();
    job.startedAt = start;
    this.stats.maxConcurrentRunning = Math.max(this.stats.maxConcurrentRunning, 1);
    const sleep = new Promise<void>((resolve) => this.timers.after(execMs / this.opts.timeScale, resolve));
    const [outcome] = await Promise.all([runHandler(this.opts.handler, job.input, { jobId: job.id, attempt: 1 }), sleep]);
    const end = Date.now();
    this.stats.busyMs += end - start;
    job.finishedAt = end;
    job.status = outcome.status;
    if (outcome.output !== undefined) job.output = outcome.output;
    if (outcome.error !== undefined) job.error = outcome.error;
    return outcome;
  }
}

function noop(): void {}
