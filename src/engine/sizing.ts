import { DEFAULTS } from '../core/defaults.js';

/**
 * `--concurrency auto`: how many jobs to keep in flight, learned from the endpoint's /health. Pure: one observation
 * in, a target and its reason out; no timers, no I/O (the scheduler polls /health and feeds it).
 *
 * The jobs a client keeps queued are the endpoint's scaling signal (RUNPOD_API.md, "Workers and scaling"): too few and
 * RunPod never adds workers, too many and jobs wait in its queue — billing after a kill, and outliving the 30-minute
 * result retention while the client is away. So:
 * - **growing** while workers sit idle (feed them), while workers that run several jobs each take every job given
 *   (nothing queued), or while the endpoint is still adding workers (running + initializing grew lately): the target doubles each observation, up to a queue of 4 jobs per worker (deep
 *   enough for an autoscaler to see, and drained in a few job times once it stops);
 * - **holding** once the worker count has not grown for `settleMs`: the jobs the workers run now plus a short queue of
 *   max(minQueue, queuePerWorker × workers) — enough that no worker waits for its next job;
 * - **probing** now and then while holding: the queue deepens to max(minQueue, 2 × workers) for one settle period to
 *   see whether the endpoint adds workers (an autoscaler that reacts to queue delay or depth); if it does, growing
 *   again, else back to holding;
 * - **shrinking** toward the hold when the queue is deeper than the hold and no worker is being added.
 * A number given by the user is a hard cap; RunPod's caps apply too.
 */

export interface HealthSample {
  /** Epoch ms of the observation. */
  at: number;
  /** Workers ready with no job. */
  idle: number;
  /** Workers running jobs. */
  running: number;
  /** Workers starting (cold start). */
  initializing: number;
  /** Workers RunPod holds back (no capacity). */
  throttled: number;
  /** Jobs waiting in the endpoint's queue, and running. */
  inQueue: number;
  inProgress: number;
}

export interface SizingPolicy {
  /** In-flight target before the first observation. @default 10 */
  initial: number;
  /** Never below this. @default 1 */
  min: number;
  /** Hard cap: the user's --concurrency number. @default 5000 (jobs are followed by long polls, which the follower caps apart) */
  max: number;
  /** Least queue kept while holding. @default 10 */
  minQueue: number;
  /** Queue kept per worker while holding. @default 1 */
  queuePerWorker: number;
  /** Jobs allowed to wait on the endpoint at most (--max-queue); Infinity: no bound but the hold. @default Infinity */
  maxQueue: number;
  /** No worker added for this long: the endpoint has stopped growing. @default 20000 */
  settleMs: number;
  /** While holding, probe for more workers this often. @default 60000 */
  probeEveryMs: number;
}

export const DEFAULT_SIZING: Readonly<SizingPolicy> = {
  initial: 10,
  min: 1,
  max: DEFAULTS.maxConcurrency,
  minQueue: 10,
  queuePerWorker: 1,
  maxQueue: Infinity,
  settleMs: 20_000,
  probeEveryMs: 60_000,
};

/**
 * Jobs queued per worker, at most, while growing. RunPod's request-count scaler wants ceil((inQueue + inProgress) /
 * value) workers, so with its value 4 a queue of 4 per worker (5 in flight per worker) still grows the endpoint by a
 * quarter per look; the queue-delay scaler sees jobs waiting several job times.
 */
export const GROWTH_QUEUE_PER_WORKER = 4;

/**
 * Worker-ms spent starting between two /health reads, as the earlier one saw it (its `initializing` count held until
 * the later read). Summed over a run it estimates the cold starts RunPod bills: a boot of c ms is seen by about c ÷
 * the read period reads, each counting one period. 0 for the first read, or reads out of order.
 */
export function initializingMsBetween(prev: HealthSample | null, cur: HealthSample): number {
  if (!prev || cur.at <= prev.at) return 0;
  return prev.initializing * (cur.at - prev.at);
}

export type SizingMode = 'starting' | 'growing' | 'holding' | 'probing' | 'shrinking';

export interface SizingDecision {
  target: number;
  mode: SizingMode;
  /** For the progress line, status and the report: "growing: 12 idle workers", "holding: 60 workers, queue 8". */
  reason: string;
}

export class AutoSizer {
  private target: number;
  private mode: SizingMode = 'starting';
  private reason = 'starting: no /health seen yet';
  /** Workers (running + initializing + idle) at the last observation, and when that count last grew. */
  private workers = -1;
  private grewAt = -Infinity;
  private probeAt = -Infinity;
  private probeUntil = -Infinity;

