/**
 * Batch statistics: a pure reducer over the batch's rows, jobs and request counters.
 * Iterates each input once; latencies go into growable Float64Arrays, so a million rows stay cheap.
 */
import { billedSeconds as billedSecondsOf } from '../core/billing.js';
import { isNum, round6 } from '../core/numbers.js';
import { isTerminal, TERMINAL_STATUSES } from '../core/wire.js';
import { LatencyCollector, summarizeSorted, type LatencySummary, type Sorted } from './percentiles.js';

export type { LatencySummary } from './percentiles.js';

/** One input row, described by its final job. */
export interface RowRecord {
  /** COMPLETED | FAILED | CANCELLED | TIMED_OUT | PENDING | IN_QUEUE | IN_PROGRESS | ... */
  status: string;
  /** Jobs submitted for this row (1 = no resubmission). */
  attempts: number;
  /** Times the row's result expired before it was read (and the row had to be run again). */
  expired: number;
  /** Times the row's job was lost (e.g. a /run whose answer never arrived). */
  lost: number;
  /** Of the row's final job; null when unknown. */
  delayTime: number | null;
  executionTime: number | null;
  e2eMs: number | null;
}

/** Every job ever created (for billing). */
export interface JobRecord {
  status: string;
  delayTime: number | null;
  executionTime: number | null;
}

export interface OpCounters {
  requests: number;
  rateLimited: number;
  retries: number;
  errors: number;
}

export interface StatsInput {
  rows: Iterable<RowRecord>;
  jobs: Iterable<JobRecord>;
  /** Per operation: run, status, cancel, retry, ... (a key named `total` is ignored: the total is computed). */
  ops: Record<string, OpCounters>;
  /** Time the runs took (sum over runs). */
  wallSeconds: number;
  /** USD per billed second, null = unknown. */
  pricePerSecond: number | null;
}

export interface Stats {
  rows: {
    total: number;
    byStatus: Record<string, number>;
    completed: number;
    /** total − completed: failed + unfinished. */
    notCompleted: number;
    /** Ended FAILED, TIMED_OUT or CANCELLED after their retries: the rows of errors.jsonl. */
    failed: number;
    /** Not ended yet: PENDING, or a job in flight when the run stopped. */
    unfinished: number;
    attempts: number;
    /** Rows with attempts > 1. */
    resubmitted: number;
    /** Sum of rows' `expired`: results that expired before they were read. */
    expired: number;
    lost: number;
  };
  /** Over rows' final jobs that have the value. */
  latencyMs: { delay: LatencySummary | null; execution: LatencySummary | null; endToEnd: LatencySummary | null };
  /** Terminal rows without delayTime/executionTime (runpod-python's local test server reports none) — reported instead of zeros. */
  timingsMissing: number;
  wallSeconds: number;
  /** Completed rows per minute of wall time; 0 when wallSeconds is 0. */
  throughputPerMinute: number;
  /** Σ over ALL jobs with an executionTime of ceil(executionTime / 1000) — failed attempts are billed too. */
  billedSeconds: number;
  billedSecondsNote: string;
  /**
   * Attempts the output checks caught (engine/output-check.ts): jobs RunPod reported COMPLETED that counted as failed,
   * by check. Retried ones are included; their rows may have completed later.
   */
  outputChecks: { emptyOutput: number; outputError: number };
  /** billedSeconds × pricePerSecond rounded to 6 decimals; null when the price is unknown. */
  estimatedCostUsd: number | null;
  requests: Record<string, OpCounters> & { total: OpCounters };
}

export const BILLED_SECONDS_NOTE =
  'Counts executionTime only, per job (failed and resubmitted attempts included), each rounded up to a whole second. ' +
  'RunPod bills each worker from its start to its stop, rounded up once: that adds cold start (part of delayTime, not ' +
  'separable in the API response) and the idle timeout after its last job, which this leaves out, but rounds up once ' +
  'per worker, not per job, so for jobs of a second or two on warm workers this overstates (by about a quarter in ' +
  "the project's benchmark); for jobs of a minute the cold starts and idle timeouts are the larger part. " +
  'Queue wait is not billed.';

