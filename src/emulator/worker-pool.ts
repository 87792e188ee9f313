/**
 * The endpoint's pool of workers and its FIFO queue (RUNPOD_API.md): a queued job waits for a free worker, a worker
 * idle longer than idleTimeoutMs (or never used) cold-starts first, and delayTime = ms waiting for a worker, cold start
 * included; executionTime = ms on the worker. policy.executionTimeout → TIMED_OUT. With minWorkers below workers the
 * pool autoscales as RunPod's does ("Workers and scaling"): once a second the scaler adds workers — queue delay: one
 * per job waiting longer than scalerValue ms, beyond those already starting; request count: up to
 * ceil((inQueue + inProgress) / scalerValue) — and an idle worker stops after idleTimeoutMs, down to minWorkers.
 * Simulated durations run on timers divided by timeScale.
 */
import { drawExecutionMs, errorPayload, runHandler, type Outcome } from './handler.js';
import type { JobState, Machine, StatusCounts, Worker } from './job-state.js';
import type { ResolvedOptions } from './options.js';
import { FifoQueue } from './queue.js';
import type { ResultRetention } from './retention.js';
import { deriveRng, type Rng } from './rng.js';
import type { Timers } from './timers.js';
import type { EmulatorStats } from './types.js';

export class WorkerPool {
  private readonly queue = new FifoQueue<JobState>();
  private readonly machines: Machine[] = [];
  /** Free lanes, a stack: the most recently used (warm) worker's lanes are picked first and spare ones go cold. */
  private readonly freeWorkers: Worker[] = [];
  private running = 0;
  private dispatchPending = false;
  private closed = false;
  private readonly timingRng: Rng;
  private readonly ts: number;
  private readonly autoscale: boolean;
  private nextId = 0;
  private cancelScaler: (() => void) | undefined;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly stats: EmulatorStats,
    private readonly timers: Timers,
    private readonly counts: StatusCounts,
    private readonly retention: Pick<ResultRetention, 'checkExpired' | 'markFinished'>,
  ) {
    this.ts = opts.timeScale;
    this.timingRng = deriveRng(opts.seed, 'timings');
    this.autoscale = opts.minWorkers < opts.workers;
    const start = this.autoscale ? opts.minWorkers : opts.workers;
    const now = Date.now();
    for (let i = 0; i < start; i++) this.addMachine(now);
    this.freeWorkers.reverse();
    if (this.autoscale) this.scheduleScaler();
  }

  private addMachine(now: number): Machine {
    const m: Machine = { id: `emu-worker-${++this.nextId}`, lanes: [], busy: 0, booting: false, bootWaiters: [], startedAt: now };
    for (let i = 0; i < this.opts.workerConcurrency; i++) m.lanes.push({ machine: m, phase: 'idle', token: 0, execStartedAt: 0 });
    this.machines.push(m);
    this.freeWorkers.push(...m.lanes);
    return m;
  }

  /** The autoscaler's tick, once a (simulated) second. */
  private scheduleScaler(): void {
    if (this.closed) return;
    this.cancelScaler = this.timers.after(this.scaled(1000), () => {
      this.scale(Date.now());
      this.scheduleScaler();
    });
  }

  private scale(now: number): void {
    // Idle workers past their idle timeout stop (RunPod bills up to here).
    for (let i = this.machines.length - 1; i >= 0 && this.machines.length > this.opts.minWorkers; i--) {
      const m = this.machines[i]!;
      if (m.busy > 0 || m.booting || now - (m.idleSince ?? m.startedAt) < this.scaled(this.opts.idleTimeoutMs)) continue;
      this.machines.splice(i, 1);
      for (const lane of m.lanes) this.freeWorkers.splice(this.freeWorkers.indexOf(lane), 1);
      this.stats.workerMs += (now - m.startedAt) * this.ts;
    }
    let add: number;
    if (this.opts.scaler === 'queue-delay') {
      const live = (x: JobState) => x.job.status === 'IN_QUEUE' && !x.job.expired && !x.worker;
      const late = this.queue.countWhile(live, (x) => (now - x.queuedAt) * this.ts > this.opts.scalerValue);
      // Workers starting (booting, or added and not yet given a job) will take the oldest of them.
      const starting = this.machines.filter((m) => m.booting || (m.idleSince === undefined && m.busy === 0)).length;
      add = Math.ceil(late / this.opts.workerConcurrency) - starting;
    } else {
      add = Math.ceil((this.counts.byStatus.IN_QUEUE + this.counts.byStatus.IN_PROGRESS) / this.opts.scalerValue) - this.machines.length;
    }
    add = Math.min(add, this.opts.workers - this.machines.length);
    for (let k = 0; k < add; k++) {
      this.addMachine(now);
      this.stats.workersStarted++;
    }
    if (add > 0) this.scheduleDispatch();
  }

  private scaled(ms: number): number {
    return ms / this.ts;
  }

  /** Queue the job; a free worker picks it up on a later turn of the event loop. */
  enqueue(s: JobState): void {
    this.queue.push(s);
    this.scheduleDispatch();
  }

  /** Take every queued job out of the queue (not those already assigned to a starting worker). */
  drainQueued(): JobState[] {
    return this.queue.drain((s) => s.job.status === 'IN_QUEUE' && !s.job.expired && !s.worker);
  }

  /** Workers by phase, as /health counts them: a worker running any job is running, one booting initializing. */
  workerCounts(): { idle: number; running: number; initializing: number } {
    let initializing = 0;
    let running = 0;
    for (const m of this.machines) {
      if (m.booting) initializing++;
      else if (m.busy > 0) running++;
    }
    return { idle: this.machines.length - running - initializing, running, initializing };
  }

  /** Stop every worker; late results of their runs are dropped. */
  close(): void {
    this.closed = true;
    this.cancelScaler?.();
    const now = Date.now();
    for (const m of this.machines) {
      if (this.autoscale) this.stats.workerMs += (now - m.startedAt) * this.ts;
      m.cancelBoot?.();
      for (const w of m.lanes) {
        w.cancelTimer?.();
        w.token++;
      }
    }
  }

  /** Stop the worker (if any) on this job; its late result is ignored. */
  abandonRun(s: JobState): void {
    const w = s.worker;
    if (!w || w.job !== s) return;
    w.cancelTimer?.();
    w.token++;
    this.releaseWorker(w, Date.now());
  }

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
      const s = this.queue.shift((x) => x.job.status === 'IN_QUEUE' && !x.job.expired && !this.retention.checkExpired(x, now));
      if (!s) return;
      this.assign(this.freeWorkers.pop() as Worker, s, now);
    }
  }

  private assign(w: Worker, s: JobState, now: number): void {
    const m = w.machine;
    w.job = s;
    s.worker = w;
    const token = ++w.token;
    const warm = m.busy > 0 || (m.idleSince !== undefined && now - m.idleSince <= this.scaled(this.opts.idleTimeoutMs));
    m.busy++;
    if (!m.booting && (warm || this.opts.coldStartMs === 0)) {
      this.execute(w, s, (now - s.queuedAt) * this.ts);
      return;
    }
    // The job stays IN_QUEUE while its worker boots: cold start is part of delayTime.
    w.phase = 'cold-start';
    m.bootWaiters.push(() => {
      // A timer may fire a millisecond early: the boot ends when it was due, not before.
      if (w.token === token) this.execute(w, s, (Math.max(Date.now(), m.bootEndsAt ?? 0) - s.queuedAt) * this.ts);
    });
    if (m.booting) return;
    m.booting = true;
    m.bootEndsAt = now + this.scaled(this.opts.coldStartMs);
    m.cancelBoot = this.timers.after(this.scaled(this.opts.coldStartMs), () => {
      m.booting = false;
      m.cancelBoot = undefined;
      for (const run of m.bootWaiters.splice(0)) run();
    });
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
    job.workerId = w.machine.id;
    this.counts.set(s, 'IN_PROGRESS');

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
    } else if (s.planned === 'emptyOutput') {
      outcome = { status: 'COMPLETED' }; // a refused result POST: COMPLETED, and no output
    } else if (s.planned === 'errorOutput') {
      outcome = { status: 'COMPLETED', output: [{ error: { message: 'emulated fault: error inside the output', type: 'worker_error' } }] };
    }
    let timerDone = false;
    const maybeFinish = () => {
      if (timerDone && outcome !== undefined && w.token === token) this.finish(w, s, outcome, reportedMs);
    };
    if (outcome === undefined) {
      const t0 = Date.now();
      const stream = {
        aggregate: this.opts.returnAggregateStream,
        onChunk: (c: unknown) => {
          if (w.token !== token) return;
          s.chunks ??= [];
          s.chunks.push(c);
        },
      };
      void runHandler(this.opts.handler, job.input, { jobId: job.id, attempt: job.attempt }, stream).then((o) => {
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
    if (outcome === 'TIMED_OUT') this.counts.set(s, 'TIMED_OUT');
    else {
      if (outcome.output !== undefined) job.output = outcome.output;
      if (outcome.error !== undefined) job.error = outcome.error;
      this.counts.set(s, outcome.status);
    }
    this.retention.markFinished(s, now);
  }

  private releaseWorker(w: Worker, now: number): void {
    if (w.phase === 'running') {
      this.running--;
      this.stats.busyMs += now - w.execStartedAt;
    }
    if (w.job) {
      w.job.worker = undefined;
      w.machine.busy--;
    }
    w.job = undefined;
    w.cancelTimer = undefined;
    w.phase = 'idle';
    if (w.machine.busy === 0) w.machine.idleSince = now;
    this.freeWorkers.push(w);
    this.scheduleDispatch();
  }
}