  constructor(private readonly p: SizingPolicy = DEFAULT_SIZING) {
    this.target = clamp(p.initial, p.min, p.max);
  }

  current(): SizingDecision {
    return { target: this.target, mode: this.mode, reason: this.reason };
  }

  /** One /health observation, and the jobs this client has in flight. */
  observe(h: HealthSample, inFlight: number): SizingDecision {
    const p = this.p;
    const workers = h.running + h.initializing + h.idle;
    // The first look sets the baseline: workers already there are not the endpoint adding any.
    if (this.workers >= 0 && workers > this.workers) this.grewAt = h.at;
    this.workers = workers;
    const busy = Math.max(h.inProgress, h.running);
    const queue = Math.min(p.maxQueue, Math.max(p.minQueue, Math.ceil(p.queuePerWorker * workers)));
    const hold = clamp(busy + queue, p.min, p.max);
    // Growth: doubling per observation (half again reached 80 request-count workers ~5 s later), but never a queue of more than 4 jobs per worker (plus the least queue):
    // deep enough for an autoscaler to see, shallow enough to drain in a few job times once it stops.
    const growthQueue = Math.min(p.maxQueue, Math.max(queue, GROWTH_QUEUE_PER_WORKER * workers + p.minQueue));
    const growth = clamp(Math.ceil(Math.max(this.target, inFlight) * 2), p.min, Math.min(p.max, busy + h.idle + growthQueue));
    const growingNow = h.at - this.grewAt < p.settleMs;

    if (h.idle > 0 && h.inQueue === 0) {
      // Workers wait for jobs: feed them (by at least the idle count), and queue the hold's queue behind them at once —
      // without it 1,000 idle workers got exactly 1,000 jobs, and each waited a round trip for its next one until the
      // next read (~5 % of them idle for 3 s at the start of bench/sizing.mjs's 1,000-worker batch).
      this.set(
        Math.max(growth, clamp(inFlight + h.idle + queue, p.min, p.max)),
        'growing',
        `${h.idle} idle worker${h.idle === 1 ? '' : 's'}`,
      );
    } else if (h.inQueue === 0 && h.inProgress > h.running && inFlight >= this.target && this.target < p.max) {
      // Workers that run several jobs at once (worker-vllm takes ~30) show no idle worker, yet take every job given:
      // nothing waits and all we hold runs. Grow by half until a queue forms.
      const multi = clamp(Math.ceil(this.target * 1.5), p.min, p.max);
      this.set(Math.max(multi, hold), 'growing', `${h.inProgress} jobs running on ${workers} workers, none queued`);
    } else if (growingNow || h.initializing > 0) {
      // The endpoint is adding workers: keep the queue it reacts to.
      this.set(Math.max(growth, hold), 'growing', `${workers} workers and adding (${h.initializing} starting)`);
      this.probeAt = h.at;
    } else if (h.at < this.probeUntil) {
      this.set(Math.max(this.target, hold), 'probing', `${workers} workers: deeper queue to see whether the endpoint adds workers`);
    } else if (h.at - this.probeAt >= p.probeEveryMs && p.maxQueue === Infinity && hold < p.max) {
      this.probeAt = h.at;
      this.probeUntil = h.at + p.settleMs;
      // A probe's queue stays within max(minQueue, 2 × workers).
      this.set(
        clamp(busy + Math.min(p.maxQueue, Math.max(p.minQueue, 2 * workers)), p.min, p.max),
        'probing',
        `${workers} workers: deeper queue to see whether the endpoint adds workers`,
      );
    } else if (h.inQueue > queue && this.target > hold) {
      this.set(hold, 'shrinking', `${workers} workers, queue ${h.inQueue} > ${queue}`);
    } else {
      this.set(hold, 'holding', `${workers} workers, queue ${h.inQueue}`);
    }
    return this.current();
  }

