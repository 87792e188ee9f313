/** Public types of the local RunPod Serverless emulator (see /work/shared/RUNPOD_API.md for the protocol). */
import type { HealthResponse, JobStatus } from '../core/wire.js';

/** Operations the emulator counts, rate-limits and routes. `unknown` = no route matched. */
export type EmulatorOp =
  | 'run'
  | 'runsync'
  | 'status'
  | 'status-sync'
  | 'stream'
  | 'cancel'
  | 'retry'
  | 'purge-queue'
  | 'health'
  | 'unknown';

export type RateLimitedOp = 'run' | 'runsync' | 'status' | 'cancel' | 'retry' | 'health' | 'purge-queue';

export interface RateLimitRule {
  limit: number;
  windowMs: number;
  /** Send a `Retry-After` header (seconds, ceil of the time until the window frees). RunPod sending it is unverified. */
  retryAfter?: boolean;
}

export interface FaultOptions {
  /** Fraction of HTTP answers (any op) replaced by HTTP 500 JSON error, before doing anything. */
  http500?: number;
  /** Fraction answered 502 with an HTML body. */
  http502?: number;
  /** Fraction of requests whose socket is destroyed before any answer (req.socket.destroy()). */
  reset?: number;
  /** Fraction of answers delayed by slowMs (to exceed a client's timeout). The request itself is served at once. */
  slow?: number;
  /** @default 10_000 (real ms, never scaled by timeScale: it targets the client's real timeout) */
  slowMs?: number;
  /** Fraction of jobs "lost": /run answers 200 with an id, but /status of that id answers 404 forever. */
  lostJobs?: number;
  /** Fraction of jobs that FAIL on their first attempt only (keyed by input content). */
  failFirstAttempt?: number;
  /** Fraction of jobs that end TIMED_OUT (first attempt only, same keying). */
  timedOut?: number;
  /**
   * Fraction of jobs that end COMPLETED with no output (first attempt only, same keying): RunPod does this when the
   * worker's result POST was refused (runpod-python#309, worker-comfyui#167).
   */
  emptyOutput?: number;
  /**
   * Fraction of jobs that end COMPLETED with worker-vllm's error inside the output (first attempt only, same keying):
   * `[{"error": {"message": "emulated fault: …", "type": "worker_error"}}]`.
   */
  errorOutput?: number;
  /** Rate limits per op, per fixed window; over the limit → 429. */
  rateLimits?: Partial<Record<RateLimitedOp, RateLimitRule>>;
}

/**
 * The worker's handler. An async generator (or any AsyncIterable it returns) is a generator handler, as in
 * runpod-python: each value it yields is a chunk served by /stream/{id}; the job's own output is then the list of
 * chunks only with `returnAggregateStream`, and absent otherwise.
 */
export type HandlerFn = (input: unknown, ctx: { jobId: string; attempt: number }) => unknown | Promise<unknown>;

export type ExecutionMsOption = number | { min: number; max: number } | ((input: unknown, rng: () => number) => number);

