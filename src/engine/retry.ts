import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { classify, RequestFailed, type Verdict } from './classify.js';
import { sleep } from './clock.js';

/**
 * A single request with retries for the side commands (cancel): transient failures and 429s back off
 * (Retry-After wins); anything else is thrown as a RequestFailed carrying its verdict. The scheduler has its own, paced version.
 */
export async function withRetries<T>(
  op: string,
  fn: () => Promise<T>,
  o: { maxAttempts?: number; backoff?: BackoffPolicy; random?: () => number; signal?: AbortSignal } = {},
): Promise<T> {
  const max = o.maxAttempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const v: Verdict = classify(op, err);
      if (v.kind !== 'retry' || attempt >= max) throw new RequestFailed(v, err);
      await sleep(backoffDelay(attempt, v.retryAfterMs, o.backoff ?? DEFAULT_BACKOFF, o.random ?? Math.random), o.signal);
    }
  }
}