  private set(target: number, mode: SizingMode, reason: string): void {
    this.target = clamp(Math.round(target), this.p.min, this.p.max);
    this.mode = mode;
    this.reason = `${mode}: ${reason}`;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/**
 * How many /run requests may be in flight at once. Each is a row that a kill -9 at that moment may pay twice (the job
 * is created but its id never arrives), so the bound is small — `min` — unless the pace of the batch needs more:
 * jobs ending per second × the /run latency is how many /run requests keep the target filled; twice that, at most
 * `max` (RunPod allows 200 concurrent /run). Pure: it is told each /run latency and each job end, with the time.
 *
 * Both are taken as what the batch sustains, not their means: the latency is the least of the last LATENCY_WINDOW
 * answers — a /run is timed when its answer is handled, so time the event loop spent on other work (parsing large
 * outputs, a loaded machine) is in it, and more /run requests in flight do not shorten that wait, they only widen what
 * a kill pays twice; the pace is the least of the last RATE_WINDOWS windows of job ends — a restart re-attaches the
 * jobs of the killed run, which end at once. bench/kill.mjs (200 KB outputs, kills 0–1.5 s into each restart) measured
 * up to 47 duplicates per kill when those raised the bound, and ≤ 8 with the bound pinned at 8, in the same time.
 *
 * The endpoint can also show the need before any pace exists: a /health read with idle workers and nothing queued
 * (1,000 warm workers at the start of a batch took ~3 s to fill through 8 /run requests at a time under load). Then
 * the bound may rise to what feeds the idle workers not yet given a job — the idle workers of that read, less the /run
 * requests in flight then and every /run answered since — within IDLE_FILL_MS at the /run latency (the same floor as
 * above), and never past a quarter of them (IDLE_SHARE): a kill pays twice at most a quarter of a wave of workers that
 * had nothing to do. Where /run answers in a few ms the bound stays 8: more requests at once would not fill faster,
 * only open sockets (bench/overhead.mjs, 1,000 workers on loopback: +17 % CPU per job and +30 MB with the quarter
 * alone). It falls back as the /run answers use the idle workers up, and a read showing a queue ends it.
 */
/** /run answers the latency floor is taken over. */
export const LATENCY_WINDOW = 32;
/** Windows of job ends the sustained pace is taken over (the least of them). */
export const RATE_WINDOWS = 3;
/** With idle workers and no queue, the /run bound may rise to at most the idle workers not yet given a job ÷ this… */
export const IDLE_SHARE = 4;
/** … and to what feeds them within this long at the /run latency. */
export const IDLE_FILL_MS = 1000;

export class RunSlots {
  private readonly latencies: number[] = [];
  private next = 0;
  private readonly rates: number[] = [];
  private windowStart = -1;
  private endedInWindow = 0;
  /** Idle workers of the last /health read not yet given a job (0 when that read showed a queue). */
  private idleLeft = 0;
  /** slots() as of the last answer, job end or /health read (-1: to compute): the fill loop asks for it once per /run. */
  private cached = -1;
  /** The highest bound slots() has returned: what a kill at any moment so far could pay twice at most. */
  peak: number;

  constructor(
    readonly min = 8,
    readonly max = 200,
    private readonly windowMs = 1000,
  ) {
    this.peak = min;
  }

  /**
   * A /health read: `idle` workers wait for a job and `inQueue` jobs for a worker; `pending` /run requests are in flight
   * now (their jobs take idle workers first).
   */
  health(idle: number, inQueue: number, pending: number): void {
    this.idleLeft = inQueue > 0 ? 0 : Math.max(0, idle - pending);
    this.cached = -1;
  }

  /** A /run answered after `ms` (a job created: one idle worker fewer to feed). */
  answered(ms: number): void {
    if (this.idleLeft > 0) this.idleLeft--;
    if (this.latencies.length < LATENCY_WINDOW) this.latencies.push(ms);
    else this.latencies[this.next] = ms;
    this.next = (this.next + 1) % LATENCY_WINDOW;
    this.cached = -1;
  }

  /** A job ended at `now` (ms). */
  ended(now: number): void {
    if (this.windowStart < 0) this.windowStart = now;
    this.endedInWindow++;
    const span = now - this.windowStart;
    if (span >= this.windowMs) {
      this.rates.push((this.endedInWindow * 1000) / span);
      if (this.rates.length > RATE_WINDOWS) this.rates.shift();
      this.windowStart = now;
      this.endedInWindow = 0;
      this.cached = -1;
    }
  }

  /** /run requests allowed in flight now. */
  slots(): number {
    if (this.cached >= 0) return this.cached;
    const latencyMs = this.latencies.length === 0 ? 0 : Math.min(...this.latencies);
    // A pace held for RATE_WINDOWS windows: a burst of ends (jobs of an earlier run re-attached at a restart, all
    // ending at once) is no pace to keep up with.
    const endRate = this.rates.length < RATE_WINDOWS ? 0 : Math.min(...this.rates);
    const idleNeed = Math.min(Math.floor(this.idleLeft / IDLE_SHARE), Math.ceil((this.idleLeft * latencyMs) / IDLE_FILL_MS));
    const need = Math.max(Math.ceil((2 * endRate * latencyMs) / 1000), idleNeed);
    this.cached = Math.max(this.min, Math.min(this.max, need));
    if (this.cached > this.peak) this.peak = this.cached;
    return this.cached;
  }
}
