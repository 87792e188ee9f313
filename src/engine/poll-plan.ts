/**
 * When to ask /status again. Pure. RunPod caps /status at 2,000 requests per 10 s (RUNPOD_API.md "Limits"), so a job is
 * polled when an answer is likely: around its predicted finish (learned from the jobs seen so far), then at intervals
 * that grow with the time already waited, so detection adds a bounded fraction to a long job's latency.
 */
export interface PollPolicy {
  /** Shortest wait between two polls of one job. @default 200 */
  minIntervalMs: number;
  /** Longest wait between two polls of one job. @default 15_000 */
  maxIntervalMs: number;
  /** Past the predicted finish, wait this fraction of the time already elapsed. @default 0.1 */
  tailFraction: number;
  /** First poll when nothing is known about the endpoint yet. @default 500 */
  initialGuessMs: number;
  /** While nothing is learned yet, wait this fraction of the time elapsed: few polls until a first job teaches. @default 0.5 */
  unknownFraction: number;
}

export const DEFAULT_POLL_POLICY: Readonly<PollPolicy> = {
  minIntervalMs: 200,
  maxIntervalMs: 15_000,
  tailFraction: 0.1,
  initialGuessMs: 500,
  unknownFraction: 0.5,
};

export interface PollContext {
  /** ms since the job was submitted. */
  elapsedMs: number;
  /** Last status seen (undefined before the first poll). */
  status: string | undefined;
  /** delayTime reported once the job started (ms). */
  delayTime: number | undefined;
  /** Typical executionTime seen so far (ms), undefined when none finished yet. */
  expectedExecMs: number | undefined;
  /** Typical submit→finish time seen so far (ms), undefined when none finished yet. */
  expectedE2eMs: number | undefined;
}

/** ms to wait before the next poll of this job. */
export function nextPollDelay(ctx: PollContext, policy: PollPolicy = DEFAULT_POLL_POLICY): number {
  let predictedFinish: number | undefined;
  if (ctx.status === 'IN_PROGRESS' && ctx.delayTime !== undefined && ctx.expectedExecMs !== undefined) {
    predictedFinish = ctx.delayTime + ctx.expectedExecMs;
  } else if (ctx.expectedE2eMs !== undefined) {
    predictedFinish = ctx.expectedE2eMs;
  } else if (ctx.status === undefined) {
    predictedFinish = policy.initialGuessMs;
  }
  const learned = ctx.expectedE2eMs !== undefined || ctx.expectedExecMs !== undefined;
  const tail = Math.max(policy.minIntervalMs, ctx.elapsedMs * (learned ? policy.tailFraction : policy.unknownFraction));
  let wait = predictedFinish !== undefined && predictedFinish - ctx.elapsedMs > tail ? predictedFinish - ctx.elapsedMs : tail;
  wait = Math.min(policy.maxIntervalMs, Math.max(policy.minIntervalMs, wait));
  return Math.round(wait);
}

/** A small window of recent values with a quantile: what the poll plan learns from. */
export class RecentWindow {
  private readonly buf: Float64Array;
  private n = 0;
  private i = 0;
  constructor(size = 64) {
    this.buf = new Float64Array(size);
  }
  push(v: number): void {
    this.buf[this.i] = v;
    this.i = (this.i + 1) % this.buf.length;
    if (this.n < this.buf.length) this.n++;
  }
  get size(): number {
    return this.n;
  }
  /** Nearest-rank quantile q in [0,1]; undefined while empty. */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const sorted = this.buf.slice(0, this.n).sort();
    return sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))];
  }
}
