import type { RunpodBatchError } from '../core/errors.js';
import type { BackoffPolicy } from './backoff.js';
import type { Budget } from './budget.js';
import type { Clock } from './clock.js';
import type { HealthPolicy } from './health.js';
import type { PollPolicy } from './poll-plan.js';
import type { SchedulerClient, SchedulerStore } from './ports.js';
import type { RatePolicy } from './rate-controller.js';
import type { StatusBudgetPolicy } from './status-budget.js';
import type { Retrying } from './requester.js';
import type { SizingDecision, SizingPolicy } from './sizing.js';

export type { Budget } from './budget.js';

/** The scheduler's options, what it works with, and what it reports (scheduler.ts). */

export interface SchedulerOptions {
  /** Most jobs in flight (submitted, not yet seen terminal): the target with a fixed size, the cap with `autoSize`. */
  concurrency: number;
  /**
   * Learn the in-flight target from the endpoint's /health (sizing.ts), capped by `concurrency`; null or absent: a
   * fixed target of `concurrency`.
   */
  autoSize?: Partial<SizingPolicy> | null;
  /** How often /health is read while sizing. @default 3000 */
  healthEveryMs?: number;
  /** /run requests in flight at once: at least `min`, more only as the pace needs (RunSlots). @default {min: 8, max: 200} */
  runSlots?: { min?: number; max?: number };
  /**
   * Times a row is run again after a failed attempt (FAILED, TIMED_OUT, a COMPLETED job with an empty output or a
   * retryable error inside it: output-check.ts) before it ends FAILED or TIMED_OUT.
   */
  retries: number;
  /** A COMPLETED job with an empty output is a success, not a failed attempt (output-check.ts). @default false */
  acceptEmptyOutput?: boolean;
  /** Read a COMPLETED job's chunks from /stream/{id} when its output is empty (follower.ts). @default false */
  stream?: boolean;
  /** Times a row whose job was lost or expired (404 on /status) is run again before it fails. @default 5 */
  maxReruns?: number;
  backoff?: BackoffPolicy;
  poll?: PollPolicy;
  /** The budget of planned /status polls (RunPod: 2,000 per 10 s, 400 at once). */
  statusBudget?: StatusBudgetPolicy;
  /** Transient failures in a row (5xx, resets, timeouts; 429s excluded) after which the run gives up. @default 25 */
  maxConsecutiveFailures?: number;
  /** Before any answer, how long an unreachable server is tried before the run stops (requester.ts). @default 30000 */
  unreachableMs?: number;
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
  /** Admit only rows whose position in the input (seq) is below this; the rest stay PENDING. @default all */
  admitBelowSeq?: number;
  /** Stop admitting rows before spent plus in flight would exceed `maxUsd` (--max-cost). */
  budget?: Budget | null;
}

export interface SchedulerDeps {
  client: SchedulerClient;
  store: SchedulerStore;
  gen: number;
  /** Aborted on SIGINT/SIGTERM: stop admitting, keep what is known, return 'interrupted'. */
  signal?: AbortSignal;
  /** @default the system clock */
  clock?: Clock;
  random?: () => number;
}

export type Outcome =
  | { kind: 'done' }
  | { kind: 'interrupted' }
  | { kind: 'fatal'; error: RunpodBatchError }
  /** `worker`: its jobs kept failing (crash loop, failure rate); `transient`: requests kept failing. */
  | { kind: 'gave-up'; reason: string; cause: 'worker' | 'transient' }
  | { kind: 'budget'; reason: string };

export interface Progress {
  /** Jobs RunPod accepted and that have not ended (a /run still waiting for its answer is not counted). */
  inFlight: number;
  submitted: number;
  completed: number;
  /** Of `completed`, jobs of an earlier run re-attached by id (they end at once after a resume: not this run's pace). */
  completedResumed: number;
  failed: number;
  /** Rows sent back to run again: a FAILED or TIMED_OUT attempt with retries left, or a lost job. */
  requeued: number;
  /** Why the run is waiting, when it is (e.g. "429 on /run"), with ms left. */
  paused: { op: string; reason: string; ms: number } | null;
  /** /run requests per second the run paces itself to after 429s; null while unpaced. */
  runRate: number | null;
  /** The in-flight target and why (auto-sizing), e.g. "holding: 60 workers, queue 8"; null with a fixed size. */
  sizing: SizingDecision | null;
  /** Transient failures being retried (since the last success), e.g. ECONNREFUSED 3 of 25; null when none. */
  retrying: Retrying | null;
  /** Billed seconds of the jobs that ended in this run, and how many jobs had an executionTime. */
  billedSeconds: number;
  billedJobs: number;
  /**
   * /run requests allowed in flight at once now (RunSlots: 8, more for a sustained pace or while /health shows idle
   * workers and no queue), and the highest that bound has been in this run: what a kill could pay twice at most.
   */
  runSlots: { now: number; peak: number };
}
