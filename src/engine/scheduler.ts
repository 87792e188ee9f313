import { setMaxListeners } from 'node:events';
import { RunpodBatchError } from '../core/errors.js';
import type { HealthSeen } from '../core/records.js';
import type { WorkRow } from '../core/records.js';
import type { StatusResponse } from '../core/wire.js';
import { RUNPOD } from '../core/wire.js';
import { BillMeter } from './budget.js';
import { verdictOf, type Verdict } from './classify.js';
import { systemClock, type CancelTimer, type Clock } from './clock.js';
import { JobFollower, type LiveJob } from './follower.js';
import { jobFate, type OutputCheckOptions } from './output-check.js';
import { DEFAULT_HEALTH_POLICY, HealthMonitor } from './health.js';
import type { SchedulerClient, SchedulerStore } from './ports.js';
import { Requester } from './requester.js';
import { RunSlots } from './sizing.js';
import { SizingLoop } from './sizing-loop.js';
import { RowQueue } from './row-queue.js';
import type { Outcome, Progress, SchedulerDeps, SchedulerOptions } from './types.js';

export type { Budget, Outcome, Progress, SchedulerDeps, SchedulerOptions } from './types.js';

/**
 * Admission and what happens to each job. At most `concurrency` rows hold a job (or a /run in progress). The answer
 * to /run is committed to the store before anything else; each job is then followed (follower.ts) until it ends,
 * and its row ends, runs again (a FAILED attempt with retries left, a lost job) or fails. Requests go through the
 * requester (retries, 429 pacing, the probe); rows come from the row queue (paged from the store).
 */
export class Scheduler {
  private readonly client: SchedulerClient;
  private readonly store: SchedulerStore;
  private readonly clock: Clock;
  private readonly requester: Requester;
  private readonly follower: JobFollower;
  private readonly queue: RowQueue;
  private readonly health: HealthMonitor;
  private readonly bills: BillMeter;
  /** Jobs to keep in flight now: `concurrency` with a fixed size, the sizer's target under it otherwise. */
  private target: number;
  private readonly sizing: SizingLoop | null;
  private readonly runSlots: RunSlots;
  private readonly retries: number;
  private readonly maxReruns: number;
  private readonly drainMs: number;
  private readonly retentionMs: number;
  private readonly checks: OutputCheckOptions;

  private inflight = 0;
  private pendingRuns = 0;
  /** Times a row's job was lost or expired in this run (rows that never lost one are not in it). */
  private readonly reruns = new Map<string, number>();
  private stopping = false;
  private outcome: Outcome = { kind: 'done' };
  private budgetHit = false;
  private readonly pollAbort = new AbortController();
  private readonly runAbort = new AbortController();
  private drainTimer: CancelTimer | undefined;
  private resolveDone!: (o: Outcome) => void;
  private finished = false;
  private readonly counts = { submitted: 0, completed: 0, completedResumed: 0, failed: 0, requeued: 0 };

  constructor(
    private readonly deps: SchedulerDeps,
    o: SchedulerOptions,
  ) {
    this.client = deps.client;
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    const random = deps.random ?? Math.random;
    const health = deps.client.health;
    this.runSlots = new RunSlots(o.runSlots?.min ?? 8, o.runSlots?.max ?? RUNPOD.maxConcurrentRuns);
    this.retries = o.retries;
    this.maxReruns = o.maxReruns ?? 5;
    this.drainMs = o.drainMs ?? 700;
    this.retentionMs = o.retentionMs ?? RUNPOD.runRetentionMs;
    this.checks = { acceptEmptyOutput: o.acceptEmptyOutput === true };
    // Every request in flight listens on these two signals.
    setMaxListeners(0, this.pollAbort.signal, this.runAbort.signal);
    this.requester = new Requester(this.clock, random, {
      backoff: o.backoff,
      maxConsecutiveFailures: o.maxConsecutiveFailures,
      rate: o.rate,
      unreachableMs: o.unreachableMs,
    });
    this.follower = new JobFollower(
      this.client,
      this.requester,
      this.clock,
      this.pollAbort.signal,
      { ended: (l, s) => this.ended(l, s), lost: (l) => this.lost(l), failed: (err, v) => this.fail(err, v) },
      {
        longPoll: o.longPoll,
        longPollMs: o.longPollMs,
        maxLongPolls: o.maxLongPolls,
        untimedStatus: o.untimedStatus,
        stream: o.stream,
        poll: o.poll,
        statusBudget: o.statusBudget,
        fleet: () => this.sizing?.lastSample ?? null,
      },
    );
    this.sizing =
      o.autoSize && health
        ? new SizingLoop(
            {
              clock: this.clock,
              requester: this.requester,
              health: (opts) => health(opts),
              signal: this.pollAbort.signal,
              inFlight: () => this.inflight - this.pendingRuns,
              // Idle workers with nothing queued: the /run bound may rise to feed them (RunSlots).
              onSample: (h) => this.runSlots.health(h.idle, h.inQueue, this.pendingRuns),
              onTarget: (t) => {
                this.target = t;
                this.fill();
              },
              over: () => this.finished || this.stopping,
            },
            o.concurrency,
            o.autoSize,
            o.healthEveryMs,
          )
        : null;
    this.target = this.sizing ? this.sizing.current.target : o.concurrency;
    this.queue = new RowQueue(this.store, deps.gen, o.admitBelowSeq ?? Infinity);
    this.health = new HealthMonitor(o.health ?? DEFAULT_HEALTH_POLICY);
    this.bills = new BillMeter(o.budget ?? null);
    deps.signal?.addEventListener('abort', () => this.stop({ kind: 'interrupted' }), { once: true });
    if (deps.signal?.aborted) this.stopping = true;
  }

