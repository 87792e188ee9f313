/**
 * Retry delays: exponential backoff with jitter (a server's Retry-After, parsed by the client, wins).
 *
 * Pure functions: randomness and the current time are parameters, so callers (and tests) decide them.
 * RunPod answers 429 when over a rate limit; whether it sends `Retry-After` is unverified (RUNPOD_API.md),
 * so a server value is honoured when present and exponential backoff is used otherwise.
 */

export interface BackoffPolicy {
  /** First delay. @default 500 */
  baseMs: number;
  /** Growth per attempt. @default 2 */
  factor: number;
  /** Cap of the exponential part. @default 30_000 */
  maxMs: number;
  /** Cap applied to a server's Retry-After. @default 120_000 */
  maxRetryAfterMs: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = full jitter). @default 0.5 */
  jitter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  baseMs: 500,
  factor: 2,
  maxMs: 30_000,
  maxRetryAfterMs: 120_000,
  jitter: 0.5,
});

/** Largest fraction added on top of a server's Retry-After to spread clients that got the same value. */
export const RETRY_AFTER_SPREAD = 0.1;

function clamp01(x: number): number {
  if (!Number.isFinite(x) || x <= 0) return 0;
  return Math.min(1, x);
}

function nonNegative(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 0;
}

/**
 * Delay (ms) before retry number `attempt` (1 = first retry).
 *
 * - Retry-After (ms) wins when present: `min(retryAfterMs, maxRetryAfterMs)`, never less than that — no jitter is
 *   subtracted — plus a random 0–10% of it to spread clients.
 * - Otherwise `d = min(maxMs, baseMs * factor^(attempt-1))` with the `jitter` fraction randomised:
 *   `d * (1 - jitter + jitter * random())`.
 *
 * Robust to odd input: attempt < 1 counts as 1, a negative/NaN Retry-After is ignored, `random()` and `jitter` are
 * clamped to [0, 1], overflow of the exponential part ends at `maxMs`.
 */
export function backoffDelay(attempt: number, retryAfterMs: number | undefined, policy: BackoffPolicy, random: () => number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    const capped = Math.min(retryAfterMs, nonNegative(policy.maxRetryAfterMs));
    return capped + capped * RETRY_AFTER_SPREAD * clamp01(random());
  }
  const n = Number.isFinite(attempt) && attempt > 1 ? Math.floor(attempt) : 1;
  const maxMs = nonNegative(policy.maxMs);
  const raw = nonNegative(policy.baseMs) * nonNegative(policy.factor) ** (n - 1);
  // NaN (0 * Infinity) or Infinity both end at the cap.
  const d = Number.isNaN(raw) ? maxMs : Math.min(maxMs, raw);
  const jitter = clamp01(policy.jitter);
  if (jitter === 0) return d;
  return d * (1 - jitter + jitter * clamp01(random()));
}
