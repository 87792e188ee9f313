/**
 * The report model's shapes: what buildReportModel (model.ts) reads (the store's jobs, rows and progress samples) and
 * the plain-JSON model it builds, which report.md and report.html render.
 */
import type { HealthSeen, RunStop, Sample, SizingRecord } from '../../core/records.js';
import type { RowLatencies, Stats } from '../stats.js';
import type { FailureGroup } from './errors.js';
import type { Histogram } from './histogram.js';
import type { Pause } from './timeline.js';

/** Every job ever created, in any order (the store's jobs table). */
export interface ReportJob {
  jobId?: string;
  rowKey?: string;
  attempt?: number;
  /** Epoch ms. */
  submittedAt: number;
  finishedAt: number | null;
  /** COMPLETED FAILED TIMED_OUT CANCELLED LOST EXPIRED EMPTY_OUTPUT OUTPUT_ERROR IN_QUEUE IN_PROGRESS */
  status: string;
  delayTime: number | null;
  executionTime: number | null;
  error: string | null;
  /** RunPod's workerId, when known: a worker's first job is where its cold start shows. */
  workerId?: string | null;
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

/** Progress samples, about one per second of each run (cumulative counters within a run): the store's own shape. */
export type ReportSample = Sample;

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
  /** How the last run stopped (or `running`), which decides the next step. @default null: none known */
  stop?: RunStop | null;
  /** What auto-sizing chose (the state's meta `sizing`). @default null: no run was auto-sized */
  sizing?: SizingRecord | null;
  /** Workers /health showed starting over the batch's runs (meta `healthSeen`). @default null: no /health read */
  healthSeen?: HealthSeen | null;
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
    /** Attempts the output checks caught (stats.outputChecks). */
    outputChecks: { emptyOutput: number; outputError: number };
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
  /**
   * The in-flight target auto-sizing chose: the latest one and its mode changes (newest last, at most
   * MAX_SIZING_CHANGES shown); null when no run was auto-sized.
   */
  sizing: { current: SizingRecord['current']; changes: SizingRecord['changes']; changesLeftOut: number } | null;
  /** Cumulative billed seconds (and USD) over running time, from the jobs (≤ MAX_POINTS). */
  cost: { bucketMs: number; points: CostPoint[]; totalBilledSeconds: number; totalUsd: number | null; pricePerSecond: number | null };
  failures: {
    groups: FailureGroup[];
    /** Distinct groups (the list shows the first MAX_FAILURE_GROUPS). */
    distinct: number;
    failedRows: number;
    /** Jobs by how they ended badly: every attempt, retried ones included. */
    jobs: {
      failed: number;
      timedOut: number;
      cancelled: number;
      lost: number;
      expired: number;
      /** Attempts the output checks caught: COMPLETED with an empty output, COMPLETED with an error inside it. */
      emptyOutput: number;
      outputError: number;
    };
  };
  coldStarts: {
    /**
     * `first-job`: jobs carry RunPod's workerId; each worker's first job is where its cold start shows: each cold start
     * is estimated as the shortest such wait, the whole waits are the upper bound. `threshold`: no workerIds (the local test server, an older
     * state); a job waiting longer than thresholdMs counts as a cold start.
     */
    method: 'first-job' | 'threshold';
    /** Workers seen (first-job), else null. */
    workers: number | null;
    /** The shortest wait of a cold worker's first job: the estimate of one cold start (first-job), else null. */
    shortestColdMs: number | null;
    thresholdMs: number;
    thresholdGiven: boolean;
    /** Jobs that have a delayTime. */
    jobsWithDelay: number;
    count: number;
    /** count / jobsWithDelay; 0 without jobs. */
    share: number;
    medianDelayMs: number | null;
    /**
     * The estimated billed cold-start time, seconds. With `estimateFrom: 'health'`: the worker time /health showed
     * starting (initializing), summed over the auto-sizing reads; else from the jobs as `method` says (first-job: cold
     * workers × the shortest first-job wait; threshold: Σ (delayTime − median delayTime) over cold-start jobs).
     */
    estimatedBilledSeconds: number;
    /** `health` when the runs' /health reads saw workers starting (see coldStartSeconds), else `jobs`. */
    estimateFrom: 'health' | 'jobs';
    /** The /health reads the health figure sums (0: none). */
    healthReads: number;
    /** Σ delayTime over cold-start jobs, seconds: an upper bound of their cold starts (it holds queue wait too, not billed). */
    upperBoundSeconds: number;
    estimatedCostUsd: number | null;
  };
  requests: OpRow[];
  slowest: SlowRow[];
}
