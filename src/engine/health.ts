import { DEFAULTS } from '../core/defaults.js';

/**
 * Tells a sick endpoint from bad luck, so a batch stops instead of burning the rest of the file. Pure.
 * - Crash loop: the last `crashLoopJobs` jobs all FAILED with the same error (a worker that cannot start, a broken
 *   model path). RunPod users complain of exactly this going unnoticed (RUNPOD_API.md).
 * - Sustained failure rate: of the last `window` rows that ended, more than `maxFailureRate` did not complete even
 *   after their retries.
 */
export interface HealthPolicy {
  /** 0 disables. @default 10 */
  crashLoopJobs: number;
  /** 1 disables. @default 0.5 */
  maxFailureRate: number;
  /** Rows looked at for the failure rate (and the least seen before judging). @default 50 */
  window: number;
}

export const DEFAULT_HEALTH_POLICY: Readonly<HealthPolicy> = {
  crashLoopJobs: DEFAULTS.crashLoopJobs,
  maxFailureRate: DEFAULTS.maxFailureRate,
  window: DEFAULTS.failureWindow,
};

export class HealthMonitor {
  private sameError = '';
  private sameCount = 0;
  private readonly outcomes: Uint8Array;
  private seen = 0;
  private failedInWindow = 0;

  constructor(private readonly policy: HealthPolicy = DEFAULT_HEALTH_POLICY) {
    this.outcomes = new Uint8Array(Math.max(1, policy.window));
  }

  /** Every job that ended: returns a diagnosis when the endpoint looks crash-looping. */
  job(status: string, error: string | null): string | null {
    if (status !== 'FAILED') {
      this.sameCount = 0;
      this.sameError = '';
      return null;
    }
    const sig = errorSignature(error);
    if (sig === this.sameError) this.sameCount++;
    else {
      this.sameError = sig;
      this.sameCount = 1;
    }
    if (this.policy.crashLoopJobs > 0 && this.sameCount >= this.policy.crashLoopJobs) {
      return `the last ${this.sameCount} jobs all FAILED with the same error (${sig || 'no error message'}): the worker looks crash-looping`;
    }
    return null;
  }

  /** Every row that ended (after its retries): returns a diagnosis when too many fail. */
  row(completed: boolean): string | null {
    const w = this.outcomes.length;
    const i = this.seen % w;
    if (this.seen >= w) this.failedInWindow -= this.outcomes[i]!;
    this.outcomes[i] = completed ? 0 : 1;
    this.failedInWindow += this.outcomes[i]!;
    this.seen++;
    if (this.policy.maxFailureRate >= 1 || this.seen < w) return null;
    const rate = this.failedInWindow / w;
    if (rate > this.policy.maxFailureRate) {
      return `${this.failedInWindow} of the last ${w} rows did not complete after retries (over ${Math.round(this.policy.maxFailureRate * 100)}%)`;
    }
    return null;
  }
}

/** The part of an error that stays the same between jobs: RunPod's JSON error → "type: message", first line only. */
export function errorSignature(error: string | null): string {
  if (!error) return '';
  let text = error;
  try {
    const e = JSON.parse(error) as { error_type?: unknown; error_message?: unknown };
    if (e && typeof e === 'object' && (e.error_type || e.error_message)) text = `${e.error_type ?? ''}: ${e.error_message ?? ''}`;
  } catch {
    // a plain string
  }
  return (text.split('\n')[0] ?? '').slice(0, 200);
}
