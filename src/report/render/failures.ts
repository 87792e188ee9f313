/**
 * The failures section: the errors of the jobs that ended badly (every attempt, retried ones included) and of the rows
 * that did not complete, grouped by FailureGrouper (errors.ts) with bounded memory.
 */
import { FailureGrouper } from './errors.js';
import type { ReportJob, ReportModel, ReportRow } from './model-types.js';
import { endedBadly } from './summary.js';

export const MAX_FAILURE_GROUPS = 20;

/**
 * Job statuses whose error is grouped: RunPod's, and the attempts the output checks caught (COMPLETED with an empty
 * output, or with an error inside it: its extracted error is grouped like a FAILED job's).
 */
const TERMINAL_BAD = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED', 'EMPTY_OUTPUT', 'OUTPUT_ERROR']);

/** Accumulates failed jobs, then failed rows (in that order: the groups are made in the order errors come). */
export class Failures {
  private readonly grouper = new FailureGrouper();
  private failedRows = 0;

  /** An error equal to the status says nothing more: it is grouped as "no error message". */
  addJob(j: ReportJob): void {
    if (TERMINAL_BAD.has(j.status)) this.grouper.addJob(j.status, j.error === j.status ? null : j.error);
  }

  addRow(r: ReportRow): void {
    if (!endedBadly(r.status)) return;
    this.failedRows++;
    this.grouper.addRow(String(r.id), r.status, r.error === r.status ? null : r.error);
  }

  /** `jobs`: the jobs by how they ended badly (JobTally). */
  result(jobs: ReportModel['failures']['jobs']): ReportModel['failures'] {
    const { groups, distinct } = this.grouper.result(MAX_FAILURE_GROUPS);
    return { groups, distinct, failedRows: this.failedRows, jobs };
  }
}
