/** The summary section and the request table, from the batch's stats (stats.ts) and the jobs' counts. */
import type { Stats } from '../stats.js';
import type { OpRow, ReportModel, StatusCount } from './model-types.js';

/** Row statuses that are not final: the batch was interrupted. */
const UNFINISHED: ReadonlySet<string> = new Set(['PENDING', 'SUBMITTED', 'IN_QUEUE', 'IN_PROGRESS']);

/** A row status that is final but not COMPLETED (FAILED, TIMED_OUT, CANCELLED, …). */
export function endedBadly(status: string): boolean {
  return status !== 'COMPLETED' && !UNFINISHED.has(status);
}

/** Status counts, COMPLETED first, then by count. */
export function statusList(counts: Record<string, number>): StatusCount[] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([status, count]) => ({ status, count }))
    .sort((a, b) => (a.status === 'COMPLETED' ? -1 : b.status === 'COMPLETED' ? 1 : b.count - a.count || (a.status < b.status ? -1 : 1)));
}

/** The final row statuses that ended badly, with counts. */
export function failedStatuses(stats: Stats): StatusCount[] {
  return statusList(Object.fromEntries(Object.entries(stats.rows.byStatus).filter(([s]) => endedBadly(s))));
}

/** Requests per operation, most first, then a `total` row (none when no operation was counted). */
export function requestRows(stats: Stats): OpRow[] {
  const req = stats.requests;
  const requests: OpRow[] = Object.entries(req)
    .filter(([op]) => op !== 'total')
    .map(([op, c]) => ({ op, ...c }))
    .sort((a, b) => b.requests - a.requests || (a.op < b.op ? -1 : 1));
  if (requests.length > 0) requests.push({ op: 'total', ...req.total });
  return requests;
}

export interface SummaryInput {
  stats: Stats;
  price: number | null;
  priceSource: string;
  jobs: ReportModel['summary']['jobs'];
  firstActivity: number | null;
  lastActivity: number | null;
}

export function summaryOf({ stats, price, priceSource, jobs, firstActivity, lastActivity }: SummaryInput): ReportModel['summary'] {
  const byStatus = stats.rows.byStatus;
  let unfinished = 0;
  let failed = 0;
  for (const [s, n] of Object.entries(byStatus)) {
    if (UNFINISHED.has(s)) unfinished += n;
    else if (s !== 'COMPLETED') failed += n;
  }
  const total = stats.rows.total;
  const req = stats.requests.total;
  return {
    rows: {
      total,
      completed: stats.rows.completed,
      failed,
      unfinished,
      byStatus: statusList(byStatus),
      attempts: stats.rows.attempts,
      resubmitted: stats.rows.resubmitted,
      expired: stats.rows.expired,
      lost: stats.rows.lost,
    },
    completedPct: total > 0 ? (stats.rows.completed / total) * 100 : null,
    wallSeconds: stats.wallSeconds,
    throughputPerMinute: stats.throughputPerMinute,
    billedSeconds: stats.billedSeconds,
    billedSecondsNote: stats.billedSecondsNote,
    estimatedCostUsd: stats.estimatedCostUsd,
    pricePerSecond: price,
    priceSource,
    requests: req.requests,
    rateLimited: req.rateLimited,
    retries: req.retries,
    requestErrors: req.errors,
    timingsMissing: stats.timingsMissing,
    outputChecks: stats.outputChecks,
    firstActivity,
    lastActivity,
    jobs,
  };
}
