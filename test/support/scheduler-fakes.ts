/**
 * Stand-ins for the scheduler's ports, for unit tests of the engine without HTTP, SQLite or real time:
 * a hand-driven clock, an in-memory store and a scripted endpoint. Integration tests use the real ones.
 */
import type { RequeueDetail, RequeueReason, RowState, Terminal, WorkRow } from '../../src/core/records.js';
import { HttpError, RunpodBatchError } from '../../src/core/errors.js';
import type { HealthResponse, RunResponse, StatusResponse } from '../../src/core/wire.js';
import type { CancelTimer, Clock } from '../../src/engine/clock.js';
import type { SchedulerClient, SchedulerStore } from '../../src/engine/ports.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  dead: boolean;
}

/** A clock that moves only when told: each step fires the earliest timer and sets the time to it. */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): CancelTimer {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, dead: false };
    this.timers.push(timer);
    return () => {
      timer.dead = true;
    };
  }

  /** Fires the earliest live timer; false when none is set. */
  fireNext(): boolean {
    this.timers = this.timers.filter((x) => !x.dead);
    if (this.timers.length === 0) return false;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift()!;
    this.t = Math.max(this.t, next.at);
    next.fn();
    return true;
  }
}

/** Lets every promise reaction that is ready run (the fakes do no I/O, so this drains them all). */
export const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Runs the event loop and the clock until `done` settles: settle, then fire the next timer, again and again.
 * Throws when nothing is left to happen but `done` has not settled (the scheduler would hang).
 */
export async function drive<T>(clock: ManualClock, done: Promise<T>, maxSteps = 100_000): Promise<T> {
  let finished = false;
  let value: T | undefined;
  void done.then((v) => {
    finished = true;
    value = v;
  });
  for (let i = 0; i < maxSteps; i++) {
    await settle();
    if (finished) return value as T;
    if (!clock.fireNext()) {
      await settle();
      if (finished) return value as T;
      throw new Error(`drive: no timer left at t=${clock.now()} and the run has not ended`);
    }
  }
  throw new Error('drive: too many steps');
}

interface MemRow {
  key: string;
  seq: number;
  bodyJson: string;
  state: RowState;
  attempts: number;
  failures: number;
  jobId: string | null;
  submittedAt: number | null;
  /** Every job id committed for this row, in order. */
  jobs: string[];
  error: string | null;
}

/** The scheduler's view of the state, in memory, with the same rules as the SQLite store for the calls it makes. */
export class MemoryStore implements SchedulerStore {
  readonly rows = new Map<string, MemRow>();
  /** Every markSubmitted call, in order: what would be durable. */
  readonly submits: { key: string; jobId: string; at: number }[] = [];

  constructor(keys: string[]) {
    keys.forEach((key, seq) => {
      this.rows.set(key, {
        key,
        seq,
        bodyJson: JSON.stringify({ input: { key } }),
        state: 'PENDING',
        attempts: 0,
        failures: 0,
        jobId: null,
        submittedAt: null,
        jobs: [],
        error: null,
      });
    });
  }

  row(key: string): MemRow {
    const r = this.rows.get(key);
    if (!r) throw new Error(`no row ${key}`);
    return r;
  }

  states(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.rows.values()) out[r.state] = (out[r.state] ?? 0) + 1;
    return out;
  }

  private work(r: MemRow): WorkRow {
    return {
      key: r.key,
      seq: r.seq,
      bodyJson: r.bodyJson,
      attempts: r.attempts,
      failures: r.failures,
      jobId: r.jobId,
      submittedAt: r.submittedAt,
    };
  }

  pendingPage(_gen: number, afterSeq: number, limit: number): WorkRow[] {
    return [...this.rows.values()]
      .filter((r) => r.state === 'PENDING' && r.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
      .map((r) => this.work(r));
  }

  submittedRows(): WorkRow[] {
    return [...this.rows.values()].filter((r) => r.state === 'SUBMITTED').map((r) => this.work(r));
  }

  markSubmitted(key: string, jobId: string, attempt: number, submittedAt: number): void {
    const r = this.row(key);
    Object.assign(r, { state: 'SUBMITTED', jobId, attempts: attempt, submittedAt });
    r.jobs.push(jobId);
    this.submits.push({ key, jobId, at: submittedAt });
  }

  markTerminal(t: Terminal): void {
    const r = this.row(t.key);
    if (r.jobId !== t.jobId) return;
    Object.assign(r, { state: t.status as RowState, error: t.error });
  }

  requeue(key: string, jobId: string, reason: RequeueReason, _at: number, detail: RequeueDetail): void {
    const r = this.row(key);
    if (r.jobId !== jobId) return;
    Object.assign(r, { state: 'PENDING', jobId: null, error: detail.error ?? r.error });
    if (reason === 'failed') r.failures++;
  }

  failRow(key: string, status: RowState, error: string): void {
    Object.assign(this.row(key), { state: status, jobId: null, error });
  }

  flush(): void {}
}

/** What the scripted endpoint answers to one /run: a job, or an error thrown after `afterMs`. */
export type RunScript = { error: Error; afterMs?: number } | { afterMs?: number };

export interface FakeEndpointOptions {
  /** How long a job takes from its /run answer to its end. @default 100 */
  execMs?: number;
  /** Answers to the first /run calls, in order; later calls create jobs after `runLatencyMs`. */
  runs?: RunScript[];
  /** Latency of a /run answer. @default 10 */
  runLatencyMs?: number;
  /** Every /run fails with this error, after the scripted ones (e.g. a refused connection: no server). */
  runError?: () => Error;
  /** How the nth job (0-based) of a row ends; COMPLETED when it returns undefined. */
  outcome?: (rowKey: string, attempt: number) => 'FAILED' | 'LOST' | undefined;
  /** Serve /health for a fixed pool of this many workers (one job each; the rest queue). @default no /health */
  workers?: number;
}

