import type { WorkRow } from '../core/records.js';
import type { StatusResponse } from '../core/wire.js';
import { isTerminal, RUNPOD } from '../core/wire.js';
import { RequestFailed, verdictOf, type Verdict } from './classify.js';
import type { CancelTimer, Clock } from './clock.js';
import { DEFAULT_POLL_POLICY, nextPollDelay, RecentWindow, type PollPolicy } from './poll-plan.js';
import type { SchedulerClient } from './ports.js';
import type { Requester } from './requester.js';

/** A job being followed until it ends. */
export interface LiveJob {
  row: WorkRow;
  jobId: string;
  submittedAt: number;
  /** Submitted by an earlier run, re-attached by id. */
  resumed: boolean;
  status: string | undefined;
  delayTime: number | undefined;
  timer: CancelTimer | undefined;
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
  poll?: PollPolicy;
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
 * not served, /status polls planned around each job's predicted finish (poll-plan.ts), learned from the jobs seen.
 */
export class JobFollower {
  private readonly live = new Map<string, LiveJob>();
  private readonly o: Required<FollowOptions>;
  private longPolls: boolean;
  private openLongPolls = 0;
  private readonly lastPollStart = new Map<string, number>();
  private readonly execWindow = new RecentWindow(128);
  private readonly e2eWindow = new RecentWindow(128);
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
      poll: o.poll ?? DEFAULT_POLL_POLICY,
    };
    this.longPolls = this.o.longPoll;
  }

  follow(row: WorkRow, jobId: string, submittedAt: number, resumed: boolean): void {
    row.jobId = jobId;
    const l: LiveJob = { row, jobId, submittedAt, resumed, status: undefined, delayTime: undefined, timer: undefined };
    this.live.set(jobId, l);
    // A long poll, or a status call that runs the handler (local test server), is best sent at once.
    this.schedulePoll(l, resumed || this.longPolls || this.o.untimedStatus ? 0 : this.pollDelay(l));
  }

  /** Stops following every job: no poll is sent or acted on after this. */
  stopAll(): void {
    this.stopped = true;
    for (const l of this.live.values()) l.timer?.();
    this.live.clear();
  }

  private pollDelay(l: LiveJob): number {
    return nextPollDelay(
      {
        elapsedMs: this.clock.now() - l.submittedAt,
        status: l.status,
        delayTime: l.delayTime,
        expectedExecMs: this.execWindow.quantile(0.5),
        expectedE2eMs: this.e2eWindow.quantile(0.5),
      },
      this.o.poll,
    );
  }

  private schedulePoll(l: LiveJob, ms: number): void {
    if (ms <= 0) void this.poll(l);
    else l.timer = this.clock.setTimer(() => void this.poll(l), ms);
  }

  private async poll(l: LiveJob): Promise<void> {
    l.timer = undefined;
    let s: StatusResponse;
    let longPoll = false;
    try {
      longPoll = this.longPolls && this.openLongPolls < this.o.maxLongPolls;
      s = longPoll ? await this.longPoll(l) : await this.shortPoll(l);
    } catch (err) {
      if (this.stopped) return;
      const v = verdictOf('status', err);
      if (v.kind === 'lost') this.lose(l);
      else if (v.kind !== 'aborted') this.events.failed(err, v);
      return;
    }
    if (this.stopped) return;
    // runpod-python's local test server deletes a job after its first status answer and then says so as a FAILED job.
    if (s.status === 'FAILED' && s.error === 'Job ID not found') {
      this.lose(l);
      return;
    }
    if (!isTerminal(s.status)) {
      l.status = s.status;
      if (typeof s.delayTime === 'number') l.delayTime = s.delayTime;
      // A long poll that came back early without news (a server ignoring ?wait) must not become a busy loop.
      const early = longPoll && this.clock.now() - (this.lastPollStart.get(l.jobId) ?? 0) < this.o.longPollMs / 2;
      this.schedulePoll(l, longPoll && !early ? 0 : this.pollDelay(l));
      return;
    }
    this.live.delete(l.jobId);
    this.learn(l, s);
    this.events.ended(l, s);
  }

  private lose(l: LiveJob): void {
    this.live.delete(l.jobId);
    this.events.lost(l);
  }

  /**
   * Learn the job's true duration (RunPod's delayTime + executionTime) where reported: the end-to-end time seen here
   * includes our own detection delay, and learning from it would make late polls later still.
   */
  private learn(l: LiveJob, s: StatusResponse): void {
    if (s.status !== 'COMPLETED') return;
    const delayTime = typeof s.delayTime === 'number' ? s.delayTime : null;
    const executionTime = typeof s.executionTime === 'number' ? s.executionTime : null;
    if (executionTime !== null) this.execWindow.push(executionTime);
    if (delayTime !== null && executionTime !== null) this.e2eWindow.push(delayTime + executionTime);
    else if (!l.resumed) this.e2eWindow.push(this.clock.now() - l.submittedAt);
  }

  private shortPoll(l: LiveJob): Promise<StatusResponse> {
    return this.requester.request(
      'status',
      'status',
      (signal) => this.client.status(l.jobId, { signal, noTimeout: this.o.untimedStatus }),
      this.signal,
    );
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
      const s = await this.shortPoll(l);
      this.longPolls = false;
      return s;
    } finally {
      this.openLongPolls--;
      this.lastPollStart.delete(l.jobId);
    }
  }
}
