import { setMaxListeners } from 'node:events';
import { RunpodBatchError } from '../errors.js';
import type { RunpodClient } from '../runpod/client.js';
import { isTerminal, type StatusResponse } from '../runpod/types.js';
import type { Store, WorkRow } from '../store/store.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { classify, type Verdict } from './classify.js';
import { OpGate } from './op-gate.js';
import { DEFAULT_POLL_POLICY, nextPollDelay, RecentWindow, type PollPolicy } from './poll-plan.js';
import { sleep } from './sleep.js';
import { DEFAULT_RATE_POLICY, RateController, type RatePolicy } from './rate-controller.js';
import { DEFAULT_HEALTH_POLICY, HealthMonitor, type HealthPolicy } from './health.js';

export interface SchedulerOptions {
  /** Most jobs in flight (submitted, not yet seen terminal). */
  concurrency: number;
  /** Times a FAILED or TIMED_OUT row is run again before it ends with that status. */
  retries: number;
  /** Times a row whose job was lost or expired (404 on /status) is run again before it fails. @default 5 */
  maxReruns?: number;
  backoff?: BackoffPolicy;
  poll?: PollPolicy;
  /** Transient failures in a row (5xx, resets, timeouts; 429s excluded) after which the run gives up. @default 25 */
  maxConsecutiveFailures?: number;
  /** On interrupt, how long answers to /run requests already sent are awaited, so their job ids are kept. @default 700 */
  drainMs?: number;
  /** RunPod keeps a /run result 30 minutes after the job ends; a job older than that answering 404 has expired. */
  retentionMs?: number;
  /** The status call may last as long as the handler runs (runpod-python's local test server): no client timeout. */
  untimedStatus?: boolean;
  /** Follow jobs with /status-sync long polls (falls back to planned /status polls where not served). @default true */
  longPoll?: boolean;
  /** ?wait of a long poll, ms (RunPod accepts 1000–90000). @default 90000 */
  longPollMs?: number;
  /** Most long polls open at once; jobs past it get planned short polls (RunPod: 400 concurrent /status). @default 300 */
  maxLongPolls?: number;
  /** Pacing after 429s. */
  rate?: RatePolicy;
  /** When to stop a batch whose endpoint looks broken (crash loop, sustained failures). */
  health?: HealthPolicy;
  /** Stop admitting rows before spent plus in flight would exceed `maxUsd` (--max-cost). */
  budget?: Budget | null;
}

export interface Budget {
  maxUsd: number;
  pricePerSecond: number;
  /** Billed seconds of earlier runs. */
  spentSeconds: number;
  /** Billed seconds per job seen so far (mean), null when no job has finished yet: 1 s, RunPod's smallest bill, is assumed. */
  perJobSeconds: number | null;
}

export interface SchedulerDeps {
  client: RunpodClient;
  store: Store;
  gen: number;
  /** Aborted on SIGINT/SIGTERM: stop admitting, keep what is known, return 'interrupted'. */
  signal?: AbortSignal;
  now?: () => number;
  random?: () => number;
}

export type Outcome =
  | { kind: 'done' }
  | { kind: 'interrupted' }
  | { kind: 'fatal'; error: RunpodBatchError }
  | { kind: 'gave-up'; reason: string }
  | { kind: 'budget'; reason: string };

export interface OpCount {
  requests: number;
  rateLimited: number;
  retries: number;
  errors: number;
}

export interface Progress {
  inFlight: number;
  submitted: number;
  completed: number;
  failed: number;
  requeued: number;
  /** Why the run is waiting, when it is (e.g. "429 on /run"), with ms left. */
  paused: { op: string; reason: string; ms: number } | null;
  /** /run requests per second the run paces itself to after 429s; null while unpaced. */
  runRate: number | null;
  /** Billed seconds of the jobs that ended in this run, and how many jobs had an executionTime. */
  billedSeconds: number;
  billedJobs: number;
}

