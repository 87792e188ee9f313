/**
 * The report model: everything report.md and report.html show, computed in one pass over each input (samples, then
 * jobs, then rows). Numbers per job/row live in Float64Arrays; per-row objects are never kept (slowest rows: a
 * bounded top-K; failures: bounded groups). The model is plain JSON, and small whatever the batch size.
 */
import { billedSeconds as billedSecondsOf } from '../../core/billing.js';
import { isNum, round1, round6 } from '../../core/numbers.js';
import { Float64Collector, LatencyCollector, percentileOf } from '../percentiles.js';
import type { RowLatencies, Stats } from '../stats.js';
import { fmtInt } from './format.js';
import { FailureGrouper, type FailureGroup } from './errors.js';
import { histogramOf, type Histogram } from './histogram.js';
import { elapsedAt, SegmentBuilder, type Pause, type Segment } from './timeline.js';

export type { FailureGroup } from './errors.js';
export type { Histogram } from './histogram.js';
export type { Pause } from './timeline.js';

/** Every job ever created, in any order (the store's jobs table). */
export interface ReportJob {
  jobId?: string;
  rowKey?: string;
  attempt?: number;
  /** Epoch ms. */
  submittedAt: number;
  finishedAt: number | null;
  /** COMPLETED FAILED TIMED_OUT CANCELLED LOST EXPIRED IN_QUEUE IN_PROGRESS */
  status: string;
  delayTime: number | null;
  executionTime: number | null;
  error: string | null;
}

/** Every input row, in input order: its final state. */
export interface ReportRow {
  id: string | number;
  status: string;
  attempts: number;
  e2eMs: number | null;
  delayTime: number | null;
  executionTime: number | null;
  error: string | null;
  line: number;
}

/** Progress samples, about one per second of each run (cumulative counters within a run). */
export interface ReportSample {
  runId: number;
  t: number;
  inFlight: number;
  submitted: number;
  completed: number;
  failed: number;
  rateLimited: number;
  retries: number;
}

export interface ReportInput {
  /** E.g. the input file name. */
  title: string;
  /** Epoch ms. */
  generatedAt: number;
  endpoint: string;
  /** From computeStats (stats.ts). */
  stats: Stats;
  /**
   * The same rows' delay / execution / end-to-end values, in order, as computeStatsWithLatencies collected them.
   * When given, the rows' latencies are not collected a second time.
   */
  rowLatencies?: RowLatencies;
  pricePerSecond: number | null;
  priceSource: string;
  jobs: Iterable<ReportJob>;
  rows: Iterable<ReportRow>;
  samples: Iterable<ReportSample>;
  /**
   * Cold start estimate: a job whose delayTime is above this (ms) counts as a cold start.
   * @default max(2000, 3 × the median delayTime of all jobs)
   */
  coldStartThresholdMs?: number;
  /** The output folder, for the commands suggested in "what to do next". @default '<out>' */
  outDir?: string;
}

export interface StatusCount {
  status: string;
  count: number;
}

export interface ActivityPoint {
  /** Elapsed running time at the bucket's start, ms. */
  t: number;
  /** Counts within the bucket (from the differences of the cumulative sample counters). */
  submitted: number;
  completed: number;
  failed: number;
  rateLimited: number;
  retries: number;
  /** Mean and max of the in-flight samples in the bucket; null when no sample fell in it. */
  inFlight: number | null;
  inFlightMax: number | null;
}

export interface CostPoint {
  /** Elapsed running time at the bucket's end, ms. */
  t: number;
  /** Cumulative billed seconds (executionTime rounded up per job) of jobs finished by then. */
  billedSeconds: number;
  /** billedSeconds × price; null without a price. */
  usd: number | null;
}

export interface SlowRow {
  id: string;
  status: string;
  line: number;
  attempts: number;
  delayTime: number | null;
  executionTime: number | null;
  e2eMs: number;
}

export interface OpRow {
  op: string;
  requests: number;
  rateLimited: number;
  retries: number;
  errors: number;
}

export type Tone = 'ok' | 'warn' | 'error' | 'info';

