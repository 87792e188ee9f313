/**
 * The cloud endpoint's job machinery: a FIFO queue, a fixed pool of workers with cold starts, job
 * states, retention and ttl. RUNPOD_API.md facts it models:
 * - states IN_QUEUE → IN_PROGRESS → COMPLETED | FAILED | CANCELLED | TIMED_OUT;
 * - delayTime = ms waiting for a worker, cold start included; executionTime = ms on the worker;
 * - /run results readable 30 min after finishing, /runsync results 1 min, then /status 404;
 * - policy.ttl (default 24 h) counted from submission, policy.executionTimeout → TIMED_OUT;
 * - /retry only for FAILED/TIMED_OUT not expired, same id and input; /purge-queue removes queued jobs only.
 * Simulated durations run on timers divided by timeScale; reported times are unscaled.
 */
import { randomUUID } from 'node:crypto';
import { isTerminal, type HealthResponse, type JobStatus, type StatusResponse } from '../core/wire.js';
import type { FaultInjector } from './faults.js';
import { drawExecutionMs, errorPayload, runHandler, type Outcome } from './handler.js';
import { DEFAULT_RETENTION_MS, DEFAULT_TTL_MS, type ResolvedOptions } from './options.js';
import { FifoQueue } from './queue.js';
import { deriveRng, type Rng } from './rng.js';
import { recordSubmission } from './stats.js';
import type { Cancel, Timers } from './timers.js';
import type { EmulatorJob, EmulatorStats } from './types.js';

interface Worker {
  id: string;
  phase: 'idle' | 'cold-start' | 'running';
  job?: JobState;
  /** Real epoch ms the worker last went idle; undefined = never ran (cold). */
  idleSince?: number;
  /** Pending cold-start or execution timer. */
  cancelTimer?: Cancel;
  /** Bumped whenever the current run is abandoned (cancel, ttl): late results of the old run are dropped. */
  token: number;
  execStartedAt: number;
}

interface JobState {
  job: EmulatorJob;
  /** Real epoch ms of the last (re)queueing, for delayTime. */
  queuedAt: number;
  /** Real epoch ms past which the job is gone (policy.ttl, scaled). */
  ttlDeadline: number;
  /** Unscaled policy.ttl. */
  ttlMs: number;
  /** Real epoch ms past which the finished result is gone (retention, scaled). */
  expiresAt?: number;
  /** Unscaled retention of this job's result (run vs runsync). */
  retentionMs: number;
  /** Unscaled policy.executionTimeout. */
  executionTimeoutMs?: number;
  planned?: 'fail' | 'timedOut';
  worker?: Worker;
  streamed?: boolean;
}

export interface SubmitOptions {
  policy?: { executionTimeout?: number; ttl?: number };
  /** Unscaled retention of the result. @default the emulator's retentionMs */
  retentionMs?: number;
  /** Only /run jobs may be "lost". */
  allowLost: boolean;
}

