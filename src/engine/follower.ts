import type { WorkRow } from '../core/records.js';
import type { StatusResponse, StreamResponse } from '../core/wire.js';
import { isTerminal, RUNPOD } from '../core/wire.js';
import { classify, RequestFailed, verdictOf, type Verdict } from './classify.js';
import { isEmptyOutput } from './output-check.js';
import { sleep, type CancelTimer, type Clock } from './clock.js';
import { DEFAULT_POLL_POLICY, PollPredictor, scoutDelay, type PlannedJob, type PollPolicy } from './poll-plan.js';
import type { SchedulerClient } from './ports.js';
import type { Requester } from './requester.js';
import type { HealthSample } from './sizing.js';
import { DEFAULT_STATUS_BUDGET, StatusBudget, type StatusBudgetPolicy } from './status-budget.js';

/** A job being followed until it ends. */
export interface LiveJob extends PlannedJob {
  row: WorkRow;
  jobId: string;
  delayTime: number | undefined;
  timer: CancelTimer | undefined;
  /** A poll of this job is in flight: no second one starts (two chains of polls would each end the job). */
  polling?: boolean;
}

export interface FollowOptions {
  /** Follow jobs with /status-sync long polls (falls back to planned /status polls where not served). @default true */
  longPoll?: boolean;
  /** ?wait of a long poll, ms (RunPod accepts 1000–90000). @default 90000 */
  longPollMs?: number;
  /** Most long polls open at once; jobs past it get planned short polls (RunPod: 400 concurrent /status). @default 300 */
  maxLongPolls?: number;
  /** The status call may last as long as the handler runs (runpod-python's local test server): no client timeout. */
  untimedStatus?: boolean;
  /** A COMPLETED job with an empty output gets its chunks from /stream/{id} as its output. @default false */
  stream?: boolean;
  poll?: PollPolicy;
  /** The fleet-wide budget of planned polls (RunPod's /status limits). */
  statusBudget?: StatusBudgetPolicy;
  /** The latest /health sample, when the run reads /health (auto-sizing); it tells the plan the worker count. */
  fleet?: () => HealthSample | null;
}

/** What the follower reports; the scheduler decides what each means for the row. */
export interface FollowEvents {
  /** The job reached a terminal status. */
  ended(l: LiveJob, s: StatusResponse): void;
  /** /status answered 404: the job expired or was lost. */
  lost(l: LiveJob): void;
  /** A status call failed for good. */
  failed(err: unknown, v: Verdict): void;
}

/**
 * Follows each job until it ends: a /status-sync long poll per job (one call, no detection delay), or where that is
 * not served, /status polls planned around each job's predicted end (poll-plan.ts), learned from the jobs seen and
 * kept within RunPod's /status budget (status-budget.ts). Before any job has ended nothing is known of how long jobs
 * take: one scout poll at a time goes to the oldest jobs, at waits growing with their age, until one has ended.
 */
export class JobFollower {
  private readonly live = new Map<string, LiveJob>();
  private readonly o: Required<Omit<FollowOptions, 'fleet'>> & Pick<FollowOptions, 'fleet'>;
  private longPolls: boolean;
  private openLongPolls = 0;
  private openShortPolls = 0;
  /** Short polls waiting for a free slot under `maxOpen`. */
  private readonly overOpen: (() => void)[] = [];
  private readonly lastPollStart = new Map<string, number>();
  private readonly plan: PollPredictor;
  private readonly budget: StatusBudget;
  private seq = 0;
  /** Jobs waiting for a first job to end before their polls can be planned (scouted meanwhile), oldest first. */
  private readonly waiting = new Set<LiveJob>();
  private scoutTimer: CancelTimer | undefined;
  private stopped = false;

  constructor(
    private readonly client: SchedulerClient,
    private readonly requester: Requester,
    private readonly clock: Clock,
    /** Aborted when the run stops: every status call listens on it. */
    private readonly signal: AbortSignal,
    private readonly events: FollowEvents,
    o: FollowOptions,
  ) {
    this.o = {
      longPoll: o.longPoll ?? true,
      longPollMs: o.longPollMs ?? RUNPOD.maxLongPollMs,
      maxLongPolls: o.maxLongPolls ?? 300,
      untimedStatus: o.untimedStatus ?? false,
      stream: o.stream ?? false,
      poll: o.poll ?? DEFAULT_POLL_POLICY,
      statusBudget: o.statusBudget ?? DEFAULT_STATUS_BUDGET,
      fleet: o.fleet,
    };
    this.longPolls = this.o.longPoll;
    this.plan = new PollPredictor(this.o.poll);
    this.budget = new StatusBudget(this.o.statusBudget);
  }

  follow(row: WorkRow, jobId: string, submittedAt: number, resumed: boolean): void {
    row.jobId = jobId;
    const l: LiveJob = {
      row,
      jobId,
      submittedAt,
      resumed,
      status: undefined,
      delayTime: undefined,
      timer: undefined,
      k: this.seq++,
      startAt: undefined,
      planStart: undefined,
      ruledOut: undefined,
    };
    this.live.set(jobId, l);
    this.plan.admitted(l);
    // A long poll, or a status call that runs the handler (local test server), is best sent at once; so is the first
    // look at a job of an earlier run (it may have ended while we were away).
    if (resumed || this.longPolls || this.o.untimedStatus) this.schedulePoll(l, 0);
    else this.planNext(l);
  }

