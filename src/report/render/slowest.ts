/** The slowest rows by end-to-end time: a bounded top-K, so no per-row object is kept for the rest. */
import { isNum } from '../../core/numbers.js';
import type { ReportRow, SlowRow } from './model-types.js';

export const TOP_SLOWEST = 10;

/** Accumulates the TOP_SLOWEST rows with the longest end-to-end time, slowest first. */
export class SlowestRows {
  private readonly slowest: SlowRow[] = [];

  add(r: ReportRow): void {
    if (!isNum(r.e2eMs)) return;
    const slowest = this.slowest;
    if (slowest.length < TOP_SLOWEST || r.e2eMs > slowest[slowest.length - 1]!.e2eMs) {
      const row: SlowRow = {
        id: String(r.id),
        status: r.status,
        line: r.line,
        attempts: r.attempts,
        delayTime: isNum(r.delayTime) ? r.delayTime : null,
        executionTime: isNum(r.executionTime) ? r.executionTime : null,
        e2eMs: r.e2eMs,
      };
      // Insert keeping descending order; equal values keep input order (the earlier row first).
      let i = slowest.length;
      while (i > 0 && slowest[i - 1]!.e2eMs < row.e2eMs) i--;
      slowest.splice(i, 0, row);
      if (slowest.length > TOP_SLOWEST) slowest.pop();
    }
  }

  result(): SlowRow[] {
    return this.slowest;
  }
}
