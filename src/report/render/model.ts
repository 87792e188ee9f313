/**
 * The report model: everything report.md and report.html show, computed in one pass over each input (samples, then
 * jobs, then rows), each item fed to small accumulators. Numbers per job/row live in typed arrays; per-row objects
 * are never kept (slowest rows: a bounded top-K; failures: bounded groups). The model is plain JSON, and small
 * whatever the batch size. Its shapes are in model-types.ts.
 */
import { isNum } from '../../core/numbers.js';
import type { SizingRecord } from '../../core/records.js';
import { adviceFor } from './advice.js';
import { ColdStarts } from './cold-starts.js';
import { CostSeries } from './cost-series.js';
import { Failures } from './failures.js';
import { JobTally } from './jobs.js';
import { LatencyHistograms } from './latency.js';
import type { ReportInput, ReportModel } from './model-types.js';
import { SampleSeries } from './samples.js';
import { SlowestRows } from './slowest.js';
import { failedStatuses, requestRows, summaryOf } from './summary.js';
import { SegmentBuilder, timeAxisOf } from './timeline.js';

export type {
  ActivityPoint,
  CostPoint,
  OpRow,
  ReportInput,
  ReportJob,
  ReportModel,
  ReportRow,
  ReportSample,
  SlowRow,
  StatusCount,
  Tone,
} from './model-types.js';
export type { FailureGroup } from './errors.js';
export type { Histogram } from './histogram.js';
export type { Pause } from './timeline.js';
export { COLD_MEDIAN_FACTOR, COLD_MIN_MS } from './cold-starts.js';
export { MAX_FAILURE_GROUPS } from './failures.js';
export { TOP_SLOWEST } from './slowest.js';
export { MAX_POINTS } from './timeline.js';

export function buildReportModel(input: ReportInput): ReportModel {
  const price = isNum(input.pricePerSecond) && input.pricePerSecond >= 0 ? input.pricePerSecond : null;

  // 1. Samples: the time axis (segments of activity) and the per-sample counts.
  const segs = new SegmentBuilder();
  const samples = new SampleSeries();
  for (const s of input.samples) {
    if (!isNum(s.t)) continue;
    segs.add(s.runId, s.t);
    samples.add(s);
  }

  // 2. Jobs: counts, billed seconds by finish time, delays for cold starts, the errors of those that ended badly.
  const jobs = new JobTally();
  const cost = new CostSeries(segs, samples.count);
  const coldStarts = new ColdStarts();
  const failures = new Failures();
  for (const j of input.jobs) {
    jobs.add(j);
    cost.add(j);
    coldStarts.add(j);
    failures.addJob(j);
  }

  // 3. Rows: latency values, the slowest top-K, the errors of rows that did not complete.
  const latency = new LatencyHistograms(input.rowLatencies);
  const slowest = new SlowestRows();
  for (const r of input.rows) {
    latency.add(r);
    slowest.add(r);
    failures.addRow(r);
  }

  const jobCounts = jobs.result();
  const axis = timeAxisOf(segs, jobCounts.firstSubmit, jobCounts.lastFinish);
  const lastCandidates = [jobCounts.lastFinish, samples.lastT].filter((v): v is number => v !== null);
  const summary = summaryOf({
    stats: input.stats,
    price,
    priceSource: input.priceSource,
    jobs: jobCounts.jobs,
    firstActivity: jobCounts.firstSubmit ?? (samples.count > 0 ? axis.segments[0]!.start : null),
    lastActivity: lastCandidates.length > 0 ? Math.max(...lastCandidates) : null,
  });
  const cold = coldStarts.result(input.coldStartThresholdMs, price, input.healthSeen ?? null);
  const outDir = input.outDir && input.outDir.trim() !== '' ? input.outDir : '<out>';
  const { nextStep, advice } = adviceFor(summary, failedStatuses(input.stats), outDir, cold, input.stop ?? null);

  return {
    title: input.title,
    endpoint: input.endpoint,
    generatedAt: input.generatedAt,
    outDir,
    summary,
    nextStep,
    advice,
    latency: latency.result(),
    timeline: {
      source: axis.source,
      elapsedMs: axis.elapsedMs,
      segments: axis.segments.length,
      pauses: segs.pauses,
      pauseCount: segs.pauseCount,
    },
    activity: samples.result(axis),
    sizing: sizingOf(input.sizing ?? null),
    cost: cost.result(axis, price),
    failures: failures.result(jobCounts.endedBadly),
    coldStarts: cold,
    requests: requestRows(input.stats),
    slowest: slowest.result(),
  };
}

/** Mode changes of the in-flight target shown in the report (the newest). */
export const MAX_SIZING_CHANGES = 20;

function sizingOf(r: SizingRecord | null): ReportModel['sizing'] {
  if (!r) return null;
  const changes = r.changes.slice(-MAX_SIZING_CHANGES);
  return { current: r.current, changes, changesLeftOut: r.changes.length - changes.length };
}