interface Live {
  row: WorkRow;
  jobId: string;
  submittedAt: number;
  resumed: boolean;
  status: string | undefined;
  delayTime: number | undefined;
  timer: NodeJS.Timeout | undefined;
}


/** Rows read from the store at a time: small enough that a page's rows do not outlive a young-generation GC. */
const PAGE = 128;

/**
 * Pauses after a 429 without Retry-After: short and capped at 2 s. A rate window frees at a moment the client is not
 * told; probing every 2 s at most finds it soon after (a few 429s per window), where a 30 s cap could skip a window.
 */
const RATE_LIMIT_BACKOFF: BackoffPolicy = { baseMs: 250, factor: 2, maxMs: 2000, maxRetryAfterMs: 120_000, jitter: 0.2 };

/**
 * Admission and polling. At most `concurrency` rows hold a job (or a /run in progress); each answer to /run is
 * committed to the store before anything else; each job is polled when an answer is likely (poll-plan.ts).
 */
export class Scheduler {
  private readonly o: Required<SchedulerOptions>;
  private readonly client: RunpodClient;
  private readonly store: Store;
  private readonly gen: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly gates: Record<'run' | 'status', OpGate>;
  private readonly strikes = { run: 0, status: 0 };
  readonly ops: Record<string, OpCount> = {};

  private inflight = 0;
  private pendingRuns = 0;
  private readonly live = new Map<string, Live>();
  private readonly requeued: WorkRow[] = [];
  /** The page being admitted; a slot is cleared when its row is taken, so a finished row is not kept alive by it. */
  private page: (WorkRow | undefined)[] = [];
  /** Times a row's job was lost or expired in this run (rows that never lost one are not in it). */
  private readonly reruns = new Map<string, number>();
  private pageAt = 0;
  private cursor = -1;
  private exhausted = false;
  private stopping = false;
  private outcome: Outcome = { kind: 'done' };
  private consecutiveFailures = 0;
  private readonly pollAbort = new AbortController();
  private readonly runAbort = new AbortController();
  private resolveDone!: (o: Outcome) => void;
  private finished = false;
  private readonly execWindow = new RecentWindow(128);
  private readonly e2eWindow = new RecentWindow(128);
  private readonly counts = { submitted: 0, completed: 0, failed: 0, requeued: 0 };
  private longPolls: boolean;
  /** Some request has succeeded (the key and endpoint work). */
  private confirmed = false;
  private probe: { done: Promise<void>; release: () => void } | undefined;
  private readonly pace: Record<'run' | 'status', RateController>;
  private readonly health: HealthMonitor;
  private openLongPolls = 0;
  private readonly lastPollStart = new Map<string, number>();

