import { RunpodBatchError } from '../core/errors.js';

/** Cancels a timer set with Clock.setTimer (a no-op once it fired). */
export type CancelTimer = () => void;

/**
 * Time as the engine sees it: the current time and timers. Injected, so the scheduler runs on a hand-driven clock in
 * unit tests (test/unit/scheduler.test.ts) and on the system clock everywhere else.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms` (at once for ms ≤ 0, but never synchronously). */
  setTimer(fn: () => void, ms: number): CancelTimer;
}

export const systemClock: Clock = {
  now: Date.now,
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** A wait that an AbortSignal ends early (rejecting with RPB_ABORTED), like p-retry's abortable sleep. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
    const onAbort = () => {
      cancel();
      reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
