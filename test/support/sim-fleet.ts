/**
 * A RunPod endpoint that serves no /status-sync, simulated on the hand-driven clock (scheduler-fakes.ts), for the poll
 * plan's counted checks: the real Scheduler and JobFollower run against it with an in-memory store. A FIFO queue,
 * a fixed pool of workers, deterministic execution times, network latency each way; /health as RunPod answers it.
 * It counts what the poll plan spends (status calls) and what it costs (detection delay past each job's true end).
 */
import { HttpError, RunpodBatchError } from '../../src/core/errors.js';
import type { HealthResponse, RunResponse, StatusResponse } from '../../src/core/wire.js';
import type { SchedulerClient } from '../../src/engine/ports.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import type { SchedulerOptions } from '../../src/engine/types.js';
import { drive, ManualClock, MemoryStore } from './scheduler-fakes.js';

export interface FleetOptions {
  workers: number;
  /** Execution time of the nth job created (0-based), ms. */
  execMs: (n: number) => number;
  /** One-way network latency, ms. @default 10 */
  oneWayMs?: number;
  /** delayTime of a job that finds an idle worker (the pickup), ms. @default 5 */
  pickupMs?: number;
  /** Serve /status-sync long polls (answered when the job ends). @default false (404, as endpoints that dropped it) */
  statusSync?: boolean;
}

interface SimJob {
  n: number;
  createdAt: number;
  startAt?: number;
  endAt?: number;
  /** When the client got its first terminal answer. */
  seenAt?: number;
  execMs: number;
}

export class SimFleet implements SchedulerClient {
  statusCalls = 0;
  /** The most /status calls open at once. */
  maxOpenStatus = 0;
  private openStatus = 0;
  /** Status calls answered before the first job was seen ended (the scouts: nothing was known yet). */
  scoutCalls = 0;
  private anySeen = false;
  /** Status answers per status (IN_QUEUE, IN_PROGRESS: calls that found the job not ended). */
  readonly answers: Record<string, number> = {};
  healthCalls = 0;
  private readonly jobs = new Map<string, SimJob>();
  private readonly queue: SimJob[] = [];
  private qHead = 0;
  private readonly waiters = new Map<SimJob, (() => void)[]>();
  private busy = 0;
  private completed = 0;
  private readonly oneWay: number;
  private readonly pickup: number;

  constructor(
    private readonly clock: ManualClock,
    private readonly o: FleetOptions,
  ) {
    this.oneWay = o.oneWayMs ?? 10;
    this.pickup = o.pickupMs ?? 5;
  }

  run(_bodyJson: string, opts?: { signal?: AbortSignal }): Promise<RunResponse> {
    return this.call(opts?.signal, () => {
      const n = this.jobs.size;
      const job: SimJob = { n, createdAt: this.clock.now(), execMs: this.o.execMs(n) };
      const id = `job-${n}`;
      this.jobs.set(id, job);
      this.queue.push(job);
      this.dispatch();
      return { id, status: 'IN_QUEUE' };
    });
  }

  status(jobId: string, opts?: { signal?: AbortSignal }): Promise<StatusResponse> {
    this.statusCalls++;
    this.openStatus++;
    this.maxOpenStatus = Math.max(this.maxOpenStatus, this.openStatus);
    return this.call(opts?.signal, () => this.view(jobId)).then(
      (s) => {
        this.openStatus--;
        return this.seen(jobId, s);
      },
      (err: unknown) => {
        this.openStatus--;
        throw err;
      },
    );
  }

  private seen(jobId: string, s: StatusResponse): StatusResponse {
    this.answers[s.status] = (this.answers[s.status] ?? 0) + 1;
    if (!this.anySeen) this.scoutCalls++;
    if (s.status === 'COMPLETED') this.anySeen = true;
    const job = this.jobs.get(jobId);
    if (job && s.status === 'COMPLETED' && job.seenAt === undefined) job.seenAt = this.clock.now();
    return s;
  }

  statusSync(jobId: string, waitMs: number, opts?: { signal?: AbortSignal }): Promise<StatusResponse> {
    if (!this.o.statusSync) return Promise.reject(new HttpError('status', 'GET', `sim/status-sync/${jobId}`, 404, 'not found'));
    this.statusCalls++;
    // Held at the server until the job ends (or ?wait passes), then answered.
    return new Promise<StatusResponse>((resolve, reject) => {
      this.clock.setTimer(() => {
        const job = this.jobs.get(jobId);
        let done = false;
        const answer = () => {
          if (done) return;
          done = true;
          try {
            const s = this.view(jobId);
            this.clock.setTimer(() => resolve(this.seen(jobId, s)), this.oneWay);
          } catch (err) {
            this.clock.setTimer(() => reject(err), this.oneWay);
          }
        };
        if (!job || (job.endAt !== undefined && job.endAt <= this.clock.now())) return answer();
        this.clock.setTimer(answer, waitMs);
        const list = this.waiters.get(job) ?? [];
        list.push(answer);
        this.waiters.set(job, list);
      }, this.oneWay);
      void opts;
    });
  }