function count(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

function zeroCounters(): OpCounters {
  return { requests: 0, rateLimited: 0, retries: 0, errors: 0 };
}

/**
 * A terminal row whose final job lacks timings. A CANCELLED job may legitimately never have started (no
 * executionTime), so it counts only when both values are missing.
 */
function timingsAreMissing(r: RowRecord): boolean {
  if (!TERMINAL_STATUSES.has(r.status)) return false;
  const noDelay = !isNum(r.delayTime);
  const noExec = !isNum(r.executionTime);
  return r.status === 'CANCELLED' ? noDelay && noExec : noDelay || noExec;
}

/** The rows' latencies as computeStats collected them, in order. */
export interface RowLatencies {
  delay: Sorted;
  execution: Sorted;
  endToEnd: Sorted;
}

export function computeStats(input: StatsInput): Stats {
  return computeStatsWithLatencies(input).stats;
}

/** computeStats, also handing over the rows' latency values, so the report can draw them without a second copy. */
export function computeStatsWithLatencies(input: StatsInput): { stats: Stats; latencies: RowLatencies } {
  const byStatus: Record<string, number> = {};
  let total = 0;
  let completed = 0;
  let failed = 0;
  let attempts = 0;
  let resubmitted = 0;
  let expired = 0;
  let lost = 0;
  let timingsMissing = 0;
  const delay = new LatencyCollector();
  const execution = new LatencyCollector();
  const endToEnd = new LatencyCollector();

  for (const r of input.rows) {
    total++;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.status === 'COMPLETED') completed++;
    else if (isTerminal(r.status)) failed++;
    attempts += count(r.attempts);
    if (r.attempts > 1) resubmitted++;
    expired += count(r.expired);
    lost += count(r.lost);
    if (isNum(r.delayTime)) delay.push(r.delayTime);
    if (isNum(r.executionTime)) execution.push(r.executionTime);
    if (isNum(r.e2eMs)) endToEnd.push(r.e2eMs);
    if (timingsAreMissing(r)) timingsMissing++;
  }

  let billed = 0;
  const outputChecks = { emptyOutput: 0, outputError: 0 };
  for (const j of input.jobs) {
    if (isNum(j.executionTime)) billed += billedSecondsOf(j.executionTime);
    // The job statuses output-check.ts records (the report layer does not import the engine: the names are the data).
    if (j.status === 'EMPTY_OUTPUT') outputChecks.emptyOutput++;
    else if (j.status === 'OUTPUT_ERROR') outputChecks.outputError++;
  }

  const totalOps = zeroCounters();
  const perOp: Record<string, OpCounters> = {};
  for (const [op, c] of Object.entries(input.ops)) {
    if (op === 'total') continue;
    const copy: OpCounters = {
      requests: count(c.requests),
      rateLimited: count(c.rateLimited),
      retries: count(c.retries),
      errors: count(c.errors),
    };
    perOp[op] = copy;
    totalOps.requests += copy.requests;
    totalOps.rateLimited += copy.rateLimited;
    totalOps.retries += copy.retries;
    totalOps.errors += copy.errors;
  }
  const requests = Object.assign(perOp, { total: totalOps });

  const wallSeconds = Number.isFinite(input.wallSeconds) && input.wallSeconds > 0 ? input.wallSeconds : 0;
  const price = input.pricePerSecond;

  const latencies: RowLatencies = { delay: delay.sorted(), execution: execution.sorted(), endToEnd: endToEnd.sorted() };
  const stats: Stats = {
    rows: {
      total,
      byStatus,
      completed,
      notCompleted: total - completed,
      failed,
      unfinished: total - completed - failed,
      attempts,
      resubmitted,
      expired,
      lost,
    },
    latencyMs: {
      delay: summarizeSorted(latencies.delay),
      execution: summarizeSorted(latencies.execution),
      endToEnd: summarizeSorted(latencies.endToEnd),
    },
    timingsMissing,
    wallSeconds,
    throughputPerMinute: wallSeconds > 0 ? (completed * 60) / wallSeconds : 0,
    billedSeconds: billed,
    billedSecondsNote: BILLED_SECONDS_NOTE,
    outputChecks,
    estimatedCostUsd: isNum(price) ? round6(billed * price) : null,
    requests,
  };
  return { stats, latencies };
}
