/**
 * When to ask /status about a job, where /status-sync long polls are not served. Pure: values in, times out.
 *
 * RunPod caps /status at 2,000 requests per 10 s (RUNPOD_API.md "Limits"), and every answer that says "not yet" is a
 * call spent for nothing. So each job is polled when its end is likely, from what is known of it:
 * - **its start**: exact once delayTime is reported (start = submitted + delayTime); before that, predicted from its
 *   place in the endpoint's FIFO queue: with W workers busy, job k starts when the job W places ahead of it ends,
 *   start(k) ≈ max(submitted(k) + pickup, start(k − W) + typical executionTime) (predictStart);
 * - **how long it runs**: the executionTime of recent jobs (a window, sorted), and how far off the predicted starts
 *   were (the residual end − predicted start, learned the same way, so a biased prediction corrects itself);
 * - **a schedule over that distribution** (PollSchedule): the poll times that minimise calls + detection delay, a
 *   call priced at `pollCost` of a typical job's end-to-end time. Spikes (every job alike) get one poll at the end;
 *   spread-out times get a first poll early in the spread and a few steps through it.
 * Past every learned value the job is in the tail: polls every `tailFraction` of its running time. Before any job has
 * ended nothing is known: the follower sends a few scout polls (scoutDelay) instead of polling every job.
 */
export interface PollPolicy {
  /** Shortest wait between two polls of one job. @default 50 */
  minIntervalMs: number;
  /** Longest wait between two polls of one job (the tail). @default 15_000 */
  maxIntervalMs: number;
  /** Past every learned end, wait this fraction of the time the job has run. @default 0.1 */
  tailFraction: number;
  /** One more poll costs as much as this fraction of a typical end-to-end time in detection delay. @default 0.3 */
  pollCost: number;
  /** Before any job ended: the first scout poll this long after the oldest job's start. @default 50 */
  scoutFirstMs: number;
  /** Before any job ended: each scout poll waits this fraction of the oldest job's age. @default 0.1 */
  scoutFraction: number;
  /** Recent jobs learned from. @default 128 */
  window: number;
}

export const DEFAULT_POLL_POLICY: Readonly<PollPolicy> = {
  minIntervalMs: 50,
  maxIntervalMs: 15_000,
  tailFraction: 0.1,
  pollCost: 0.3,
  scoutFirstMs: 50,
  scoutFraction: 0.1,
  window: 128,
};

/** A window of recent values, with its sorted copy kept until the next push. */
export class RecentWindow {
  private readonly buf: Float64Array;
  private n = 0;
  private i = 0;
  private sortedCache: Float64Array | null = null;
  /** Values pushed so far (also those that fell out). */
  pushes = 0;
  constructor(size = 64) {
    this.buf = new Float64Array(size);
  }
  push(v: number): void {
    this.buf[this.i] = v;
    this.i = (this.i + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
    this.pushes++;
    this.sortedCache = null;
  }
  get size(): number {
    return this.n;
  }
  sorted(): Float64Array {
    this.sortedCache ??= this.buf.slice(0, this.n).sort();
    return this.sortedCache;
  }
  /** Nearest-rank quantile q in [0,1]; undefined while empty. */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    return this.sorted()[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))];
  }
}

/**
 * The cheapest poll offsets for a job whose remaining time is one of `sorted` (equally likely), a poll costing as much
 * as `costMs` of detection delay. A dynamic program over the samples: C(i), the cost still to pay when the job is
 * known to be past the i smallest values, is min over j > i of (n − i) polls · 1 + Σ_{i<m≤j} (x_j − x_m) / costMs
 * + C(j) (a poll at x_j catches the jobs that ended by then; only a sample is worth polling at: a poll later than one
 * catches nobody more). O(n²) for n ≤ a few hundred.
 */
export class PollSchedule {
  /** next[i]: the sample (1-based count) to poll at once the job is known past the i smallest; n: none left. */
  private readonly next: Int32Array;

  constructor(
    private readonly x: Float64Array,
    costMs: number,
  ) {
    const n = x.length;
    const lambda = 1 / Math.max(1e-9, costMs);
    const prefix = new Float64Array(n + 1);
    for (let m = 0; m < n; m++) prefix[m + 1] = prefix[m]! + x[m]!;
    const cost = new Float64Array(n + 1);
    this.next = new Int32Array(n + 1).fill(n);
    for (let i = n - 1; i >= 0; i--) {
      let best = Infinity;
      let bestJ = n;
      for (let j = i + 1; j <= n; j++) {
        const late = (j - i) * x[j - 1]! - (prefix[j]! - prefix[i]!);
        const c = n - i + lambda * late + cost[j]!;
        if (c < best) {
          best = c;
          bestJ = j;
        }
      }
      cost[i] = best;
      this.next[i] = bestJ;
    }
  }

  get size(): number {
    return this.x.length;
  }

  /** The offset to poll at next, given the job is known to be past `ruledOut`; undefined past every sample. */
  after(ruledOut: number): number | undefined {
    const x = this.x;
    // i = number of samples ≤ ruledOut
    let lo = 0;
    let hi = x.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x[mid]! <= ruledOut) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= x.length) return undefined;
    return x[this.next[lo]! - 1];
  }
}

