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
}

/** Joins the row counts at the start of the run with the scheduler's progress since. Pure. */
export function progressOf(start: Record<string, number>, p: Progress, elapsedMs: number, spentBefore: number, price: number | null): BatchProgress {
  let total = 0;
  for (const n of Object.values(start)) total += n;
  const completed = (start.COMPLETED ?? 0) + p.completed;
  const failed = (start.FAILED ?? 0) + (start.CANCELLED ?? 0) + (start.TIMED_OUT ?? 0) + p.failed;
  const spentSeconds = spentBefore + p.billedSeconds;
  const done = completed + failed;
  const perRow = p.billedJobs > 0 ? p.billedSeconds / Math.max(1, p.completed + p.failed) : null;
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
    projectedUsd: price === null || perRow === null ? null : (spentSeconds + perRow * (total - done)) * price,
  };
}