  /** Stops following every job: no poll is sent or acted on after this. */
  stopAll(): void {
    this.stopped = true;
    this.scoutTimer?.();
    for (const l of this.live.values()) l.timer?.();
    this.live.clear();
    this.waiting.clear();
    this.overOpen.length = 0;
  }

  private observeFleet(): void {
    const h = this.o.fleet?.();
    if (!h) return;
    this.plan.observe({ workers: h.running + h.idle + h.initializing, inQueue: h.inQueue, inProgress: h.inProgress });
    this.budget.setWorkers(h.running + h.idle);
  }

  /** Plans the job's next poll, or leaves it to the scouts while nothing is learned. */
  private planNext(l: LiveJob): void {
    this.observeFleet();
    const now = this.clock.now();
    const at = this.plan.nextPoll(l, now);
    if (at === undefined) {
      this.waiting.add(l);
      this.scout();
      return;
    }
    this.waiting.delete(l);
    this.schedulePoll(l, at - now);
  }

  /**
   * Before any job ended: one scout poll at a time, to the least recently polled of the four oldest jobs, at waits
   * growing with the oldest one's age (scoutDelay), until an answer teaches the plan how long jobs take.
   */
  private scout(): void {
    if (this.scoutTimer || this.stopped) return;
    const oldest = this.waiting.values().next().value;
    if (!oldest) return;
    const now = this.clock.now();
    const wait = scoutDelay(now - this.plan.start(oldest), this.o.poll);
    this.scoutTimer = this.clock.setTimer(() => {
      this.scoutTimer = undefined;
      if (this.stopped || this.plan.learned) return;
      // Jobs seen queued start after the others (FIFO): scout them only when no other is left.
      let pick: LiveJob | undefined;
      let queued: LiveJob | undefined;
      let seen = 0;
      for (const l of this.waiting) {
        if (l.timer || l.polling) continue;
        if (l.status === 'IN_QUEUE') {
          queued ??= l;
          continue;
        }
        if (!pick || (l.ruledOut ?? -Infinity) < (pick.ruledOut ?? -Infinity)) pick = l;
        if (++seen >= 4) break;
      }
      pick ??= queued;
      if (pick) void this.poll(pick);
      else this.scout();
    }, wait);
  }

  /** Once a job has taught the plan, every job waiting for that gets its polls planned. */
  private planWaiting(): void {
    if (!this.plan.learned) {
      this.scout();
      return;
    }
    this.scoutTimer?.();
    this.scoutTimer = undefined;
    if (this.waiting.size === 0) return;
    // A job whose poll is in flight is planned when that poll answers.
    for (const l of [...this.waiting]) if (!l.timer && !l.polling) this.planNext(l);
  }

  private schedulePoll(l: LiveJob, ms: number): void {
    l.timer?.();
    l.timer = undefined;
    if (ms <= 0) void this.poll(l);
    else
      l.timer = this.clock.setTimer(() => {
        l.timer = undefined;
        void this.poll(l);
      }, ms);
  }

  private async poll(l: LiveJob): Promise<void> {
    l.timer = undefined;
    // One poll of a job at a time, and none once it has ended: a scout poll still in flight when the plan is learned
    // (planWaiting) would otherwise start a second chain of polls, and both would end the job — counted twice, the
    // run then ends with jobs still running (seen with 1,000 workers: 3 rows left SUBMITTED).
    if (l.polling || this.live.get(l.jobId) !== l) return;
    l.polling = true;
    let s: StatusResponse;
    let longPoll = false;
    let sentAt = this.clock.now();
    try {
      longPoll = this.longPolls && this.openLongPolls < this.o.maxLongPolls;
      if (longPoll) s = await this.longPoll(l);
      else {
        sentAt = await this.slot();
        if (this.stopped) return;
        s = await this.shortPoll(l);
      }
    } catch (err) {
      l.polling = false;
      if (this.stopped) return;
      const v = verdictOf('status', err);
      if (v.kind === 'lost') this.lose(l);
      else if (v.kind !== 'aborted') this.events.failed(err, v);
      return;
    }
    // A job whose chunks are to be read from /stream stays `polling` until they are: a scout or a plan must not start
    // another poll that would collect too (/stream serves each chunk once, so two readers would split them).
    const collect = this.o.stream && s.status === 'COMPLETED' && isEmptyOutput(s.output);
    l.polling = collect;
    if (this.stopped) return;
    // runpod-python's local test server deletes a job after its first status answer and then says so as a FAILED job.
    if (s.status === 'FAILED' && s.error === 'Job ID not found') {
      this.lose(l);
      return;
    }
    if (!isTerminal(s.status)) {
      l.status = s.status;
      l.ruledOut = longPoll ? this.clock.now() : sentAt;
      if (typeof s.delayTime === 'number') l.delayTime = s.delayTime;
      if (s.status === 'IN_PROGRESS' && l.delayTime !== undefined && l.startAt === undefined && !l.resumed) {
        l.startAt = l.submittedAt + l.delayTime;
        this.plan.started(l);
      }
      // A long poll that came back early without news (a server ignoring ?wait) must not become a busy loop.
      const early = longPoll && this.clock.now() - (this.lastPollStart.get(l.jobId) ?? 0) < this.o.longPollMs / 2;
      if (longPoll && !early) this.schedulePoll(l, 0);
      else if (this.waiting.has(l) && !this.plan.learned) this.scout();
      else this.planNext(l);
      return;
    }
    if (collect) {
      try {
        const chunks = await this.collectStream(l);
        if (chunks.length > 0) s = { ...s, output: chunks };
      } catch (err) {
        l.polling = false;
        if (this.stopped) return;
        // A 404 on /stream for a job just seen COMPLETED: the endpoint does not serve /stream (classify.ts says so).
        const v = verdictOf('stream', err);
        const cause = err instanceof RequestFailed ? err.cause : err;
        if (v.kind !== 'aborted') this.events.failed(err, v.kind === 'lost' ? classify('stream', cause) : v);
        return;
      }
      if (this.stopped || this.live.get(l.jobId) !== l) return;
    }
    this.live.delete(l.jobId);
    this.waiting.delete(l);
    this.learn(l, s);
    this.events.ended(l, s);
    this.planWaiting();
  }