  /** A property, not a method: the scheduler calls it unbound, as it does the real client's. */
  readonly health = (opts?: { signal?: AbortSignal }): Promise<HealthResponse> => {
    this.healthCalls++;
    return this.call(opts?.signal, () => ({
      jobs: { completed: this.completed, failed: 0, inProgress: this.busy, inQueue: this.queue.length - this.qHead, retried: 0 },
      workers: { idle: this.o.workers - this.busy, running: this.busy, initializing: 0, ready: this.o.workers - this.busy, throttled: 0 },
    }));
  };

  private view(jobId: string): StatusResponse {
    const job = this.jobs.get(jobId);
    if (!job) throw new HttpError('status', 'GET', `sim/status/${jobId}`, 404, 'not found');
    const now = this.clock.now();
    if (job.startAt === undefined) return { id: jobId, status: 'IN_QUEUE' };
    const delayTime = job.startAt - job.createdAt;
    if (job.endAt === undefined || now < job.endAt) return { id: jobId, status: 'IN_PROGRESS', delayTime };
    return { id: jobId, status: 'COMPLETED', delayTime, executionTime: job.execMs, output: { n: job.n } };
  }

  /** Idle workers take the oldest queued jobs. */
  private dispatch(): void {
    while (this.busy < this.o.workers && this.qHead < this.queue.length) {
      const job = this.queue[this.qHead++]!;
      this.busy++;
      job.startAt = this.clock.now() + this.pickup;
      job.endAt = job.startAt + job.execMs;
      this.clock.setTimer(() => {
        this.busy--;
        this.completed++;
        for (const w of this.waiters.get(job) ?? []) w();
        this.waiters.delete(job);
        this.dispatch();
      }, job.endAt - this.clock.now());
    }
  }

  /** The request reaches the server after oneWay (fn runs then), the answer comes back after oneWay more. */
  private call<T>(signal: AbortSignal | undefined, fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
      this.clock.setTimer(() => {
        let value: T;
        try {
          value = fn();
        } catch (err) {
          this.clock.setTimer(() => reject(err), this.oneWay);
          return;
        }
        this.clock.setTimer(() => resolve(value), this.oneWay);
      }, this.oneWay);
    });
  }

  /** Per job: detection delay (seen − true end) and the client's end-to-end time (seen − created). */
  figures(): { jobs: number; callsPerJob: number; addedPct: number; addedMsP50: number; makespanMs: number; idealMs: number } {
    const pct: number[] = [];
    const added: number[] = [];
    let exec = 0;
    let last = 0;
    for (const j of this.jobs.values()) {
      exec += j.execMs;
      if (j.seenAt === undefined || j.endAt === undefined) continue;
      const a = j.seenAt - j.endAt;
      added.push(a);
      pct.push((100 * a) / (j.seenAt - j.createdAt));
      last = Math.max(last, j.seenAt);
    }
    added.sort((a, b) => a - b);
    return {
      jobs: this.jobs.size,
      callsPerJob: this.statusCalls / Math.max(1, this.jobs.size),
      addedPct: pct.reduce((s, x) => s + x, 0) / Math.max(1, pct.length),
      addedMsP50: added[Math.floor(added.length / 2)] ?? 0,
      makespanMs: last,
      idealMs: exec / this.o.workers,
    };
  }
}

/**
 * Runs `rows` rows through the real Scheduler (auto-sizing from /health; long polls only where the fleet serves
 * them) against a SimFleet.
 * Returns the fleet's figures and the outcome.
 */
export async function simulateRun(fleet: FleetOptions, rows: number, opts: Partial<SchedulerOptions> = {}) {
  const clock = new ManualClock();
  const store = new MemoryStore(Array.from({ length: rows }, (_, i) => `r${i}`));
  const client = new SimFleet(clock, fleet);
  const scheduler = new Scheduler(
    { client, store, gen: 1, clock, random: () => 0.5 },
    { concurrency: 5000, autoSize: {}, retries: 0, longPoll: fleet.statusSync === true, ...opts },
  );
  const outcome = await drive(clock, scheduler.run(), 5_000_000);
  return {
    outcome,
    states: store.states(),
    ...client.figures(),
    healthCalls: client.healthCalls,
    answers: client.answers,
    scoutCalls: client.scoutCalls,
    maxOpenStatus: client.maxOpenStatus,
  };
}