export interface ReportModel {
  title: string;
  endpoint: string;
  generatedAt: number;
  outDir: string;
  summary: {
    rows: {
      total: number;
      completed: number;
      /** Terminal but not COMPLETED (FAILED, TIMED_OUT, CANCELLED). */
      failed: number;
      /** Not terminal yet: PENDING, IN_QUEUE, IN_PROGRESS (the batch was interrupted). */
      unfinished: number;
      byStatus: StatusCount[];
      attempts: number;
      resubmitted: number;
      expired: number;
      lost: number;
    };
    /** 0–100; null for no rows. */
    completedPct: number | null;
    wallSeconds: number;
    throughputPerMinute: number;
    billedSeconds: number;
    billedSecondsNote: string;
    estimatedCostUsd: number | null;
    pricePerSecond: number | null;
    priceSource: string;
    requests: number;
    rateLimited: number;
    retries: number;
    requestErrors: number;
    timingsMissing: number;
    /** Epoch ms of the first job submission / last job end or sample; null without any. */
    firstActivity: number | null;
    lastActivity: number | null;
    jobs: { total: number; byStatus: StatusCount[] };
  };
  /** The one-line "what to do next". */
  nextStep: { tone: Tone; text: string };
  /** Further advice, one line each. */
  advice: string[];
  /** Over rows' final jobs (as in stats.json); null when no value. */
  latency: { delay: Histogram | null; execution: Histogram | null; endToEnd: Histogram | null };
  timeline: {
    source: 'samples' | 'jobs' | 'none';
    /** Total running time on the time axis, ms. */
    elapsedMs: number;
    segments: number;
    pauses: Pause[];
    pauseCount: number;
  };
  /** Throughput, in-flight jobs, 429s and retries over running time, from the progress samples (≤ MAX_POINTS). */
  activity: { bucketMs: number; points: ActivityPoint[] };
  /** Cumulative billed seconds (and USD) over running time, from the jobs (≤ MAX_POINTS). */
  cost: { bucketMs: number; points: CostPoint[]; totalBilledSeconds: number; totalUsd: number | null; pricePerSecond: number | null };
  failures: {
    groups: FailureGroup[];
    /** Distinct groups (the list shows the first MAX_FAILURE_GROUPS). */
    distinct: number;
    failedRows: number;
    /** Jobs by how they ended badly: every attempt, retried ones included. */
    jobs: { failed: number; timedOut: number; cancelled: number; lost: number; expired: number };
  };
  coldStarts: {
    thresholdMs: number;
    thresholdGiven: boolean;
    /** Jobs that have a delayTime. */
    jobsWithDelay: number;
    count: number;
    /** count / jobsWithDelay; 0 without jobs. */
    share: number;
    medianDelayMs: number | null;
    /** Σ (delayTime − median delayTime) over cold-start jobs, seconds: the estimated billed cold-start time. */
    estimatedBilledSeconds: number;
    /** Σ delayTime over cold-start jobs, seconds: an upper bound (queue wait is included, and is not billed). */
    upperBoundSeconds: number;
    estimatedCostUsd: number | null;
  };
  requests: OpRow[];
  slowest: SlowRow[];
}

/** Time series are bucketed to at most this many points. */
export const MAX_POINTS = 600;
export const TOP_SLOWEST = 10;
export const MAX_FAILURE_GROUPS = 20;
/** Default cold start threshold: max(COLD_MIN_MS, COLD_MEDIAN_FACTOR × median delayTime). */
export const COLD_MIN_MS = 2000;
export const COLD_MEDIAN_FACTOR = 3;

const TERMINAL_BAD = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED']);
const UNFINISHED = new Set(['PENDING', 'SUBMITTED', 'IN_QUEUE', 'IN_PROGRESS']);

/** Status counts, COMPLETED first, then by count. */
function statusList(counts: Record<string, number>): StatusCount[] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([status, count]) => ({ status, count }))
    .sort((a, b) => (a.status === 'COMPLETED' ? -1 : b.status === 'COMPLETED' ? 1 : b.count - a.count || (a.status < b.status ? -1 : 1)));
}

/** Per-sample numbers, kept as parallel typed arrays (7 numbers a sample). */
class SampleBuffer {
  readonly t = new Float64Collector();
  readonly inFlight = new Float64Collector();
  readonly submitted = new Float64Collector();
  readonly completed = new Float64Collector();
  readonly failed = new Float64Collector();
  readonly rateLimited = new Float64Collector();
  readonly retries = new Float64Collector();
}

