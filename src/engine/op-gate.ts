import { sleep, type Clock } from './clock.js';

/**
 * Paces one operation (/run or /status). A 429 pauses the whole operation, not only the request that got it:
 * every caller waits until the pause ends, then they resume spread over a short interval instead of all at once.
 */
export class OpGate {
  private pausedUntil = 0;
  /** When the latest pause was set: a 429 to a request sent before it belongs to the same burst. */
  pausedAt = -Infinity;
  /** Why the gate is paused, for the progress line. */
  reason = '';
  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  private now(): number {
    return this.clock.now();
  }

  /** Pauses every request of this operation for `ms` (never shortens a longer pause already set). */
  pause(ms: number, reason: string): void {
    const until = this.now() + ms;
    this.pausedAt = this.now();
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      this.reason = reason;
    }
  }

  /** ms left of the current pause, 0 when open. */
  pausedFor(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  /** Resolves when the operation may send; rejects with RPB_ABORTED when the signal fires. */
  async ready(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const left = this.pausedUntil - this.now();
      if (left <= 0) return;
      // Spread the resumption over up to 10% of the pause (at least 50 ms) to avoid a thundering herd.
      await sleep(left + this.random() * Math.max(50, left * 0.1), signal, this.clock);
    }
  }
}
