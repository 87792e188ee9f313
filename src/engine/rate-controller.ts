/**
 * Adaptive pacing of one operation (AIMD on a request rate). RunPod limits /run to a number of requests per 10 s that
 * the client is not told (it grows with running workers; RUNPOD_API.md "Limits"). Until the first 429 nothing is
 * paced. On a 429 the rate drops to what actually got through (then by `decrease` on later 429s, at most once per
 * `cooldownMs`); each success raises it a little, so it probes upward again and settles just under the limit.
 * Pure apart from the clock it is given.
 */
export interface RatePolicy {
  /** Rate kept after a 429, as a share of the current one. @default 0.85 */
  decrease: number;
  /** Growth per success, as a share of the rate per second: 0.01 ≈ +1% per second at full pace. @default 0.01 */
  increase: number;
  /** One 429 burst lowers the rate once. @default 1000 */
  cooldownMs: number;
  /** Window over which the rate that got through is measured. @default 10_000 */
  windowMs: number;
  /** Never pace slower than this (requests per second). @default 0.1 */
  minRate: number;
}

export const DEFAULT_RATE_POLICY: Readonly<RatePolicy> = {
  decrease: 0.85,
  increase: 0.01,
  cooldownMs: 1000,
  windowMs: 10_000,
  minRate: 0.1,
};

export class RateController {
  /** Requests per second; Infinity until the first 429. */
  rate = Infinity;
  private nextSlot = 0;
  private lastDecrease = -Infinity;
  /** Success times in the measuring window (a ring of timestamps). */
  private readonly okTimes: number[] = [];
  private okHead = 0;
  /**
   * The current quota period: from the first success after the last 429 pause to the next 429. RunPod counts
   * requests per fixed window; the successes of one period over the period's length (up to the moment requests get
   * through again, or the 429's Retry-After) is what the window allows.
   */
  private periodStart = -1;
  private periodOk = 0;
  private limitedAt = -1;
  /** The latest 429 of the current pause: the window turned between it and the next success. */
  private lastLimited = -1;
  private estimated = false;

  constructor(
    private readonly now: () => number,
    private readonly policy: RatePolicy = DEFAULT_RATE_POLICY,
  ) {}

  /** Reserves the next send slot; returns ms to wait before sending (0 = now). */
  reserve(): number {
    if (this.rate === Infinity) return 0;
    const t = this.now();
    const slot = Math.max(t, this.nextSlot);
    this.nextSlot = slot + 1000 / this.rate;
    return slot - t;
  }

  onSuccess(): void {
    const t = this.now();
    this.okTimes.push(t);
    this.prune(t);
    if (this.limitedAt >= 0) {
      // Requests get through again: a new window began, somewhere between the last 429 and now. Its length tells
      // the pace, unless Retry-After told already.
      if (!this.estimated) this.setFromPeriod((this.lastLimited + t) / 2 - this.periodStart);
      this.periodStart = -1;
      this.limitedAt = -1;
      this.estimated = false;
    }
    if (this.periodStart < 0) {
      this.periodStart = t;
      this.periodOk = 0;
    }
    this.periodOk++;
    if (this.rate !== Infinity) this.rate += this.policy.increase;
  }

  /** Pace at what one period let through, a little under. */
  private setFromPeriod(lengthMs: number): void {
    if (this.periodOk < 2 || lengthMs < 1000) return;
    const est = (this.periodOk * 1000) / Math.min(lengthMs, this.policy.windowMs * 3);
    this.rate = Math.max(this.policy.minRate, 0.97 * est);
  }

  /** A 429: lower the rate (once per cooldown). `retryAfterMs`: the server's Retry-After, when it sent one. */
  onRateLimited(retryAfterMs?: number): void {
    const t = this.now();
    this.lastLimited = t;
    if (this.limitedAt < 0) {
      this.limitedAt = t;
      if (retryAfterMs !== undefined && this.periodStart >= 0) {
        // Retry-After says when the window frees: the period's successes over (time so far + wait) is the pace.
        this.setFromPeriod(t - this.periodStart + retryAfterMs);
        this.estimated = this.periodOk >= 2 && t - this.periodStart + retryAfterMs >= 1000;
        if (this.estimated) {
          this.lastDecrease = t;
          this.nextSlot = Math.max(this.nextSlot, t);
          return;
        }
      }
    }
    // Retry-After already told this window's pace: 429s until it turns say nothing new.
    if (this.estimated || t - this.lastDecrease < this.policy.cooldownMs) return;
    this.lastDecrease = t;
    this.prune(t);
    const got = this.okTimes.length - this.okHead;
    // What got through per second, measured over at least 1 s: a burst that hit a fixed window early is not
    // mistaken for a sustainable pace, and a long window is not mistaken for a slow one.
    const span = got > 0 ? Math.min(this.policy.windowMs, Math.max(1000, t - this.okTimes[this.okHead]!)) : this.policy.windowMs;
    const through = (got * 1000) / span;
    // The first 429 sets the pace to what got through; later ones lower it, but never far under what still gets
    // through: 429s right after a pause (the window is still full) must not collapse the pace.
    const next = this.rate === Infinity ? through : Math.max(this.rate * this.policy.decrease, 0.9 * through);
    this.rate = Math.max(this.policy.minRate, Math.min(this.rate, next));
    this.nextSlot = Math.max(this.nextSlot, t);
  }

  private prune(t: number): void {
    while (this.okHead < this.okTimes.length && t - this.okTimes[this.okHead]! > this.policy.windowMs) this.okHead++;
    if (this.okHead > 4096 && this.okHead * 2 > this.okTimes.length) {
      this.okTimes.splice(0, this.okHead);
      this.okHead = 0;
    }
  }
}
