/**
 * How long a job stays visible (RUNPOD_API.md): a finished result is readable for its retention
 * (/run 30 min, /runsync 1 min), any job is gone past policy.ttl; after either /status answers 404.
 * Expiry is checked lazily on every lookup and by a periodic sweep of the finished results.
 */
import { isTerminal, RUNPOD } from '../core/wire.js';
import type { JobState, StatusCounts } from './job-state.js';
import type { Timers } from './timers.js';
import type { TerminalWaiters } from './waiters.js';

export class ResultRetention {
  /** Finished jobs whose payload is still held; the sweep prunes them once expired. */
  private readonly finished = new Set<JobState>();

  constructor(
    timers: Timers,
    /** The emulator's timeScale: retention is simulated time, timers run in real time. */
    private readonly ts: number,
    /** Unscaled default retention of a result (the emulator's retentionMs). */
    retentionMs: number,
    private readonly counts: StatusCounts,
    private readonly waiters: TerminalWaiters,
    /** Stop the worker (if any) on a job removed before it ended. */
    private readonly abandonRun: (s: JobState) => void,
  ) {
    timers.every(Math.max(50, Math.min(1000, (retentionMs || RUNPOD.runRetentionMs) / ts)), () => this.sweep());
  }

  /** The job ended now: its result is held for its retention, and its waiters are released. */
  markFinished(s: JobState, now: number): void {
    s.job.finishedAt = now;
    s.expiresAt = now + s.retentionMs / this.ts;
    this.finished.add(s);
    this.waiters.notify(s);
  }

  /** The job runs again (/retry): its result is no longer held. */
  forget(s: JobState): void {
    this.finished.delete(s);
  }

  checkExpired(s: JobState, now: number): boolean {
    if (s.job.expired) return true;
    if ((s.expiresAt !== undefined && now >= s.expiresAt) || now >= s.ttlDeadline) {
      this.expire(s);
      return true;
    }
    return false;
  }

  /** Gone for good: /status answers 404; the payload is dropped to keep 20,000-job runs small. */
  expire(s: JobState): void {
    const job = s.job;
    if (job.expired) return;
    if (!isTerminal(job.status)) {
      // RUNPOD_API.md: past policy.ttl the job is removed, wherever it was.
      this.abandonRun(s);
      this.counts.set(s, 'CANCELLED');
    }
    job.expired = true;
    delete job.input;
    delete job.output;
    this.finished.delete(s);
    this.waiters.notify(s);
  }

  expireAll(): void {
    for (const s of [...this.finished]) this.expire(s);
  }

  private sweep(): void {
    const now = Date.now();
    for (const s of this.finished) if (s.expiresAt !== undefined && now >= s.expiresAt) this.expire(s);
  }
}