  /** Workers this run's /health reads saw starting (auto-sizing only; null without it). */
  get healthSeen(): HealthSeen | null {
    return this.sizing ? { ...this.sizing.seen } : null;
  }

  /** Requests per operation name, for stats.json. */
  get ops() {
    return this.requester.ops;
  }

  /** Runs until every row of this generation is terminal, or the run stops. */
  run(): Promise<Outcome> {
    const done = new Promise<Outcome>((resolve) => (this.resolveDone = resolve));
    if (this.stopping) {
      this.finish();
      return done;
    }
    // Jobs submitted by an earlier run are followed by id, never submitted again.
    for (const r of this.store.submittedRows(this.deps.gen)) {
      this.inflight++;
      this.follower.follow(r, r.jobId ?? '', r.submittedAt ?? this.clock.now(), true);
    }
    this.sizing?.start();
    this.fill();
    this.checkDone();
    return done;
  }

  progress(): Progress {
    return {
      inFlight: this.inflight - this.pendingRuns,
      ...this.counts,
      paused: this.requester.paused(),
      runRate: this.requester.runRate(),
      retrying: this.requester.retrying(),
      billedSeconds: this.bills.seconds,
      billedJobs: this.bills.jobs,
      sizing: this.sizing?.current ?? null,
      runSlots: { now: this.runSlots.slots(), peak: this.runSlots.peak },
    };
  }

  private stop(outcome: Outcome): void {
    if (this.stopping) return;
    this.stopping = true;
    this.outcome = outcome;
    this.follower.stopAll();
    this.pollAbort.abort();
    if (outcome.kind === 'interrupted') {
      // Give /run requests already sent a moment to answer: their job ids are then committed, not lost.
      this.drainTimer = this.clock.setTimer(() => this.runAbort.abort(), this.drainMs);
    } else {
      this.runAbort.abort();
    }
    this.checkDone();
  }

  private fill(): void {
    this.budgetHit = false;
    // At most `target` jobs in flight, and few /run requests at once: each is a row a kill could pay twice.
    while (!this.stopping && this.inflight < this.target && this.pendingRuns < this.runSlots.slots()) {
      const row = this.queue.next();
      if (!row) break;
      if (this.bills.wouldPass(this.inflight)) {
        this.queue.putBack(row); // not admitted: first in line if the budget allows later
        this.budgetHit = true;
        break;
      }
      this.inflight++;
      void this.submit(row);
    }
  }

  private async submit(row: WorkRow): Promise<void> {
    this.pendingRuns++;
    const sentAt = this.clock.now();
    try {
      const res = await this.requester.request('run', 'run', (signal) => this.client.run(row.bodyJson, { signal }), this.runAbort.signal);
      const at = this.clock.now();
      this.runSlots.answered(at - sentAt);
      row.attempts++;
      // Same tick as the answer: the job id is committed before anything else can happen.
      this.store.markSubmitted(row.key, res.id, row.attempts, at, res.status);
      this.counts.submitted++;
      if (this.stopping) this.inflight--;
      else this.follower.follow(row, res.id, at, false);
    } catch (err) {
      this.inflight--;
      const v = verdictOf('run', err);
      if (v.kind === 'bad-row') {
        this.store.failRow(row.key, 'FAILED', v.message, 'RPB_BAD_REQUEST', this.clock.now());
        this.counts.failed++;
        this.rowEnded(false);
      } else if (v.kind !== 'aborted') {
        this.fail(err, v);
      }
    } finally {
      this.pendingRuns--;
    }
    this.fill();
    this.checkDone();
  }

