/** Wire types of the RunPod Serverless API (see shared RUNPOD_API.md). */

export type JobStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Body of POST /run and /runsync. */
export interface RunRequestBody {
  input: unknown;
  webhook?: string;
  policy?: Record<string, unknown>;
  s3Config?: Record<string, unknown>;
}

/** Answer of /run: `{"id": "…", "status": "IN_QUEUE"}`. */
export interface RunResponse {
  id: string;
  status: JobStatus | string;
}

/** Answer of /status/{id}, /status-sync/{id} and a finished /runsync. */
export interface StatusResponse {
  id: string;
  status: JobStatus | string;
  /** ms waiting for a worker, cold start included. Absent on runpod-python's local test server. */
  delayTime?: number;
  /** ms the worker spent on the job. Absent on runpod-python's local test server. */
  executionTime?: number;
  workerId?: string;
  output?: unknown;
  error?: unknown;
}

/** /stream/{id}: the chunks a generator handler yielded since the last call (each ≤ 1 MB), and the job's status. */
export interface StreamResponse {
  status: JobStatus | string;
  stream?: Array<{ output?: unknown }>;
}

export interface HealthResponse {
  jobs: { completed: number; failed: number; inProgress: number; inQueue: number; retried: number };
  workers: { idle: number; running: number; [k: string]: number };
}

/** Facts of the RunPod API the client and the emulator both rely on (RUNPOD_API.md). */
export const RUNPOD = {
  /** Concurrent /run requests RunPod allows per endpoint ("Limits"). */
  maxConcurrentRuns: 200,
  /** Concurrent /status, /status-sync and /stream requests RunPod allows per endpoint, long polls included. */
  maxConcurrentStatus: 400,
  /** Where the API lives. */
  baseUrl: 'https://api.runpod.ai/v2',
  /** A /run result stays readable this long after the job ends ("Retention"); then /status answers 404. */
  runRetentionMs: 30 * 60_000,
  /** A /runsync result stays readable this long. */
  runsyncRetentionMs: 60_000,
  /** policy.ttl when the request sets none, counted from submission. */
  defaultTtlMs: 24 * 60 * 60_000,
  /** Largest /run body ("Payload limits"). */
  maxRunBodyBytes: 10_000_000,
  /** ?wait of /status-sync (1000–90000 ms). */
  maxLongPollMs: 90_000,
  /** ?wait of /runsync when the request sets none. */
  defaultRunsyncWaitMs: 90_000,
  /** Longest ?wait of /runsync (1000–300000 ms). */
  maxRunsyncWaitMs: 300_000,
} as const;
