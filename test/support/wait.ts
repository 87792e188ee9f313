/**
 * Waiting on a condition instead of sleeping: a test waits for what it needs (a job running, a row in the
 * state, a line on stdout), never for a fixed time. There is no deadline here: the test's own timeout bounds
 * the wait, and when it fails the test, the wait stops and says what it was still waiting for.
 */
import { onTestFailed, onTestFinished } from 'vitest';

/** Resolves after the event loop has had a short turn (I/O, timers): the spacing between two checks. */
const tick = (everyMs: number) => new Promise<void>((r) => (everyMs > 0 ? setTimeout(r, everyMs) : setImmediate(r)));

export interface WaitOptions {
  /** Spacing between two checks. @default 5 */
  everyMs?: number;
}

/**
 * Checks `cond` until it returns a truthy value, and returns that value. `what` names the condition
 * ("the emulator has 6 jobs"): it is printed when the test fails while still waiting.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, o: WaitOptions = {}): Promise<NonNullable<T>> {
  let settled = false;
  let stopped = false;
  let last: unknown;
  try {
    onTestFinished(() => {
      stopped = true;
    });
    onTestFailed(() => {
      if (!settled) console.error(`waitFor: still waiting for ${what}; last value: ${describe(last)}`);
    });
  } catch {
    // Outside a test (a hook): the hook's own timeout bounds the wait.
  }
  try {
    for (;;) {
      const v = await cond();
      if (v) return v as NonNullable<T>;
      last = v;
      if (stopped) throw new Error(`waitFor: gave up on ${what} (the test ended)`);
      await tick(o.everyMs ?? 5);
    }
  } finally {
    settled = true;
  }
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Aborts `ac` once `cond` holds (a run interrupted at a known point of its progress, not after a fixed time).
 * Not awaited by the caller: when the test ends first, the wait just stops.
 */
export function abortWhen(ac: AbortController, cond: () => unknown, what: string): void {
  waitFor(cond, what).then(
    () => ac.abort(),
    () => {},
  );
}
