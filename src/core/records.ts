/**
 * The batch's records as they cross layers: what the store holds and hands out, what the engine works on, what the
 * views and reports are made from. Plain shapes; the store is where they are read and written.
 */

/**
 * Row states. PENDING: no job on RunPod (new, or to run again). SUBMITTED: a job id is known and not yet terminal.
 * The rest are RunPod's terminal states, final for the row.
 */
export type RowState = 'PENDING' | 'SUBMITTED' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

/** A row the scheduler may submit or follow. */
export interface WorkRow {
  key: string;
  seq: number;
  bodyJson: string;
  attempts: number;
  failures: number;
  jobId: string | null;
  submittedAt: number | null;
}

/** A row as the writers and reports see it. */
export interface StoredRow {
  key: string;
  idJson: string;
  seq: number;
  line: number;
  body: string;
  /** 1: body is exactly {"input": …}. */
  inputOnly: number;
  state: RowState;
  jobId: string | null;
  jobStatus: string | null;
  attempts: number;
  failures: number;
  lost: number;
  expired: number;
  submittedAt: number | null;
  finishedAt: number | null;
  delayTime: number | null;
  executionTime: number | null;
  e2eMs: number | null;
  output: string | null;
  error: string | null;
  errorCode: string | null;
}

export type SummaryRow = Pick<
  StoredRow,
  'idJson' | 'line' | 'state' | 'jobStatus' | 'attempts' | 'delayTime' | 'executionTime' | 'e2eMs' | 'error'
>;

/** Every job RunPod created for the batch. */
export interface StoredJob {
  jobId: string;
  rowKey: string;
  attempt: number;
  submittedAt: number;
  finishedAt: number | null;
  status: string;
  delayTime: number | null;
  executionTime: number | null;
  error: string | null;
  /** RunPod's workerId; null when not reported (or a state of schema 2). */
  workerId: string | null;
}

/** A progress sample, taken about every second of a run: what the report's time charts are drawn from. */
export interface Sample {
  runId: number;
  t: number;
  inFlight: number;
  /** Cumulative within the run. */
  submitted: number;
  completed: number;
  failed: number;
  rateLimited: number;
  retries: number;
}

/** A job seen in a terminal state, as the scheduler records it. */
export interface Terminal {
  key: string;
  jobId: string;
  status: string;
  finishedAt: number;
  /** Submit → terminal status seen, by this client; null for a job an earlier run submitted (the gap is not latency). */
  e2eMs: number | null;
  delayTime: number | null;
  executionTime: number | null;
  /** RunPod's workerId of the job, when /status gave one. */
  workerId?: string | null;
  /** JSON text of the output, when COMPLETED with one. */
  output: string | null;
  error: string | null;
  /** The row's error code (core/errors.ts RowErrorCode) when the output checks failed the job; null otherwise. */
  errorCode?: string | null;
  /** The job's own status when it differs from the row's: EMPTY_OUTPUT, OUTPUT_ERROR (engine/output-check.ts). @default status */
  jobStatus?: string;
  /** The media files the output refers to (written before this is recorded); the row's earlier ones are forgotten. */
  media?: MediaFile[];
}

/** A media file of a row's output, as the store indexes it (output/media.ts: the reference in the output). */
export interface MediaFile {
  /** Relative to the batch's --out folder: `media/<name>`. */
  path: string;
  bytes: number;
  /** MIME type, from the file's magic bytes. */
  type: string;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** Why a row's job will give no result and the row goes back to PENDING; says which counter grows. */
export type RequeueReason = 'lost' | 'expired' | 'failed' | 'cancelled';

export interface RequeueDetail {
  status: string;
  error?: string | null;
  code?: string | null;
  delayTime?: number | null;
  executionTime?: number | null;
  workerId?: string | null;
}

/** Requests of one operation (run, status, status-sync, cancel, …) and how they went. */
export interface OpCounters {
  requests: number;
  rateLimited: number;
  retries: number;
  errors: number;
}

/** Size and SHA-256 of an input file: a rerun on an unchanged file skips parsing it again. */
export interface Fingerprint {
  size: number;
  sha256: string;
}

/** The status a row shows in results: its terminal state, or where it stands (PENDING, IN_QUEUE, IN_PROGRESS). */
export function rowStatus(r: Pick<StoredRow, 'state' | 'jobStatus'>): string {
  return r.state === 'SUBMITTED' ? (r.jobStatus ?? 'IN_QUEUE') : r.state;
}

/**
 * How a run ended, as the state keeps it (runs.outcome): the next step depends on it. `killed`: the run left no end
 * (kill -9, a closed laptop); `done` may still leave rows unfinished (a dry-run sample).
 */
export interface RunStop {
  /** `running`: a run holds the batch now (never stored; a snapshot's view of it). */
  kind: 'done' | 'interrupted' | 'fatal' | 'gave-up' | 'budget' | 'killed' | 'running';
  /** The error code of a fatal stop (core/errors.ts). */
  code?: string;
  /** Of a gave-up stop: `worker` when its jobs kept failing (crash loop, failure rate), `transient` when requests did. */
  cause?: 'worker' | 'transient';
  /** The sentence the run stopped with. */
  reason?: string;
}

/** One in-flight target chosen by auto-sizing, and why ("holding: 60 workers, queue 8"). */
export interface SizingPoint {
  /** Epoch ms. */
  t: number;
  target: number;
  /** starting, growing, holding, probing, shrinking — or holding with a fixed size when /health is not served. */
  mode: string;
  reason: string;
}

/**
 * Worker time the endpoint's /health showed starting (`workers.initializing`), summed over the auto-sizing reads of a
 * batch's runs (meta `healthSeen`): each read's count held until the next read. The report's cold-start estimate: it
 * counts the workers' boots themselves, where a first job's delayTime also holds the wait before a worker was added.
 */
export interface HealthSeen {
  /** Σ initializing workers × ms to the next read. */
  initializingMs: number;
  /** /health reads summed. */
  reads: number;
  /** Some run of the batch submitted jobs no /health read watched (a fixed --concurrency): the sum misses their boots. */
  unwatched?: boolean;
}

/**
 * What auto-sizing did in a batch's runs, kept in the state (meta `sizing`) so `status` and the report can say it:
 * the latest target and the points where its mode changed (the oldest dropped past a bound).
 */
export interface SizingRecord {
  runId: number;
  current: SizingPoint;
  /** Mode changes in time order, at most SIZING_CHANGES_KEPT (the first of each run is kept). */
  changes: Array<SizingPoint & { runId: number }>;
}