export interface EmulatorOptions {
  /** @default 0 (random free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Bearer key required on every request (cloud dialect). null = no auth. @default 'test-key' */
  apiKey?: string | null;
  /** Endpoint ids that exist; any other id answers 404. @default ['test-endpoint'] */
  endpoints?: string[];
  /** 'cloud' = api.runpod.ai/v2 shape; 'local' = runpod-python's `--rp_serve_api` dev server. @default 'cloud' */
  dialect?: 'cloud' | 'local';
  /** Number of workers pulling from the queue; with `minWorkers` below it, the most the endpoint scales to. @default 4 */
  workers?: number;
  /**
   * Workers always running (RunPod's "active workers"). Below `workers`, the endpoint autoscales like RunPod's: once a
   * second the scaler adds workers (each cold-starts first), and a worker idle for idleTimeoutMs stops, down to this.
   * @default workers (a fixed pool)
   */
  minWorkers?: number;
  /**
   * RunPod's scalers: 'queue-delay' adds a worker for each job that has waited longer than scalerValue ms; 'request-count'
   * keeps ceil((inQueue + inProgress) / scalerValue) workers. @default 'queue-delay'
   */
  scaler?: 'queue-delay' | 'request-count';
  /** @default 4000 (ms) for queue-delay, 4 for request-count — RunPod's defaults */
  scalerValue?: number;
  /**
   * Jobs one worker runs at once (runpod-python's concurrency_modifier: worker-vllm ~30, embedding workers hundreds,
   * image workers 1). /health counts a worker running any job as running. @default 1
   */
  workerConcurrency?: number;
  /** Execution time per job in (unscaled) ms. @default {min: 50, max: 150} */
  executionMs?: ExecutionMsOption;
  /** Cold start ms added to delayTime the first time a worker starts (and after idling longer than idleTimeoutMs). @default 0 */
  coldStartMs?: number;
  /** @default 5000 */
  idleTimeoutMs?: number;
  /** Divide every simulated duration (execution, cold start, idle timeout, retention, ttl) by this. Reported times stay unscaled. @default 1 */
  timeScale?: number;
  /** How long a finished /run result stays readable before /status answers 404. @default RUNPOD.runRetentionMs (30 min) */
  retentionMs?: number;
  /** The handler. Throws → FAILED; returns `{error: "msg"}` → FAILED with "msg". @default echo: `{echo: input}` */
  handler?: HandlerFn;
  /**
   * A generator handler's job output is the list of its chunks (runpod-python's `return_aggregate_stream`); without it,
   * a generator handler's job ends COMPLETED with no output and its data is only on /stream. @default false
   */
  returnAggregateStream?: boolean;
  /** With the default handler: a generator handler yielding this many chunks `{chunk: k, of: n, echo: input}`. @default 0 (a plain handler) */
  streamChunks?: number;
  /**
   * Answer every job with worker-comfyui's output shape: `images` base64 PNGs of `bytes` bytes each, deterministic by
   * seed and input (media-output.ts). Used when no `handler` is given.
   */
  media?: MediaOutputOptions;
  /** Seed for the deterministic RNG used by faults and timings. @default 1 */
  seed?: number;
  faults?: FaultOptions;
}

export interface MediaOutputOptions {
  /** Bytes of each PNG (at least 57). */
  bytes: number;
  /** PNGs per output. @default 1 */
  images?: number;
  /**
   * The same base64 texts under `{"text": [...]}` instead of worker-comfyui's items: an output of the same size on
   * the wire that holds no media (a plain-JSON baseline for benchmarks). @default false
   */
  plain?: boolean;
}

export interface EmulatorStats {
  /** Requests received per op (faulted and rate-limited ones included). */
  requests: Record<string, number>;
  /** 429s per op. */
  rateLimited: Record<string, number>;
  faults: { http500: number; http502: number; reset: number; slow: number };
  jobsCreated: number;
  /** Jobs created per input (key: JSON.stringify(input)). */
  submissionsByInput: Map<string, number>;
  maxConcurrentRunning: number;
  /** Total ms workers spent executing, in real (scaled) time. */
  busyMs: number;
  /**
   * Worker-ms an autoscaling endpoint would bill (simulated time): each worker from its start to its stop — cold start,
   * execution and the idle timeout included, as RunPod bills. Workers still running count up to now. 0 for a fixed pool.
   */
  workerMs: number;
  /** Workers started by the autoscaler (each one a cold start). */
  workersStarted: number;
}

export interface EmulatorJob {
  id: string;
  input: unknown;
  status: JobStatus;
  /** Epoch ms of the (last) submission: /run, /runsync or /retry. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Unscaled ms, as reported. */
  delayTime?: number;
  /** Unscaled ms, as reported. */
  executionTime?: number;
  output?: unknown;
  error?: string;
  /** 1 for the first run, +1 per /retry. */
  attempt: number;
  lost: boolean;
  workerId?: string;
  /** True once /status answers 404 for it (retention or ttl passed, purged); its input and output are dropped then. */
  expired: boolean;
}

export interface Emulator {
  /** The server root, e.g. 'http://127.0.0.1:34567'. */
  url: string;
  /** cloud: `${url}/v2` (a client uses `${baseUrl}/${endpoint}/run`, as runpod-sdk does); local: same as url. */
  baseUrl: string;
  port: number;
  stats: EmulatorStats;
  jobs: ReadonlyMap<string, EmulatorJob>;
  /** Replace the fault settings at run time. */
  setFaults(f: FaultOptions): void;
  /**
   * What /health would answer now, read out of band (not counted in `stats.requests`, no faults): for benchmarks that
   * sample the queue and the workers without adding /health calls of their own. Undefined for the local dialect.
   */
  health(): HealthResponse | undefined;
  /** Make every finished job's result expire now (retention tests). */
  expireAllResults(): void;
  /** Close the server, destroy open sockets, clear all timers, release long polls. */
  close(): Promise<void>;
}