/** A schedule rebuilt from its window now and then (every 1/16 of the window's size in new values). */
class CachedSchedule {
  private schedule: PollSchedule | null = null;
  private builtAt = -1;
  private builtCost = 0;
  constructor(readonly window: RecentWindow) {}
  get(costMs: number): PollSchedule | null {
    const w = this.window;
    if (w.size === 0) return null;
    const stale = w.pushes - this.builtAt >= Math.max(1, w.size >> 4) || Math.abs(costMs - this.builtCost) > 0.25 * this.builtCost;
    if (!this.schedule || stale) {
      this.schedule = new PollSchedule(w.sorted().slice(), costMs);
      this.builtAt = w.pushes;
      this.builtCost = costMs;
    }
    return this.schedule;
  }
}

/**
 * When a job queued behind others starts: when the job `workers` places ahead of it ends (FIFO on a pool of that
 * many), or at once (plus the pickup delay) when that one has ended before this one was submitted.
 */
export function predictStart(p: {
  submittedAt: number;
  /** Start of the job `workers` places ahead in submission order; undefined: none (fewer jobs than workers). */
  aheadStart: number | undefined;
  /** Typical executionTime; undefined: unknown. */
  execMs: number | undefined;
  /** delayTime of a job that finds an idle worker. */
  pickupMs: number;
}): number {
  const free = p.submittedAt + p.pickupMs;
  if (p.aheadStart === undefined || p.execMs === undefined) return free;
  return Math.max(free, p.aheadStart + p.execMs);
}

/** Past every learned end: the wait before the next poll of a job that has run `ranMs`. */
export function tailDelay(ranMs: number, policy: PollPolicy = DEFAULT_POLL_POLICY): number {
  return Math.min(policy.maxIntervalMs, Math.max(policy.minIntervalMs, ranMs * policy.tailFraction));
}

/** Before any job ended: the wait before the next scout poll, the oldest job being `ageMs` old. */
export function scoutDelay(ageMs: number, policy: PollPolicy = DEFAULT_POLL_POLICY): number {
  if (ageMs < policy.scoutFirstMs) return policy.scoutFirstMs - ageMs;
  return Math.min(policy.maxIntervalMs, Math.max(policy.minIntervalMs, ageMs * policy.scoutFraction));
}

/** Jobs of a run remembered for the queue model (a power of two, above any in-flight count RunPod allows). */
const RING_MASK = (1 << 16) - 1;

/** What the predictor needs to know of one job (the follower keeps it). */
export interface PlannedJob {
  /** Position in submission order within this run (0, 1, 2 …). */
  k: number;
  submittedAt: number;
  /** Re-attached from an earlier run: its submission time is not this run's. */
  resumed: boolean;
  /** Last status seen (undefined before the first answer). */
  status: string | undefined;
  /** Known start (submittedAt + delayTime), once reported. */
  startAt: number | undefined;
  /** The predicted start its residual is learned against (set at its first plan). */
  planStart: number | undefined;
  /** Time the last poll was sent that found it not ended; undefined before any. */
  ruledOut: number | undefined;
}

/** What /health said last (through the sizing loop), if it is read. */
export interface FleetSample {
  /** Workers running, idle and starting. */
  workers: number;
  inQueue: number;
  inProgress: number;
}

/**
 * The poll plan of every job of a run: learns from the jobs that end, predicts each job's start and end, and says
 * when to poll next. Pure (times are passed in); one per run.
 */
export class PollPredictor {
  private readonly exec: RecentWindow;
  private readonly resid: RecentWindow;
  private readonly execPlan: CachedSchedule;
  private readonly residPlan: CachedSchedule;
  private readonly ends: RecentWindow;
  /** End − submission of recent jobs: the scale detection delay is judged against. */
  private readonly e2e: RecentWindow;
  private minDelay = Infinity;
  /** Per job k of this run, at k mod the ring's size: which k is there, when it was submitted, its known start (NaN). */
  private readonly ringK = new Float64Array(RING_MASK + 1).fill(-1);
  private readonly submitted = new Float64Array(RING_MASK + 1);
  private readonly known = new Float64Array(RING_MASK + 1).fill(Number.NaN);
  private fleet: FleetSample | null = null;

  constructor(readonly policy: PollPolicy = DEFAULT_POLL_POLICY) {
    this.exec = new RecentWindow(policy.window);
    this.resid = new RecentWindow(policy.window);
    this.ends = new RecentWindow(policy.window);
    this.e2e = new RecentWindow(policy.window);
    this.execPlan = new CachedSchedule(this.exec);
    this.residPlan = new CachedSchedule(this.resid);
  }

  /** Some job has ended and taught the plan: polls can be planned (before that, only scouts). */
  get learned(): boolean {
    return this.exec.size > 0 || this.resid.size > 0;
  }

  /** The latest /health sample. */
  observe(fleet: FleetSample | null): void {
    this.fleet = fleet;
  }

