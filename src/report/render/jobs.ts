/** Every job ever created, counted: by status, and the first submission and last finish (the batch's active span). */
import { isNum } from '../../core/numbers.js';
import type { ReportJob, ReportModel } from './model-types.js';
import { statusList } from './summary.js';

/** Accumulates job counts; `result` gives them as the model shows them. */
export class JobTally {
  private total = 0;
  private readonly counts: Record<string, number> = {};
  private firstSubmit: number | null = null;
  private lastFinish: number | null = null;

  add(j: ReportJob): void {
    this.total++;
    this.counts[j.status] = (this.counts[j.status] ?? 0) + 1;
    if (isNum(j.submittedAt)) this.firstSubmit = this.firstSubmit === null ? j.submittedAt : Math.min(this.firstSubmit, j.submittedAt);
    if (isNum(j.finishedAt)) this.lastFinish = this.lastFinish === null ? j.finishedAt : Math.max(this.lastFinish, j.finishedAt);
  }

  result(): {
    /** Jobs by status, for the summary. */
    jobs: ReportModel['summary']['jobs'];
    /** Jobs by how they ended badly, for the failures section. */
    endedBadly: ReportModel['failures']['jobs'];
    /** Epoch ms; null without any. */
    firstSubmit: number | null;
    lastFinish: number | null;
  } {
    const c = this.counts;
    return {
      jobs: { total: this.total, byStatus: statusList(c) },
      endedBadly: {
        failed: c.FAILED ?? 0,
        timedOut: c.TIMED_OUT ?? 0,
        cancelled: c.CANCELLED ?? 0,
        lost: c.LOST ?? 0,
        expired: c.EXPIRED ?? 0,
        emptyOutput: c.EMPTY_OUTPUT ?? 0,
        outputError: c.OUTPUT_ERROR ?? 0,
      },
      firstSubmit: this.firstSubmit,
      lastFinish: this.lastFinish,
    };
  }
}
