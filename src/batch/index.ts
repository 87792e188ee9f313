/**
 * The application layer: what the CLI and the library call. Each command is a plain function over typed options
 * (run, dry run, status, report, export, retry, cancel); they open the state, take its lock, and put the input
 * readers, the store, the engine, the writers and the reports to work.
 */
export { cancelBatch, type CancelSummary } from './cancel.js';
export { dryRun, type DryRunOptions, type Estimate } from './dry-run.js';
export { exportBatch, exportParquet, type ExportFormat, type ExportOptions } from './export.js';
export { type ExportSource, type MergedRows, mergedRows } from './merge.js';
export { exportHf, type HfExportOptions, type HfExportResult } from './export-hf.js';
export type { IngestResult } from './ingest.js';
export type { LatencySummary, Stats } from '../report/stats.js';
export type { RunBatchOptions } from './options.js';
export type { BatchProgress } from './progress.js';
export { regenerateBatch } from './report.js';
export { retryBatch, type RerunOptions } from './retry.js';
export { defaultOutDir } from './out-dir.js';
export { runBatch, type BatchResult } from './run.js';
export { batchStatus, type BatchStatus } from './status.js';
export type { ViewFiles } from './views.js';
