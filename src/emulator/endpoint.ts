/**
 * One emulated cloud endpoint: the job table behind /run, /runsync, /status, /cancel, /retry,
 * /purge-queue and /health, over a worker pool (worker-pool.ts) and result retention (retention.ts).
 * RUNPOD_API.md facts it models:
 * - states IN_QUEUE → IN_PROGRESS → COMPLETED | FAILED | CANCELLED | TIMED_OUT;
 * - /run results readable 30 min after finishing, /runsync results 1 min, then /status 404;
 * - policy.ttl (default 24 h) counted from submission, policy.executionTimeout → TIMED_OUT;
 * - /retry only for FAILED/TIMED_OUT not expired, same id and input; /purge-queue removes queued jobs only.
 * Simulated durations run on timers divided by timeScale; reported times are unscaled.
 */
import { randomUUID } from 'node:crypto';
import { isTerminal, RUNPOD, type HealthResponse, type StatusResponse } from '../core/wire.js';
import type { FaultInjector } from './faults.js';
import { clearAttempt, statusView, streamView } from './job-output.js';
import { StatusCounts, type JobState } from './job-state.js';
import type { ResolvedOptions } from './options.js';
import { ResultRetention } from './retention.js';
import { recordSubmission } from './stats.js';
import type { Timers } from './timers.js';
import type { EmulatorJob, EmulatorStats } from './types.js';
import { TerminalWaiters } from './waiters.js';
import { WorkerPool } from './worker-pool.js';

export interface SubmitOptions {
  policy?: { executionTimeout?: number; ttl?: number };
  /** Unscaled retention of the result. @default the emulator's retentionMs */
  retentionMs?: number;
  /** Only /run jobs may be "lost". */
  allowLost: boolean;
}

export class EmulatedEndpoint {
  private readonly states = new Map<string, JobState>();
  private readonly counts = new StatusCounts();
  private readonly waiters: TerminalWaiters;
  private readonly retention: ResultRetention;
  private readonly pool: WorkerPool;
  private retried = 0;
  private closed = false;
  private readonly ts: number;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly stats: EmulatorStats,
    private readonly faults: FaultInjector,
    timers: Timers,
    /** The public job map (shared with the server). */
    private readonly jobs: Map<string, EmulatorJob>,
  ) {
    this.ts = opts.timeScale;
    this.waiters = new TerminalWaiters(timers);
    this.retention = new ResultRetention(timers, this.ts, opts.retentionMs, this.counts, this.waiters, (s) => this.pool.abandonRun(s));
    this.pool = new WorkerPool(opts, stats, timers, this.counts, this.retention);
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
    const ttlMs = o.policy?.ttl ?? RUNPOD.defaultTtlMs;
    const s: JobState = {
      job,
      queuedAt: now,
      ttlDeadline: now + ttlMs / this.ts,
      ttlMs,
      retentionMs: o.retentionMs ?? this.opts.retentionMs,
      executionTimeoutMs: o.policy?.executionTimeout,
      planned: jf.planned,
    };
    this.jobs.set(job.id, job);
    this.states.set(job.id, s);
    if (job.lost) return job; // RUNPOD_API.md: no idempotency key; the client must cope with ids that 404
    this.counts.queued();
    this.pool.enqueue(s);
    return job;
  }

  /** The job as /status sees it: undefined if unknown, lost or expired (→ 404). */
  lookup(id: string): EmulatorJob | undefined {
    const s = this.states.get(id);
    if (!s || s.job.lost) return undefined;
    if (this.retention.checkExpired(s, Date.now())) return undefined;
    return s.job;
  }

  /** The id was handed out and is not lost (it may have expired since). */
  known(id: string): boolean {
    const s = this.states.get(id);
    return s !== undefined && !s.job.lost;
  }

  view(job: EmulatorJob): StatusResponse {
    return statusView(job);
  }

  /** /stream: the output once, as a single chunk, after completion. */
  streamView(job: EmulatorJob): { status: string; stream: unknown[] } {
    return streamView(this.states.get(job.id), job);
  }

  /** Resolve when the job is terminal or gone, after at most `ms` real ms, or on close. */
  waitForTerminal(job: EmulatorJob, ms: number): Promise<void> {
    const s = this.states.get(job.id);
    if (!s || isTerminal(job.status) || this.closed) return Promise.resolve();
    return this.waiters.wait(s, ms);
  }

  cancel(job: EmulatorJob): void {
    const s = this.states.get(job.id);
    if (!s || isTerminal(job.status)) return;
    this.pool.abandonRun(s);
    const now = Date.now();
    if (job.startedAt !== undefined) job.executionTime = Math.round((now - job.startedAt) * this.ts);
    this.counts.set(s, 'CANCELLED');
    this.retention.markFinished(s, now);
  }

  /** /retry: FAILED or TIMED_OUT, not expired → same id and input back in the queue. */
  retry(job: EmulatorJob): boolean {
    const s = this.states.get(job.id);
    if (!s || job.expired || (job.status !== 'FAILED' && job.status !== 'TIMED_OUT')) return false;
    const now = Date.now();
    this.retention.forget(s);
    job.attempt++;
    job.createdAt = now;
    clearAttempt(job);
    s.planned = undefined; // first-attempt faults only
    s.queuedAt = now;
    s.expiresAt = undefined;
    s.streamed = false;
    s.chunks = undefined;
    s.ttlDeadline = now + s.ttlMs / this.ts; // a retry is a new submission: its ttl counts from now
    this.counts.set(s, 'IN_QUEUE');
    this.retried++;
    this.pool.enqueue(s);
    return true;
  }

  /** /purge-queue: drop queued jobs (not those already assigned to a starting worker). They answer 404 after. */
  purgeQueue(): number {
    const removed = this.pool.drainQueued();
    for (const s of removed) {
      this.counts.set(s, 'CANCELLED');
      this.retention.expire(s);
    }
    return removed.length;
  }

  health(): HealthResponse {
    const { idle, running, initializing } = this.pool.workerCounts();
    const counts = this.counts.byStatus;
    return {
      jobs: {
        completed: counts.COMPLETED,
        // TIMED_OUT is a failure to the user; the health answer has no separate counter for it.
        failed: counts.FAILED + counts.TIMED_OUT,
        inProgress: counts.IN_PROGRESS,
        inQueue: counts.IN_QUEUE,
        retried: this.retried,
      },
      workers: { idle, running, initializing, ready: idle, throttled: 0, unhealthy: 0 },
    };
  }

  expireAllResults(): void {
    this.retention.expireAll();
  }

  close(): void {
    this.closed = true;
    this.pool.close();
    this.waiters.notifyAll();
  }
}
