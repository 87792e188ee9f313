/**
 * report.md and report.html for a finished (or interrupted) batch: build the model once from the store's rows, jobs
 * and progress samples, then render it.
 */
export {
  buildReportModel,
  COLD_MEDIAN_FACTOR,
  COLD_MIN_MS,
  MAX_FAILURE_GROUPS,
  MAX_POINTS,
  TOP_SLOWEST,
  type ActivityPoint,
  type CostPoint,
  type FailureGroup,
  type Histogram,
  type OpRow,
  type Pause,
  type ReportInput,
  type ReportJob,
  type ReportModel,
  type ReportRow,
  type ReportSample,
  type SlowRow,
  type StatusCount,
  type Tone,
} from './model.js';
export { normalizeError, type NormalizedError } from './errors.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export { reportRowOf } from './from-store.js';