  /** Workers whose jobs ahead this job waits for; undefined: no queue to wait in, or not known. */
  private queueWorkers(): number | undefined {
    const f = this.fleet;
    // Every worker, and every job running (a worker may run several at once): more than that start only as jobs end.
    if (f) return Math.max(1, f.workers, f.inProgress);
    // Without /health: the jobs that ran at once, by Little's law over the recent ends (only a queue makes it binding).
    const ends = this.ends;
    const mu = this.exec.quantile(0.5);
    if (ends.size < 8 || mu === undefined) return undefined;
    const e = ends.sorted();
    const span = e[e.length - 1]! - e[0]!;
    return span > 0 ? Math.max(1, Math.round(((e.length - 1) * mu) / span)) : undefined;
  }

  /** The job's start as best known now. */
  start(j: PlannedJob): number {
    if (j.startAt !== undefined) return j.startAt;
    if (j.resumed) return j.submittedAt + this.pickup();
    return this.startOf(j.k, this.queueWorkers(), this.exec.quantile(0.5), 0);
  }

  private pickup(): number {
    return Number.isFinite(this.minDelay) ? this.minDelay : 0;
  }

  /**
   * Job k's start: known, or predicted from the job `w` places ahead (itself known or predicted the same way, a few
   * steps back to a job whose start was reported).
   */
  private startOf(k: number, w: number | undefined, execMs: number | undefined, depth: number): number {
    const i = k & RING_MASK;
    if (this.ringK[i] !== k) return Number.NaN;
    const known = this.known[i]!;
    if (!Number.isNaN(known)) return known;
    const ahead = w !== undefined && k >= w && depth < 64 ? this.startOf(k - w, w, execMs, depth + 1) : Number.NaN;
    return predictStart({
      submittedAt: this.submitted[i]!,
      aheadStart: Number.isNaN(ahead) ? undefined : ahead,
      execMs,
      pickupMs: this.pickup(),
    });
  }

  /** A job was submitted in this run (re-attached ones are not in the queue model). */
  admitted(j: PlannedJob): void {
    if (j.resumed) return;
    const i = j.k & RING_MASK;
    this.ringK[i] = j.k;
    this.submitted[i] = j.submittedAt;
    this.known[i] = Number.NaN;
  }

  /** The job's start became known (delayTime reported). */
  started(j: PlannedJob): void {
    const i = j.k & RING_MASK;
    if (j.startAt !== undefined && this.ringK[i] === j.k) this.known[i] = j.startAt;
  }

  /** The job ended at `now` with the reported times (ms; null when absent): learn from it. */
  ended(j: PlannedJob, delayTime: number | null, executionTime: number | null, now: number): void {
    if (executionTime !== null) this.exec.push(executionTime);
    if (j.resumed) return;
    if (delayTime !== null) {
      this.minDelay = Math.min(this.minDelay, delayTime);
      const i = j.k & RING_MASK;
      if (this.ringK[i] === j.k) this.known[i] = j.submittedAt + delayTime;
    }
    // The true end, as near as the client can tell: the server's times from our submission, never after we saw it.
    const end = delayTime !== null && executionTime !== null ? Math.min(now, j.submittedAt + delayTime + executionTime) : now;
    this.ends.push(end);
    this.e2e.push(end - j.submittedAt);
    if (j.planStart !== undefined) this.resid.push(end - j.planStart);
  }

  private costMs(): number {
    const typical = this.e2e.quantile(0.5) ?? this.exec.quantile(0.5) ?? 0;
    return Math.max(1, this.policy.pollCost * typical);
  }

  /**
   * When to poll the job next (a time on the same clock as its fields), or undefined while nothing is learned (the
   * follower scouts). Never sooner than `minIntervalMs` after its last poll, never before `now`.
   */
  nextPoll(j: PlannedJob, now: number): number | undefined {
    if (!this.learned) return undefined;
    const p = this.policy;
    const cost = this.costMs();
    let at: number;
    if (j.startAt !== undefined || j.status === 'IN_QUEUE') {
      // Started (known start), or known still queued (it starts after the last poll): its execution time is what is left.
      const s = j.startAt ?? Math.max(this.start(j), j.ruledOut ?? -Infinity);
      const ruledOut = j.startAt !== undefined && j.ruledOut !== undefined ? j.ruledOut - s : -Infinity;
      const sched = this.execPlan.get(cost) ?? this.residPlan.get(cost);
      const off = sched?.after(ruledOut);
      at = off !== undefined ? s + off : (j.ruledOut ?? now) + tailDelay((j.ruledOut ?? now) - s, p);
    } else {
      j.planStart ??= this.start(j);
      const ruledOut = j.ruledOut !== undefined ? j.ruledOut - j.planStart : -Infinity;
      const sched = this.residPlan.get(cost) ?? this.execPlan.get(cost);
      const off = sched?.after(ruledOut);
      at = off !== undefined ? j.planStart + off : (j.ruledOut ?? now) + tailDelay((j.ruledOut ?? now) - j.planStart, p);
    }
    if (j.ruledOut !== undefined) at = Math.max(at, j.ruledOut + p.minIntervalMs);
    return Math.max(now, at);
  }
}
