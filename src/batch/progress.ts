import type { Progress } from '../engine/scheduler.js';

/** What a run reports about every second (onProgress): the scheduler's counters joined with the batch's totals. */
export interface BatchProgress extends Progress {
  total: number;
  /** Rows this run brought to COMPLETED. */
  completedThisRun: number;
  /** USD billed so far (earlier runs included); null without a price. */
  spentUsd: number | null;
  /** USD the whole batch will have cost at the billed seconds per row seen so far; null while unknown. */
  projectedUsd: number | null;
  /** Rows in a terminal state (this and earlier runs). */
  done: number;
  completed: number;
  failed: number;
  waiting: number;
  elapsedMs: number;
  /** Rows this run completes per minute, at its recent pace (re-attached jobs of an earlier run left out). */
  ratePerMinute: number;
  /** Time to finish the rows left at that pace; null while unknown or nothing is left. */
  etaMs: number | null;
}

/**
 * This run's pace: rows completed by jobs it submitted, over the last minute (over the whole run until a minute has
 * passed). Jobs re-attached after a resume end at once and would make the first minutes look fast. Pure.
 */
export class PaceWindow {
  private readonly t: number[] = [];
  private readonly n: number[] = [];

  constructor(private readonly windowMs = 60_000) {}

  /** Completed rows (this run's own jobs) at elapsed time `t`; returns rows per minute. */
  add(t: number, completed: number): number {
    this.t.push(t);
    this.n.push(completed);
    while (this.t.length > 2 && (this.t[1] ?? 0) <= t - this.windowMs) {
      this.t.shift();
      this.n.shift();
    }
    const t0 = this.t[0] ?? 0;
    const n0 = this.n[0] ?? 0;
    // In the first minute the whole run so far (from its start, elapsed 0) is the window.
    const [from, base] = t >= this.windowMs ? [t0, n0] : [0, 0];
    return t > from ? ((completed - base) * 60_000) / (t - from) : 0;
  }
}

/** Joins the row counts at the start of the run with the scheduler's progress since. Pure. */
export function progressOf(
  start: Record<string, number>,
  p: Progress,
  elapsedMs: number,
  spentBefore: number,
  price: number | null,
  ratePerMinute: number,
): BatchProgress {
  let total = 0;
  for (const n of Object.values(start)) total += n;
  const completed = (start.COMPLETED ?? 0) + p.completed;
  const failed = (start.FAILED ?? 0) + (start.CANCELLED ?? 0) + (start.TIMED_OUT ?? 0) + p.failed;
  const spentSeconds = spentBefore + p.billedSeconds;
  const done = completed + failed;
  const perRow = p.billedJobs > 0 ? p.billedSeconds / Math.max(1, p.completed + p.failed) : null;
  const left = total - done;
  return {
    ...p,
    completedThisRun: p.completed,
    total,
    done,
    completed,
    failed,
    waiting: Math.max(0, total - done - p.inFlight),
    elapsedMs,
    spentUsd: price === null ? null : spentSeconds * price,
    projectedUsd: price === null || perRow === null ? null : (spentSeconds + perRow * left) * price,
    ratePerMinute,
    etaMs: ratePerMinute > 0 && left > 0 ? (left / ratePerMinute) * 60_000 : null,
  };
}