  /**
   * A generator handler's output (no return_aggregate_stream): the chunks /stream/{id} serves, each read once, until
   * an answer says the job is terminal and has no chunk left — runpod-python's own stream loop. Returns the chunks'
   * outputs in order.
   */
  private async collectStream(l: LiveJob): Promise<unknown[]> {
    const stream = this.client.stream;
    if (!stream) return [];
    const outputs: unknown[] = [];
    for (;;) {
      await this.slot();
      let a: StreamResponse;
      try {
        a = await this.requester.request('status', 'stream', (signal) => stream(l.jobId, { signal }), this.signal);
      } finally {
        this.closeSlot();
      }
      const chunks = Array.isArray(a.stream) ? a.stream : [];
      for (const c of chunks) outputs.push(c?.output ?? null);
      if (isTerminal(a.status) && chunks.length === 0) return outputs;
      if (this.stopped) return outputs;
    }
  }

  /**
   * Waits for the poll's turn in the budget (a slot in the rate, then a place under `shortAtOnce` short polls and
   * `maxOpen` status calls at once, long polls included); resolves with the time it is sent. Every caller must end
   * with `closeSlot`.
   */
  private async slot(): Promise<number> {
    const wait = this.budget.reserve(this.clock.now());
    if (wait > 0) await sleep(wait, this.signal, this.clock);
    const b = this.o.statusBudget;
    while (!this.stopped && (this.openShortPolls >= b.shortAtOnce || this.openShortPolls + this.openLongPolls >= b.maxOpen)) {
      await new Promise<void>((resolve) => this.overOpen.push(resolve));
    }
    this.openShortPolls++;
    return this.clock.now();
  }

  private closeSlot(): void {
    this.openShortPolls--;
    this.overOpen.shift()?.();
  }

  private lose(l: LiveJob): void {
    if (this.live.get(l.jobId) !== l) return;
    this.live.delete(l.jobId);
    this.waiting.delete(l);
    this.events.lost(l);
    this.planWaiting();
  }

  /** Learn from the job's reported times (delayTime + executionTime): not from our own detection delay. */
  private learn(l: LiveJob, s: StatusResponse): void {
    if (s.status !== 'COMPLETED') return;
    const delayTime = typeof s.delayTime === 'number' ? s.delayTime : null;
    const executionTime = typeof s.executionTime === 'number' ? s.executionTime : null;
    this.plan.ended(l, delayTime, executionTime, this.clock.now());
  }

  private async shortPoll(l: LiveJob): Promise<StatusResponse> {
    try {
      return await this.requester.request(
        'status',
        'status',
        (signal) => this.client.status(l.jobId, { signal, noTimeout: this.o.untimedStatus }),
        this.signal,
      );
    } finally {
      this.closeSlot();
    }
  }

  /**
   * /status-sync holds the answer until the job ends (or ?wait passes): one call per job and no detection delay.
   * It is not in RunPod's current docs (runpod-sdk uses it): a 404 is checked with /status, and if /status knows the
   * job, the endpoint does not serve long polls and the run goes on with planned short polls.
   */
  private async longPoll(l: LiveJob): Promise<StatusResponse> {
    this.openLongPolls++;
    this.lastPollStart.set(l.jobId, this.clock.now());
    try {
      return await this.requester.request(
        'status',
        'status-sync',
        (signal) => this.client.statusSync(l.jobId, this.o.longPollMs, { signal }),
        this.signal,
      );
    } catch (err) {
      if (!(err instanceof RequestFailed && err.verdict.kind === 'lost')) throw err;
      await this.slot();
      const s = await this.shortPoll(l);
      this.longPolls = false;
      return s;
    } finally {
      this.openLongPolls--;
      this.lastPollStart.delete(l.jobId);
    }
  }
}