  /**
   * The job ended: the row ends with its status, or runs again while it has retries left. A COMPLETED job whose output
   * is empty or holds an error counts as a failed attempt (output-check.ts).
   */
  private ended(l: LiveJob, s: StatusResponse): void {
    const at = this.clock.now();
    this.runSlots.ended(at);
    const delayTime = typeof s.delayTime === 'number' ? s.delayTime : null;
    const executionTime = typeof s.executionTime === 'number' ? s.executionTime : null;
    const workerId = typeof s.workerId === 'string' && s.workerId !== '' ? s.workerId : null;
    const fate = jobFate(s, this.checks);
    const { status, error } = fate;
    this.bills.bill(executionTime);
    const sick = this.health.job(status, error);
    if (sick) this.stop({ kind: 'gave-up', reason: sick, cause: 'worker' });
    if (fate.retryable && l.row.failures < this.retries) {
      l.row.failures++;
      this.store.requeue(l.row.key, l.jobId, 'failed', at, {
        status: fate.jobStatus,
        error,
        code: fate.code,
        delayTime,
        executionTime,
        workerId,
      });
      this.requeue(l.row);
    } else {
      this.store.markTerminal({
        key: l.row.key,
        jobId: l.jobId,
        status,
        jobStatus: fate.jobStatus,
        finishedAt: at,
        e2eMs: l.resumed ? null : at - l.submittedAt,
        delayTime,
        executionTime,
        workerId,
        output:
          status !== 'COMPLETED' || s.output === undefined
            ? null
            : (this.store.encodeOutput?.(l.row.key, l.jobId, s.output) ?? JSON.stringify(s.output)),
        error: status === 'COMPLETED' ? null : (error ?? status),
        errorCode: fate.code,
      });
      if (status === 'COMPLETED') {
        this.counts.completed++;
        if (l.resumed) this.counts.completedResumed++;
      } else this.counts.failed++;
      this.rowEnded(status === 'COMPLETED');
    }
    this.jobGone();
  }

  /** 404 on /status: the job expired (its result outlived RunPod's retention while we were away) or was lost. */
  private lost(l: LiveJob): void {
    const at = this.clock.now();
    const reason = l.resumed && at - l.submittedAt > this.retentionMs ? 'expired' : 'lost';
    const reruns = (this.reruns.get(l.row.key) ?? 0) + 1;
    this.reruns.set(l.row.key, reruns);
    this.store.requeue(l.row.key, l.jobId, reason, at, { status: reason.toUpperCase() });
    if (reruns > this.maxReruns) {
      this.store.failRow(l.row.key, 'FAILED', `job ${reason} ${reruns} times (404 on /status)`, 'RPB_LOST', at);
      this.counts.failed++;
      this.rowEnded(false);
    } else {
      this.requeue(l.row);
    }
    this.jobGone();
  }

  /** A row goes back to be run again. */
  private requeue(row: WorkRow): void {
    row.jobId = null;
    this.counts.requeued++;
    this.queue.requeue(row);
  }

  /** A job left the run (ended or lost): make room for the next row. */
  private jobGone(): void {
    this.inflight--;
    this.fill();
    this.checkDone();
  }

  private rowEnded(completed: boolean): void {
    const sick = this.health.row(completed);
    if (sick) this.stop({ kind: 'gave-up', reason: sick, cause: 'worker' });
  }

  private fail(err: unknown, v: Verdict): void {
    if (v.kind === 'fatal') {
      this.stop({ kind: 'fatal', error: new RunpodBatchError(v.code, v.message, { cause: err }) });
    } else if (v.kind === 'retry') {
      this.stop({
        kind: 'gave-up',
        reason: `gave up after ${this.requester.maxConsecutiveFailures} transient failures in a row, the last: ${v.reason}`,
        cause: 'transient',
      });
    } else {
      this.stop({ kind: 'fatal', error: new RunpodBatchError('RPB_HTTP', err instanceof Error ? err.message : String(err)) });
    }
  }

  private checkDone(): void {
    if (this.finished) return;
    if (this.stopping) {
      if (this.pendingRuns === 0) this.finish();
      return;
    }
    if (this.inflight === 0 && this.budgetHit) {
      this.outcome = { kind: 'budget', reason: this.bills.reason() };
      this.finish();
      return;
    }
    if (this.inflight === 0 && this.queue.empty) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.drainTimer?.();
    this.sizing?.stop();
    this.store.flush();
    this.resolveDone(this.outcome);
  }
}