interface FakeJob {
  id: string;
  rowKey: string;
  endAt: number;
  end: 'COMPLETED' | 'FAILED' | 'LOST';
  /** Reported terminal to the client. */
  seen: boolean;
}

/**
 * A RunPod endpoint on the manual clock: every job runs `execMs`, /status-sync answers when it ends. It records what
 * the scheduler did: each /run's send time, the most /run requests open at once, the most jobs unfinished at once.
 */
export class FakeEndpoint implements SchedulerClient {
  readonly runSentAt: number[] = [];
  statusCalls = 0;
  openRuns = 0;
  maxOpenRuns = 0;
  /** Jobs created and not yet reported terminal (or lost) to the client, plus /run requests open. */
  maxHeld = 0;
  private held = 0;
  private readonly jobs = new Map<string, FakeJob>();
  private readonly attempts = new Map<string, number>();
  private n = 0;

  /** /health, when `workers` is set: idle workers, running jobs and the queue, from the jobs not yet ended. */
  readonly health?: (opts?: { signal?: AbortSignal }) => Promise<HealthResponse>;

  constructor(
    private readonly clock: ManualClock,
    private readonly o: FakeEndpointOptions = {},
  ) {
    const workers = o.workers;
    if (workers !== undefined) {
      this.health = (opts) =>
        this.later(1, opts?.signal, () => {
          let open = 0;
          for (const j of this.jobs.values()) if (this.clock.now() < j.endAt) open++;
          const running = Math.min(open, workers);
          return {
            jobs: { completed: 0, failed: 0, retried: 0, inProgress: running, inQueue: open - running },
            workers: { idle: workers - running, running },
          };
        });
    }
  }

  get jobsCreated(): number {
    return this.jobs.size;
  }

  run(bodyJson: string, opts?: { signal?: AbortSignal }): Promise<RunResponse> {
    const call = this.runSentAt.length;
    this.runSentAt.push(this.clock.now());
    const failing = this.o.runError;
    const script: RunScript | undefined = this.o.runs?.[call] ?? (failing ? { error: failing(), afterMs: 1 } : undefined);
    const rowKey = (JSON.parse(bodyJson) as { input: { key: string } }).input.key;
    this.openRuns++;
    this.maxOpenRuns = Math.max(this.maxOpenRuns, this.openRuns);
    this.hold(1);
    return this.later(
      script?.afterMs ?? this.o.runLatencyMs ?? 10,
      opts?.signal,
      () => {
        this.openRuns--;
        if (script && 'error' in script) {
          this.hold(-1);
          throw script.error;
        }
        const attempt = this.attempts.get(rowKey) ?? 0;
        this.attempts.set(rowKey, attempt + 1);
        const id = `job-${++this.n}`;
        const end = this.o.outcome?.(rowKey, attempt) ?? 'COMPLETED';
        this.jobs.set(id, { id, rowKey, endAt: this.clock.now() + (this.o.execMs ?? 100), end, seen: false });
        return { id, status: 'IN_QUEUE' };
      },
      () => {
        this.openRuns--;
        this.hold(-1);
      },
    );
  }

  status(jobId: string, opts?: { signal?: AbortSignal }): Promise<StatusResponse> {
    this.statusCalls++;
    return this.later(1, opts?.signal, () => this.answer(jobId));
  }

  statusSync(jobId: string, waitMs: number, opts?: { signal?: AbortSignal }): Promise<StatusResponse> {
    this.statusCalls++;
    const job = this.jobs.get(jobId);
    const wait = job ? Math.min(waitMs, Math.max(1, job.endAt - this.clock.now())) : 1;
    return this.later(wait, opts?.signal, () => this.answer(jobId));
  }

  private answer(jobId: string): StatusResponse {
    const job = this.jobs.get(jobId);
    if (!job || (job.end === 'LOST' && this.clock.now() >= job.endAt)) {
      if (job && !job.seen) {
        job.seen = true;
        this.hold(-1);
      }
      throw new HttpError('status', 'GET', `fake/status/${jobId}`, 404, 'not found');
    }
    if (this.clock.now() < job.endAt) return { id: jobId, status: 'IN_PROGRESS', delayTime: 0 };
    if (!job.seen) {
      job.seen = true;
      this.hold(-1);
    }
    const status = job.end === 'FAILED' ? 'FAILED' : 'COMPLETED';
    return {
      id: jobId,
      status,
      delayTime: 0,
      executionTime: this.o.execMs ?? 100,
      ...(status === 'FAILED' ? { error: 'boom' } : { output: { ok: job.rowKey } }),
    };
  }

  private hold(d: number): void {
    this.held += d;
    this.maxHeld = Math.max(this.maxHeld, this.held);
  }

  /** Settles after `ms` on the clock with fn's value (or error); rejects as the real client does when aborted. */
  private later<T>(ms: number, signal: AbortSignal | undefined, fn: () => T, onAbort?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        onAbort?.();
        return reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
      }
      const abort = () => {
        cancel();
        onAbort?.();
        reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
      };
      const cancel = this.clock.setTimer(() => {
        signal?.removeEventListener('abort', abort);
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      }, ms);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }
}