export class EmulatedEndpoint {
  private readonly states = new Map<string, JobState>();
  private readonly queue = new FifoQueue<JobState>();
  private readonly workers: Worker[] = [];
  private readonly freeWorkers: Worker[] = [];
  /** Finished jobs whose payload is still held; the sweep prunes them once expired. */
  private readonly finished = new Set<JobState>();
  private readonly waiters = new Map<JobState, Set<() => void>>();
  private readonly counts: Record<JobStatus, number> = {
    IN_QUEUE: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0, TIMED_OUT: 0,
  };
  private retried = 0;
  private running = 0;
  private dispatchPending = false;
  private closed = false;
  private readonly timingRng: Rng;
  private readonly ts: number;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly stats: EmulatorStats,
    private readonly faults: FaultInjector,
    private readonly timers: Timers,
    /** The public job map (shared with the server). */
    private readonly jobs: Map<string, EmulatorJob>,
  ) {
    this.ts = opts.timeScale;
    this.timingRng = deriveRng(opts.seed, 'timings');
    for (let i = 0; i < opts.workers; i++) {
      const w: Worker = { id: `emu-worker-${i + 1}`, phase: 'idle', token: 0, execStartedAt: 0 };
      this.workers.push(w);
    }
    // Stack, so the most recently used (warm) worker is picked first and spare ones can go cold.
    this.freeWorkers.push(...[...this.workers].reverse());
    this.timers.every(Math.max(50, Math.min(1000, (opts.retentionMs || DEFAULT_RETENTION_MS) / this.ts)), () => this.sweep());
  }

  private scaled(ms: number): number {
    return ms / this.ts;
  }

  private setStatus(s: JobState, status: JobStatus): void {
    const job = s.job;
    if (!job.lost && !job.expired) this.counts[job.status]--;
    job.status = status;
    if (!job.lost && !job.expired) this.counts[status]++;
  }

  submit(input: unknown, o: SubmitOptions): EmulatorJob {
    const now = Date.now();
    const { first } = recordSubmission(this.stats, input);
    const jf = this.faults.decideJob(first, o.allowLost);
    const job: EmulatorJob = {
      id: `${randomUUID()}-u1`,
      input,
      status: 'IN_QUEUE',
      createdAt: now,
      attempt: 1,
      lost: jf.lost,
      expired: false,
    };
    const ttlMs = o.policy?.ttl ?? DEFAULT_TTL_MS;
    const s: JobState = {
      job,
      queuedAt: now,
      ttlDeadline: now + this.scaled(ttlMs),
      ttlMs,
      retentionMs: o.retentionMs ?? this.opts.retentionMs,
      executionTimeoutMs: o.policy?.executionTimeout,
      planned: jf.planned,
    };
    this.jobs.set(job.id, job);
    this.states.set(job.id, s);
    if (job.lost) return job; // RUNPOD_API.md: no idempotency key; the client must cope with ids that 404
    this.counts.IN_QUEUE++;
    this.queue.push(s);
    this.scheduleDispatch();
    return job;
  }

  /** The job as /status sees it: undefined if unknown, lost or expired (→ 404). */
  lookup(id: string): EmulatorJob | undefined {
    const s = this.states.get(id);
    if (!s || s.job.lost) return undefined;
    if (this.checkExpired(s, Date.now())) return undefined;
    return s.job;
  }

  /** The id was handed out and is not lost (it may have expired since). */
  known(id: string): boolean {
    const s = this.states.get(id);
    return s !== undefined && !s.job.lost;
  }

  view(job: EmulatorJob): StatusResponse {
    const v: StatusResponse = { id: job.id, status: job.status };
    if (job.startedAt !== undefined) {
      v.delayTime = job.delayTime;
      if (job.executionTime !== undefined && isTerminal(job.status)) v.executionTime = job.executionTime;
      v.workerId = job.workerId;
    }
    if (job.status === 'COMPLETED' && job.output !== undefined) v.output = job.output;
    if (job.error !== undefined) v.error = job.error;
    return v;
  }

  /** /stream: the output once, as a single chunk, after completion. */
  streamView(job: EmulatorJob): { status: string; stream: unknown[] } {
    const s = this.states.get(job.id);
    if (s && job.status === 'COMPLETED' && !s.streamed && job.output !== undefined) {
      s.streamed = true;
      return { status: job.status, stream: [{ output: job.output }] };
    }
    return { status: job.status, stream: [] };
  }

  /** Resolve when the job is terminal or gone, after at most `ms` real ms, or on close. */
  waitForTerminal(job: EmulatorJob, ms: number): Promise<void> {
    const s = this.states.get(job.id);
    if (!s || isTerminal(job.status) || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(s);
      if (!set) this.waiters.set(s, (set = new Set()));
      const done = () => {
        cancel();
        set.delete(done);
        if (set.size === 0 && this.waiters.get(s) === set) this.waiters.delete(s);
        resolve();
      };
      const cancel = this.timers.after(ms, done);
      set.add(done);
    });
  }

  private notify(s: JobState): void {
    const set = this.waiters.get(s);
    if (!set) return;
    this.waiters.delete(s);
    for (const done of [...set]) done();
  }

  cancel(job: EmulatorJob): void {
    const s = this.states.get(job.id);
    if (!s || isTerminal(job.status)) return;
    this.abandonRun(s);
    const now = Date.now();
    if (job.startedAt !== undefined) job.executionTime = Math.round((now - job.startedAt) * this.ts);
    this.setStatus(s, 'CANCELLED');
    this.markFinished(s, now);
  }

  /** /retry: FAILED or TIMED_OUT, not expired → same id and input back in the queue. */
  retry(job: EmulatorJob): boolean {
    const s = this.states.get(job.id);
    if (!s || job.expired || (job.status !== 'FAILED' && job.status !== 'TIMED_OUT')) return false;
    const now = Date.now();
    this.finished.delete(s);
    job.attempt++;
    job.createdAt = now;
    delete job.startedAt;
    delete job.finishedAt;
    delete job.delayTime;
    delete job.executionTime;
    delete job.output;
    delete job.error;
    delete job.workerId;
    s.planned = undefined; // first-attempt faults only
    s.queuedAt = now;
    s.expiresAt = undefined;
    s.streamed = false;
    s.ttlDeadline = now + this.scaled(s.ttlMs); // a retry is a new submission: its ttl counts from now
    this.setStatus(s, 'IN_QUEUE');
    this.retried++;
    this.queue.push(s);
    this.scheduleDispatch();
    return true;
  }

  /** /purge-queue: drop queued jobs (not those already assigned to a starting worker). They answer 404 after. */
  purgeQueue(): number {
    const removed = this.queue.drain((s) => s.job.status === 'IN_QUEUE' && !s.job.expired && !s.worker);
    for (const s of removed) {
      this.setStatus(s, 'CANCELLED');
      this.expire(s);
    }
    return removed.length;
  }

  health(): HealthResponse {
    let initializing = 0;
    for (const w of this.workers) if (w.phase === 'cold-start') initializing++;
    const idle = this.workers.length - this.running - initializing;
    return {
      jobs: {
        completed: this.counts.COMPLETED,
        // TIMED_OUT is a failure to the user; the health answer has no separate counter for it.
        failed: this.counts.FAILED + this.counts.TIMED_OUT,
        inProgress: this.counts.IN_PROGRESS,
        inQueue: this.counts.IN_QUEUE,
        retried: this.retried,
      },
      workers: { idle, running: this.running, initializing, ready: idle, throttled: 0, unhealthy: 0 },
    };
  }

  expireAllResults(): void {
    for (const s of [...this.finished]) this.expire(s);
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) {
      w.cancelTimer?.();
      w.token++;
    }
    for (const s of [...this.waiters.keys()]) this.notify(s);
  }

  // ---- workers ----

  private scheduleDispatch(): void {
    if (this.dispatchPending || this.closed) return;
    this.dispatchPending = true;
    // Never start work inside the request that queued it: /run answers IN_QUEUE first.
    this.timers.after(0, () => {
      this.dispatchPending = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    const now = Date.now();
    while (this.freeWorkers.length > 0 && !this.closed) {
      const s = this.queue.shift((x) => x.job.status === 'IN_QUEUE' && !x.job.expired && !this.checkExpired(x, now));
      if (!s) return;
      this.assign(this.freeWorkers.pop() as Worker, s, now);
    }
  }

  private assign(w: Worker, s: JobState, now: number): void {
    w.job = s;
    s.worker = w;
    const token = ++w.token;
    const warm = w.idleSince !== undefined && now - w.idleSince <= this.scaled(this.opts.idleTimeoutMs);
    const coldMs = warm ? 0 : this.opts.coldStartMs;
    const waited = (now - s.queuedAt) * this.ts;
    if (coldMs > 0) {
      // The job stays IN_QUEUE while its worker boots: cold start is part of delayTime.
      w.phase = 'cold-start';
      w.cancelTimer = this.timers.after(this.scaled(coldMs), () => {
        if (w.token === token) this.execute(w, s, waited + coldMs);
      });
    } else this.execute(w, s, waited);
  }

  private execute(w: Worker, s: JobState, delayMs: number): void {
    const job = s.job;
    const token = w.token;
    const now = Date.now();
    w.phase = 'running';
    w.execStartedAt = now;
    this.running++;
    if (this.running > this.stats.maxConcurrentRunning) this.stats.maxConcurrentRunning = this.running;
    job.startedAt = now;
    job.delayTime = Math.round(delayMs);
    job.workerId = w.id;
    this.setStatus(s, 'IN_PROGRESS');

    const execMs = drawExecutionMs(this.opts.executionMs, job.input, this.timingRng);
    const limit = s.executionTimeoutMs;
    const policyTimeout = limit !== undefined && limit < execMs;
    let outcome: Outcome | 'TIMED_OUT' | undefined;
    let reportedMs = policyTimeout ? (limit as number) : execMs;
    if (policyTimeout || s.planned === 'timedOut') outcome = 'TIMED_OUT';
    else if (s.planned === 'fail') {
      const err = new Error('emulated fault: job failed on its first attempt');
      err.name = 'EmulatedFault';
      outcome = { status: 'FAILED', error: errorPayload(err) };
    }
    let timerDone = false;
    const maybeFinish = () => {
      if (timerDone && outcome !== undefined && w.token === token) this.finish(w, s, outcome, reportedMs);
    };
    if (outcome === undefined) {
      const t0 = Date.now();
      void runHandler(this.opts.handler, job.input, { jobId: job.id, attempt: job.attempt }).then((o) => {
        // A handler slower (in real time) than the simulated execution reports its own duration.
        reportedMs = Math.max(reportedMs, (Date.now() - t0) * this.ts);
        outcome = o;
        maybeFinish();
      });
    }
    w.cancelTimer = this.timers.after(this.scaled(policyTimeout ? (limit as number) : execMs), () => {
      timerDone = true;
      maybeFinish();
    });
  }

  private finish(w: Worker, s: JobState, outcome: Outcome | 'TIMED_OUT', reportedMs: number): void {
    const job = s.job;
    const now = Date.now();
    this.releaseWorker(w, now);
    if (job.status !== 'IN_PROGRESS') return; // cancelled or expired meanwhile: the result is discarded
    job.executionTime = Math.round(reportedMs);
    if (outcome === 'TIMED_OUT') this.setStatus(s, 'TIMED_OUT');
    else {
      if (outcome.output !== undefined) job.output = outcome.output;
      if (outcome.error !== undefined) job.error = outcome.error;
      this.setStatus(s, outcome.status);
    }
    this.markFinished(s, now);
  }

  private releaseWorker(w: Worker, now: number): void {
    if (w.phase === 'running') {
      this.running--;
      this.stats.busyMs += now - w.execStartedAt;
    }
    if (w.job) w.job.worker = undefined;
    w.job = undefined;
    w.cancelTimer = undefined;
    w.phase = 'idle';
    w.idleSince = now;
    this.freeWorkers.push(w);
    this.scheduleDispatch();
  }

  /** Stop the worker (if any) on this job; its late result is ignored. */
  private abandonRun(s: JobState): void {
    const w = s.worker;
    if (!w || w.job !== s) return;
    w.cancelTimer?.();
    w.token++;
    this.releaseWorker(w, Date.now());
  }

  private markFinished(s: JobState, now: number): void {
    s.job.finishedAt = now;
    s.expiresAt = now + this.scaled(s.retentionMs);
    this.finished.add(s);
    this.notify(s);
  }

  // ---- expiry ----

  private checkExpired(s: JobState, now: number): boolean {
    if (s.job.expired) return true;
    if ((s.expiresAt !== undefined && now >= s.expiresAt) || now >= s.ttlDeadline) {
      this.expire(s);
      return true;
    }
    return false;
  }

  /** Gone for good: /status answers 404; the payload is dropped to keep 20,000-job runs small. */
  private expire(s: JobState): void {
    const job = s.job;
    if (job.expired) return;
    if (!isTerminal(job.status)) {
      // RUNPOD_API.md: past policy.ttl the job is removed, wherever it was.
      this.abandonRun(s);
      this.setStatus(s, 'CANCELLED');
    }
    job.expired = true;
    delete job.input;
    delete job.output;
    this.finished.delete(s);
    this.notify(s);
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of this.finished) if (s.expiresAt !== undefined && now >= s.expiresAt) this.expire(s);
  }
}