  constructor(deps: SchedulerDeps, opts: SchedulerOptions) {
    this.o = {
      maxReruns: 5,
      backoff: DEFAULT_BACKOFF,
      poll: DEFAULT_POLL_POLICY,
      maxConsecutiveFailures: 25,
      drainMs: 700,
      retentionMs: 30 * 60_000,
      untimedStatus: false,
      longPoll: true,
      longPollMs: 90_000,
      maxLongPolls: 300,
      rate: DEFAULT_RATE_POLICY,
      health: DEFAULT_HEALTH_POLICY,
      budget: null,
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as SchedulerOptions),
    };
    this.longPolls = this.o.longPoll;
    this.client = deps.client;
    this.store = deps.store;
    this.gen = deps.gen;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    // Every request in flight listens on these two signals.
    setMaxListeners(0, this.pollAbort.signal, this.runAbort.signal);
    this.gates = { run: new OpGate(this.now, this.random), status: new OpGate(this.now, this.random) };
    this.pace = { run: new RateController(this.now, this.o.rate), status: new RateController(this.now, this.o.rate) };
    this.health = new HealthMonitor(this.o.health);
    deps.signal?.addEventListener('abort', () => this.stop({ kind: 'interrupted' }), { once: true });
    if (deps.signal?.aborted) this.stopping = true;
  }

  /** Runs until every row of this generation is terminal, or the run stops. */
  run(): Promise<Outcome> {
    const done = new Promise<Outcome>((resolve) => (this.resolveDone = resolve));
    if (this.stopping) {
      this.finish();
      return done;
    }
    // Jobs submitted by an earlier run are followed by id, never submitted again.
    for (const r of this.store.submittedRows(this.gen)) {
      this.inflight++;
      this.follow(r, r.jobId!, r.submittedAt ?? this.now(), true);
    }
    this.fill();
    this.checkDone();
    return done;
  }

  progress(): Progress {
    let paused: Progress['paused'] = null;
    for (const op of ['run', 'status'] as const) {
      const ms = this.gates[op].pausedFor();
      if (ms > 0) paused = { op, reason: this.gates[op].reason, ms };
    }
    const r = this.pace.run.rate;
    return {
      inFlight: this.inflight,
      ...this.counts,
      paused,
      runRate: r === Infinity ? null : r,
      billedSeconds: this.billedNow,
      billedJobs: this.billedJobs,
    };
  }

  private stop(outcome: Outcome): void {
    if (this.stopping) return;
    this.stopping = true;
    this.outcome = outcome;
    this.pollAbort.abort();
    for (const l of this.live.values()) clearTimeout(l.timer);
    this.live.clear();
    if (outcome.kind === 'interrupted') {
      // Give /run requests already sent a moment to answer: their job ids are then committed, not lost.
      setTimeout(() => this.runAbort.abort(), this.o.drainMs).unref();
    } else {
      this.runAbort.abort();
    }
    this.checkDone();
  }

  /** Billed seconds of jobs that ended in this run, and how many jobs they were. */
  private billedNow = 0;
  private billedJobs = 0;
  private budgetHit = false;

  /** Spent plus one more job in flight would pass --max-cost. */
  private overBudget(): boolean {
    const b = this.o.budget;
    if (!b) return false;
    const jobs = (b.perJobSeconds === null ? 0 : 1) + this.billedJobs;
    const perJob = jobs === 0 ? 1 : ((b.perJobSeconds ?? 0) + this.billedNow) / Math.max(1, jobs);
    const projected = (b.spentSeconds + this.billedNow + (this.inflight + 1) * Math.max(1, perJob)) * b.pricePerSecond;
    return projected > b.maxUsd;
  }

  private bill(executionTime: number | null): void {
    if (executionTime === null || executionTime <= 0) return;
    this.billedNow += Math.ceil(executionTime / 1000);
    this.billedJobs++;
  }

  private fill(): void {
    this.budgetHit = false;
    while (!this.stopping && this.inflight < this.o.concurrency) {
      const row = this.nextRow();
      if (!row) break;
      if (this.o.budget && this.overBudget()) {
        this.requeued.unshift(row); // not admitted: first in line if the budget allows later
        this.budgetHit = true;
        break;
      }
      this.inflight++;
      void this.submit(row);
    }
  }

  private nextRow(): WorkRow | undefined {
    const r = this.requeued.shift();
    if (r) return r;
    if (this.pageAt >= this.page.length) {
      if (this.exhausted) return undefined;
      this.page = this.store.pendingPage(this.gen, this.cursor, PAGE);
      this.pageAt = 0;
      if (this.page.length === 0) {
        this.exhausted = true;
        return undefined;
      }
      this.cursor = this.page[this.page.length - 1]!.seq;
    }
    const row = this.page[this.pageAt];
    this.page[this.pageAt++] = undefined;
    return row;
  }

  /** A row goes back to be run again: now if the page cursor passed it, else the page will bring it. */
  private requeue(row: WorkRow): void {
    row.jobId = null;
    this.counts.requeued++;
    if (row.seq <= this.cursor || this.exhausted) this.requeued.push(row);
  }

  private async submit(row: WorkRow): Promise<void> {
    this.pendingRuns++;
    try {
      const res = await this.request('run', 'run', (signal) => this.client.run(row.bodyJson, { signal }), this.runAbort.signal);
      const at = this.now();
      row.attempts++;
      // Same tick as the answer: the job id is committed before anything else can happen.
      this.store.markSubmitted(row.key, res.id, row.attempts, at, res.status);
      this.counts.submitted++;
      if (this.stopping) {
        this.inflight--;
      } else {
        this.follow(row, res.id, at, false);
      }
    } catch (err) {
      this.inflight--;
      const v = (err as { verdict?: Verdict }).verdict ?? classify('run', err);
      if (v.kind === 'bad-row') {
        this.store.failRow(row.key, 'FAILED', v.message, 'RPB_BAD_REQUEST', this.now());
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

  private follow(row: WorkRow, jobId: string, submittedAt: number, resumed: boolean): void {
    row.jobId = jobId;
    const l: Live = { row, jobId, submittedAt, resumed, status: undefined, delayTime: undefined, timer: undefined };
    this.live.set(jobId, l);
    // A long poll, or a status call that runs the handler (local test server), is best sent at once.
    this.schedulePoll(l, resumed || this.longPolls || this.o.untimedStatus ? 0 : this.pollDelay(l));
  }

  private pollDelay(l: Live): number {
    return nextPollDelay(
      {
        elapsedMs: this.now() - l.submittedAt,
        status: l.status,
        delayTime: l.delayTime,
        expectedExecMs: this.execWindow.quantile(0.5),
        expectedE2eMs: this.e2eWindow.quantile(0.5),
      },
      this.o.poll,
    );
  }

  private schedulePoll(l: Live, ms: number): void {
    if (ms <= 0) void this.poll(l);
    else l.timer = setTimeout(() => void this.poll(l), ms);
  }

  private async poll(l: Live): Promise<void> {
    l.timer = undefined;
    let s: StatusResponse;
    let longPoll = false;
    try {
      longPoll = this.longPolls && this.openLongPolls < this.o.maxLongPolls;
      s = longPoll ? await this.longPoll(l) : await this.shortPoll(l);
    } catch (err) {
      if (this.stopping) return;
      const v = (err as { verdict?: Verdict }).verdict ?? classify('status', err);
      if (v.kind === 'lost') this.lost(l);
      else if (v.kind !== 'aborted') this.fail(err, v);
      return;
    }
    if (this.stopping) return;
    // runpod-python's local test server deletes a job after its first status answer and then says so as a FAILED job.
    if (s.status === 'FAILED' && s.error === 'Job ID not found') return this.lost(l);
    if (!isTerminal(s.status)) {
      l.status = s.status;
      if (typeof s.delayTime === 'number') l.delayTime = s.delayTime;
      // A long poll that came back early without news (a server ignoring ?wait) must not become a busy loop.
      const early = longPoll && this.now() - this.lastPollStart.get(l.jobId)! < this.o.longPollMs / 2;
      this.schedulePoll(l, longPoll && !early ? 0 : this.pollDelay(l));
      return;
    }
    this.terminal(l, s);
  }

  private shortPoll(l: Live): Promise<StatusResponse> {
    return this.request(
      'status',
      'status',
      (signal) => this.client.status(l.jobId, { signal, noTimeout: this.o.untimedStatus }),
      this.pollAbort.signal,
    );
  }

  /**
   * /status-sync holds the answer until the job ends (or ?wait passes): one call per job and no detection delay.
   * It is not in RunPod's current docs (runpod-sdk uses it): a 404 is checked with /status, and if /status knows the
   * job, the endpoint does not serve long polls and the run goes on with planned short polls.
   */
  private async longPoll(l: Live): Promise<StatusResponse> {
    this.openLongPolls++;
    this.lastPollStart.set(l.jobId, this.now());
    try {
      return await this.request(
        'status',
        'status-sync',
        (signal) => this.client.statusSync(l.jobId, this.o.longPollMs, { signal }),
        this.pollAbort.signal,
      );
    } catch (err) {
      const v = (err as { verdict?: Verdict }).verdict;
      if (v?.kind !== 'lost') throw err;
      const s = await this.shortPoll(l);
      this.longPolls = false;
      return s;
    } finally {
      this.openLongPolls--;
      this.lastPollStart.delete(l.jobId);
    }
  }

  private terminal(l: Live, s: StatusResponse): void {
    this.live.delete(l.jobId);
    const at = this.now();
    const delayTime = typeof s.delayTime === 'number' ? s.delayTime : null;
    const executionTime = typeof s.executionTime === 'number' ? s.executionTime : null;
    const error = s.error === undefined || s.error === null ? null : typeof s.error === 'string' ? s.error : JSON.stringify(s.error);
    if (s.status === 'COMPLETED') {
      if (executionTime !== null) this.execWindow.push(executionTime);
      // Learn the job's true duration (RunPod's delayTime + executionTime) where reported: the end-to-end time seen
      // here includes our own detection delay, and learning from it would make late polls later still.
      if (delayTime !== null && executionTime !== null) this.e2eWindow.push(delayTime + executionTime);
      else if (!l.resumed) this.e2eWindow.push(at - l.submittedAt);
    }
    this.bill(executionTime);
    const sick = this.health.job(s.status, error);
    if (sick) this.stop({ kind: 'gave-up', reason: sick });
    if ((s.status === 'FAILED' || s.status === 'TIMED_OUT') && l.row.failures < this.o.retries) {
      l.row.failures++;
      this.store.requeue(l.row.key, l.jobId, 'failed', at, { status: s.status, error, delayTime, executionTime });
      this.requeue(l.row);
    } else {
      this.store.markTerminal({
        key: l.row.key,
        jobId: l.jobId,
        status: s.status,
        finishedAt: at,
        e2eMs: at - l.submittedAt,
        delayTime,
        executionTime,
        output: s.output === undefined ? null : JSON.stringify(s.output),
        error: s.status === 'COMPLETED' ? null : (error ?? s.status),
      });
      if (s.status === 'COMPLETED') this.counts.completed++;
      else this.counts.failed++;
      this.rowEnded(s.status === 'COMPLETED');
    }
    this.inflight--;
    this.fill();
    this.checkDone();
  }

  /** 404 on /status: the job expired (its result outlived RunPod's retention while we were away) or was lost. */
  private lost(l: Live): void {
    this.live.delete(l.jobId);
    const at = this.now();
    const reason = l.resumed && at - l.submittedAt > this.o.retentionMs ? 'expired' : 'lost';
    const reruns = (this.reruns.get(l.row.key) ?? 0) + 1;
    this.reruns.set(l.row.key, reruns);
    if (reruns > this.o.maxReruns) {
      this.store.requeue(l.row.key, l.jobId, reason, at, { status: reason.toUpperCase() });
      this.store.failRow(l.row.key, 'FAILED', `job ${reason} ${reruns} times (404 on /status)`, 'RPB_LOST', at);
      this.counts.failed++;
      this.rowEnded(false);
    } else {
      this.store.requeue(l.row.key, l.jobId, reason, at, { status: reason.toUpperCase() });
      this.requeue(l.row);
    }
    this.inflight--;
    this.fill();
    this.checkDone();
  }

  private rowEnded(completed: boolean): void {
    const sick = this.health.row(completed);
    if (sick) this.stop({ kind: 'gave-up', reason: sick });
  }

  private fail(err: unknown, v: Verdict): void {
    if (v.kind === 'fatal') {
      this.stop({ kind: 'fatal', error: new RunpodBatchError(v.code, v.message, { cause: err }) });
    } else if (v.kind === 'retry') {
      this.stop({ kind: 'gave-up', reason: `gave up after ${this.o.maxConsecutiveFailures} transient failures in a row, the last: ${v.reason}` });
    } else {
      this.stop({ kind: 'fatal', error: new RunpodBatchError('RPB_HTTP', err instanceof Error ? err.message : String(err)) });
    }
  }

  private count(op: string): OpCount {
    return (this.ops[op] ??= { requests: 0, rateLimited: 0, retries: 0, errors: 0 });
  }

  /**
   * One logical request with retries: transient failures back off exponentially with jitter (Retry-After wins);
   * a 429 pauses every request of that operation and lowers its pace (rate-controller.ts). Until one request has
   * succeeded, requests go one at a time: a bad key or endpoint costs one request, not `concurrency` of them.
   * Throws with a `verdict` when it will not retry.
   */
  private async request<T>(op: 'run' | 'status', name: string, fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const c = this.count(name);
    const gate = this.gates[op];
    const pace = this.pace[op];
    const aborted = (err: unknown) => Object.assign(err as Error, { verdict: { kind: 'aborted' } satisfies Verdict });
    let probe = false;
    while (!this.confirmed && this.probe) await this.probe.done;
    if (signal.aborted) throw aborted(new RunpodBatchError('RPB_ABORTED', 'aborted'));
    if (!this.confirmed) {
      let release!: () => void;
      this.probe = { done: new Promise<void>((r) => (release = r)), release };
      probe = true;
    }
    try {
      for (let attempt = 1; ; attempt++) {
        // Most requests find the gate open and no pace set: they go without a wait (or an await).
        if (gate.pausedFor() > 0 || pace.rate !== Infinity) {
          try {
            await gate.ready(signal);
            const wait = pace.reserve();
            if (wait > 0) await sleep(wait, signal);
          } catch (err) {
            throw aborted(err);
          }
        }
        c.requests++;
        const sentAt = this.now();
        try {
          const out = await fn(signal);
          this.consecutiveFailures = 0;
          this.strikes[op] = 0;
          this.confirmed = true;
          pace.onSuccess();
          return out;
        } catch (err) {
          const v = signal.aborted ? ({ kind: 'aborted' } as const) : classify(op, err);
          if (v.kind !== 'retry') {
            if (v.kind !== 'aborted' && v.kind !== 'lost') c.errors++;
            if (v.kind === 'lost') this.confirmed = true;
            throw Object.assign(err as Error, { verdict: v });
          }
          c.errors++;
          c.retries++;
          if (v.rateLimited) {
            c.rateLimited++;
            pace.onRateLimited(v.retryAfterMs);
            // Requests sent before the latest pause began are the same burst: one burst escalates the backoff once.
            if (sentAt >= gate.pausedAt || v.retryAfterMs !== undefined) {
              if (sentAt >= gate.pausedAt) this.strikes[op]++;
              gate.pause(backoffDelay(Math.max(1, this.strikes[op]), v.retryAfterMs, RATE_LIMIT_BACKOFF, this.random), `429 on /${name}`);
            }
            continue;
          }
          if (++this.consecutiveFailures >= this.o.maxConsecutiveFailures) throw Object.assign(err as Error, { verdict: v });
          try {
            await sleep(backoffDelay(attempt, v.retryAfterMs, this.o.backoff, this.random), signal);
          } catch (e) {
            throw aborted(e);
          }
        }
      }
    } finally {
      if (probe) {
        const p = this.probe!;
        this.probe = undefined;
        p.release();
      }
    }
  }

  private checkDone(): void {
    if (this.finished) return;
    if (this.stopping) {
      if (this.pendingRuns === 0) this.finish();
      return;
    }
    if (this.inflight === 0 && this.budgetHit) {
      const b = this.o.budget!;
      const spent = (b.spentSeconds + this.billedNow) * b.pricePerSecond;
      this.outcome = {
        kind: 'budget',
        reason: `--max-cost $${b.maxUsd} reached: $${spent.toFixed(4)} spent, one more job would pass it; rerun with a higher --max-cost to continue`,
      };
      return this.finish();
    }
    if (this.inflight === 0 && this.exhausted && this.requeued.length === 0 && this.pageAt >= this.page.length) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.store.flush();
    this.resolveDone(this.outcome);
  }
}
