/** Adapters from the store's shapes to the report's inputs (the store's jobs and samples already fit as they are). */
import { rowStatus, type Sample, type StoredJob, type SummaryRow } from '../../core/records.js';
import type { ReportJob, ReportRow, ReportSample } from './model.js';

/** One row of the store as the report sees it: its id parsed, SUBMITTED shown as the job's last known status. */
export function reportRowOf(r: SummaryRow): ReportRow {
  let id: string | number;
  try {
    const v = JSON.parse(r.idJson) as unknown;
    id = typeof v === 'string' || typeof v === 'number' ? v : r.idJson;
  } catch {
    id = r.idJson;
  }
  return {
    id,
    status: rowStatus(r),
    attempts: r.attempts,
    e2eMs: r.e2eMs,
    delayTime: r.delayTime,
    executionTime: r.executionTime,
    error: r.state === 'COMPLETED' ? null : r.error,
    line: r.line,
  };
}

/** Compile-time check: `store.jobTimeline()` and `store.samples()` can be passed to buildReportModel unchanged. */
type Fits<A, B> = A extends B ? true : false;
export type StoreShapesFit = [Fits<Omit<StoredJob, 'jobId' | 'rowKey' | 'attempt'>, ReportJob>, Fits<Sample, ReportSample>] extends [
  true,
  true,
]
  ? true
  : never;
const storeShapesFit: StoreShapesFit = true;
void storeShapesFit;