type Counters = Pick<ReportSample, 'submitted' | 'completed' | 'failed' | 'rateLimited' | 'retries'>;

function delta(cur: number, prev: number): number {
  const c = isNum(cur) ? cur : 0;
  // A counter that went down was reset: count from zero.
  return c >= prev ? c - prev : c;
}

function bucketCount(n: number): number {
  return Math.max(1, Math.min(MAX_POINTS, n));
}

export function buildReportModel(input: ReportInput): ReportModel {
  const { stats } = input;
  const price = isNum(input.pricePerSecond) && input.pricePerSecond >= 0 ? input.pricePerSecond : null;

  // --- 1. Samples: timeline segments and per-sample deltas.
  const segs = new SegmentBuilder();
  const sb = new SampleBuffer();
  const prevByRun = new Map<number, Counters>();
  let lastSampleT: number | null = null;
  for (const s of input.samples) {
    if (!isNum(s.t)) continue;
    segs.add(s.runId, s.t);
    const prev = prevByRun.get(s.runId) ?? { submitted: 0, completed: 0, failed: 0, rateLimited: 0, retries: 0 };
    sb.t.push(s.t);
    sb.inFlight.push(isNum(s.inFlight) ? s.inFlight : Number.NaN);
    sb.submitted.push(delta(s.submitted, prev.submitted));
    sb.completed.push(delta(s.completed, prev.completed));
    sb.failed.push(delta(s.failed, prev.failed));
    sb.rateLimited.push(delta(s.rateLimited, prev.rateLimited));
    sb.retries.push(delta(s.retries, prev.retries));
    prevByRun.set(s.runId, {
      submitted: isNum(s.submitted) ? s.submitted : 0,
      completed: isNum(s.completed) ? s.completed : 0,
      failed: isNum(s.failed) ? s.failed : 0,
      rateLimited: isNum(s.rateLimited) ? s.rateLimited : 0,
      retries: isNum(s.retries) ? s.retries : 0,
    });
    lastSampleT = lastSampleT === null ? s.t : Math.max(lastSampleT, s.t);
  }

  // --- 2. Jobs: billed seconds by finish time, delays for cold starts, outcomes and their errors.
  // With samples the timeline is known now: billed seconds go straight into their cost buckets. Without (a state
  // that has none), each job's finish time and bill are kept until the timeline is known from the jobs themselves.
  const sampled = segs.segments.length > 0 && segs.elapsedMs > 0;
  const costN = sampled ? bucketCount(Math.floor(sb.t.length / 2)) : 0;
  const costW = sampled ? segs.elapsedMs / costN : 0;
  const costSums = sampled ? new Float64Array(costN) : null;
  let placedBilled = 0;
  const costT = new Float64Collector(sampled ? 1 : 1024);
  const costBilled = new Float64Collector(sampled ? 1 : 1024);
  let unplacedBilled = 0;
  const jobDelays = new LatencyCollector();
  const jobCounts: Record<string, number> = {};
  let jobsTotal = 0;
  let firstSubmit: number | null = null;
  let lastFinish: number | null = null;
  const failures = new FailureGrouper();
  for (const j of input.jobs) {
    jobsTotal++;
    jobCounts[j.status] = (jobCounts[j.status] ?? 0) + 1;
    if (isNum(j.submittedAt)) firstSubmit = firstSubmit === null ? j.submittedAt : Math.min(firstSubmit, j.submittedAt);
    if (isNum(j.finishedAt)) lastFinish = lastFinish === null ? j.finishedAt : Math.max(lastFinish, j.finishedAt);
    if (isNum(j.delayTime)) jobDelays.push(j.delayTime);
    const billed = isNum(j.executionTime) ? billedSecondsOf(j.executionTime) : 0;
    if (billed > 0) {
      if (isNum(j.finishedAt) && costSums) {
        costSums[Math.min(costN - 1, Math.floor(elapsedAt(segs.segments, j.finishedAt) / costW))]! += billed;
        placedBilled += billed;
      } else if (isNum(j.finishedAt)) {
        costT.push(j.finishedAt);
        costBilled.push(billed);
      } else {
        unplacedBilled += billed;
      }
    }
    if (TERMINAL_BAD.has(j.status)) failures.addJob(j.status, j.error === j.status ? null : j.error);
  }

  // --- 3. Rows: latency values, slowest top-K, failure groups of rows that did not complete.
  const given = input.rowLatencies;
  const delays = given ? null : new LatencyCollector();
  const execs = given ? null : new LatencyCollector();
  const e2es = given ? null : new LatencyCollector();
  const slowest: SlowRow[] = [];
  let failedRows = 0;
  for (const r of input.rows) {
    if (delays && isNum(r.delayTime)) delays.push(r.delayTime);
    if (execs && isNum(r.executionTime)) execs.push(r.executionTime);
    if (isNum(r.e2eMs)) {
      e2es?.push(r.e2eMs);
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
    if (r.status !== 'COMPLETED' && !UNFINISHED.has(r.status)) {
      failedRows++;
      failures.addRow(String(r.id), r.status, r.error === r.status ? null : r.error);
    }
  }

  // --- Timeline: from samples; without samples, one segment from the first submission to the last finish.
  let segments: readonly Segment[] = segs.segments;
  let elapsedMs = segs.elapsedMs;
  let source: ReportModel['timeline']['source'] = segments.length > 0 ? 'samples' : 'none';
  if (segments.length === 0 && firstSubmit !== null) {
    const end = Math.max(lastFinish ?? firstSubmit, firstSubmit + SAMPLE_MIN_SPAN);
    segments = [{ start: firstSubmit, end, offset: 0 }];
    elapsedMs = end - firstSubmit;
    source = 'jobs';
  }

  // --- Activity buckets (samples).
  const nSamples = sb.t.length;
  const activity: ReportModel['activity'] = { bucketMs: 0, points: [] };
  if (nSamples > 0 && elapsedMs > 0) {
    // About two samples a bucket, so per-bucket rates are not jagged by sampling jitter.
    const n = bucketCount(Math.floor(nSamples / 2));
    const w = elapsedMs / n;
    const pts: ActivityPoint[] = [];
    const inSum = new Float64Array(n);
    const inCnt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      pts.push({ t: i * w, submitted: 0, completed: 0, failed: 0, rateLimited: 0, retries: 0, inFlight: null, inFlightMax: null });
    }
    const T = sb.t.values();
    const IF = sb.inFlight.values();
    const SU = sb.submitted.values();
    const CO = sb.completed.values();
    const FA = sb.failed.values();
    const RL = sb.rateLimited.values();
    const RE = sb.retries.values();
    for (let i = 0; i < nSamples; i++) {
      const b = Math.min(n - 1, Math.floor(elapsedAt(segments, T[i]!) / w));
      const p = pts[b]!;
      p.submitted += SU[i]!;
      p.completed += CO[i]!;
      p.failed += FA[i]!;
      p.rateLimited += RL[i]!;
      p.retries += RE[i]!;
      const f = IF[i]!;
      if (Number.isFinite(f)) {
        inSum[b]! += f;
        inCnt[b]!++;
        p.inFlightMax = p.inFlightMax === null ? f : Math.max(p.inFlightMax, f);
      }
    }
    for (let b = 0; b < n; b++) if (inCnt[b]! > 0) pts[b]!.inFlight = round1(inSum[b]! / inCnt[b]!);
    activity.bucketMs = w;
    activity.points = pts;
  }

  // --- Cumulative cost buckets (jobs, at their finishedAt).
  const nCost = costT.length;
  const totalBilled = (() => {
    let s = unplacedBilled + placedBilled;
    const B = costBilled.values();
    for (let i = 0; i < nCost; i++) s += B[i]!;
    return s;
  })();
  const cost: ReportModel['cost'] = {
    bucketMs: 0,
    points: [],
    totalBilledSeconds: totalBilled,
    totalUsd: price === null ? null : round6(totalBilled * price),
    pricePerSecond: price,
  };
  if (totalBilled > 0 && elapsedMs > 0) {
    const n = costSums ? costN : bucketCount(nSamples > 0 ? Math.floor(nSamples / 2) : Math.ceil(elapsedMs / 1000));
    const w = costSums ? costW : elapsedMs / n;
    const sums = costSums ?? new Float64Array(n);
    const T = costT.values();
    const B = costBilled.values();
    for (let i = 0; i < nCost; i++) sums[Math.min(n - 1, Math.floor(elapsedAt(segments, T[i]!) / w))]! += B[i]!;
    sums[n - 1]! += unplacedBilled; // no finish time: counted at the end, so the total is right
    let cum = 0;
    for (let b = 0; b < n; b++) {
      cum += sums[b]!;
      cost.points.push({ t: (b + 1) * w, billedSeconds: cum, usd: price === null ? null : round6(cum * price) });
    }
    cost.bucketMs = w;
  }

  // --- Cold starts (over every job with a delayTime).
  const jd = jobDelays.sorted();
  const medianDelay = jd.count > 0 ? percentileOf(jd, 50) : null;
  const thresholdGiven = isNum(input.coldStartThresholdMs);
  const threshold = thresholdGiven ? input.coldStartThresholdMs! : Math.max(COLD_MIN_MS, COLD_MEDIAN_FACTOR * (medianDelay ?? 0));
  let coldCount = 0;
  let coldExcess = 0;
  let coldTotal = 0;
  jd.forEach((v, times) => {
    if (v <= threshold) return;
    coldCount += times;
    coldTotal += v * times;
    coldExcess += (v - (medianDelay ?? 0)) * times;
  });
  const coldEstimated = round1(coldExcess / 1000);

  // --- Summary and advice.
  const byStatus = stats.rows.byStatus;
  let unfinished = 0;
  let failedByStats = 0;
  for (const [s, n] of Object.entries(byStatus)) {
    if (UNFINISHED.has(s)) unfinished += n;
    else if (s !== 'COMPLETED') failedByStats += n;
  }
  const total = stats.rows.total;
  const req = stats.requests;
  const requests: OpRow[] = Object.entries(req)
    .filter(([op]) => op !== 'total')
    .map(([op, c]) => ({ op, ...c }))
    .sort((a, b) => b.requests - a.requests || (a.op < b.op ? -1 : 1));
  if (requests.length > 0) requests.push({ op: 'total', ...req.total });

  const outDir = input.outDir && input.outDir.trim() !== '' ? input.outDir : '<out>';
  const failedStatuses = statusList(Object.fromEntries(Object.entries(byStatus).filter(([s]) => s !== 'COMPLETED' && !UNFINISHED.has(s))));
  const { nextStep, advice } = adviseNext({
    total,
    completed: stats.rows.completed,
    failed: failedByStats,
    unfinished,
    failedStatuses,
    outDir,
    price,
    rateLimited: req.total.rateLimited,
    requests: req.total.requests,
    expired: stats.rows.expired,
    lost: stats.rows.lost,
    timingsMissing: stats.timingsMissing,
    coldShare: jd.count > 0 ? coldCount / jd.count : 0,
    coldCount,
  });

  const firstActivity = firstSubmit ?? (nSamples > 0 ? segments[0]!.start : null);
  const lastCandidates = [lastFinish, lastSampleT].filter((v): v is number => v !== null);
  const failureResult = failures.result(MAX_FAILURE_GROUPS);

  return {
    title: input.title,
    endpoint: input.endpoint,
    generatedAt: input.generatedAt,
    outDir,
    summary: {
      rows: {
        total,
        completed: stats.rows.completed,
        failed: failedByStats,
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
      priceSource: input.priceSource,
      requests: req.total.requests,
      rateLimited: req.total.rateLimited,
      retries: req.total.retries,
      requestErrors: req.total.errors,
      timingsMissing: stats.timingsMissing,
      firstActivity,
      lastActivity: lastCandidates.length > 0 ? Math.max(...lastCandidates) : null,
      jobs: { total: jobsTotal, byStatus: statusList(jobCounts) },
    },
    nextStep,
    advice,
    latency: {
      delay: histogramOf(given ? given.delay : delays!.sorted()),
      execution: histogramOf(given ? given.execution : execs!.sorted()),
      endToEnd: histogramOf(given ? given.endToEnd : e2es!.sorted()),
    },
    timeline: { source, elapsedMs, segments: segments.length, pauses: segs.pauses, pauseCount: segs.pauseCount },
    activity,
    cost,
    failures: {
      groups: failureResult.groups,
      distinct: failureResult.distinct,
      failedRows,
      jobs: {
        failed: jobCounts.FAILED ?? 0,
        timedOut: jobCounts.TIMED_OUT ?? 0,
        cancelled: jobCounts.CANCELLED ?? 0,
        lost: jobCounts.LOST ?? 0,
        expired: jobCounts.EXPIRED ?? 0,
      },
    },
    coldStarts: {
      thresholdMs: threshold,
      thresholdGiven,
      jobsWithDelay: jd.count,
      count: coldCount,
      share: jd.count > 0 ? coldCount / jd.count : 0,
      medianDelayMs: medianDelay,
      estimatedBilledSeconds: coldEstimated,
      upperBoundSeconds: round1(coldTotal / 1000),
      estimatedCostUsd: price === null ? null : round6(coldEstimated * price),
    },
    requests,
    slowest,
  };
}

/** A one-segment timeline built from jobs is at least this long (ms), so a batch of instant jobs still has an axis. */
const SAMPLE_MIN_SPAN = 1000;

interface AdviceInput {
  total: number;
  completed: number;
  failed: number;
  unfinished: number;
  failedStatuses: StatusCount[];
  outDir: string;
  price: number | null;
  rateLimited: number;
  requests: number;
  expired: number;
  lost: number;
  timingsMissing: number;
  coldShare: number;
  coldCount: number;
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

function adviseNext(a: AdviceInput): { nextStep: { tone: Tone; text: string }; advice: string[] } {
  const advice: string[] = [];
  let nextStep: { tone: Tone; text: string };
  if (a.total === 0) {
    nextStep = { tone: 'info', text: 'No rows in this batch: nothing ran.' };
  } else if (a.unfinished > 0) {
    nextStep = {
      tone: 'warn',
      text:
        `${plural(a.unfinished, 'row')} did not finish (the run was interrupted): run the same \`runpod-batch run\` command again to resume. ` +
        'Finished results stay readable on RunPod for only 30 minutes; rows whose results expire run (and are billed) again.',
    };
    if (a.failed > 0) {
      advice.push(`${plural(a.failed, 'row')} failed (${a.failedStatuses.map((s) => `${s.status} ${s.count}`).join(', ')}): see ${a.outDir}/errors.jsonl.`);
    }
  } else if (a.failed > 0) {
    nextStep = {
      tone: 'error',
      text:
        `${plural(a.failed, 'row')} failed (${a.failedStatuses.map((s) => `${s.status} ${s.count}`).join(', ')}): ` +
        `see ${a.outDir}/errors.jsonl; \`runpod-batch retry ${a.outDir}\` runs them again.`,
    };
  } else {
    nextStep = { tone: 'ok', text: `All ${plural(a.total, 'row')} completed: results are in ${a.outDir}/results.jsonl.` };
  }
  if (a.price === null) advice.push('No cost estimate: pass --price-per-second or --gpu to get one.');
  if (a.requests > 0 && a.rateLimited / a.requests > 0.05) {
    advice.push(
      `${plural(a.rateLimited, 'request')} got 429 Too Many Requests (${((a.rateLimited / a.requests) * 100).toFixed(1)}% of requests): ` +
        'they were retried, but a lower --concurrency would waste less time backing off.',
    );
  }
  if (a.expired > 0) {
    advice.push(`${plural(a.expired, 'result')} expired before being read (RunPod keeps results 30 minutes): those rows ran again, and were billed again. Resume interrupted batches sooner.`);
  }
  if (a.lost > 0) advice.push(`${plural(a.lost, 'job')} ${a.lost === 1 ? 'was' : 'were'} lost (no answer from RunPod for them): their rows ran again.`);
  if (a.coldCount > 0 && a.coldShare > 0.1) {
    advice.push(
      `${(a.coldShare * 100).toFixed(0)}% of jobs waited long enough to suggest a cold start: more active (always-on) workers or a longer idle timeout may pay off.`,
    );
  }
  if (a.timingsMissing > 0) {
    advice.push(`${plural(a.timingsMissing, 'row')} have no delayTime/executionTime (e.g. runpod-python's local test server reports none): they are missing from latencies and billed seconds.`);
  }
  return { nextStep, advice };
}
