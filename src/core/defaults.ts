/**
 * Every default of a run, written once. The CLI shows them in --help, the application layer fills them in, and the
 * library's option types document them with these values.
 */
import { RUNPOD } from './wire.js';

export const DEFAULTS = {
  baseUrl: RUNPOD.baseUrl,
  /**
   * Jobs in flight on an endpoint that serves no /health (auto-sizing falls back to it): enough queued work to keep up
   * to ~100 workers busy, well under RunPod's 200 concurrent /run and 400 /status limits.
   */
  concurrency: 100,
  /** The most jobs in flight auto-sizing grows to (`--concurrency auto`, the default); a number given caps it. */
  maxConcurrency: 5000,
  /** Jobs in flight on runpod-python's local test server, which serves one request at a time. */
  localConcurrency: 1,
  /** Times a FAILED or TIMED_OUT row is run again before it ends with that status. */
  retries: 2,
  /** Field holding a row's id. */
  idField: 'id',
  /** Client timeout of one short request, ms (long polls add their wait). None against the local test server. */
  timeoutMs: 30_000,
  /** Before any answer, how long a server that cannot be reached is retried before the run stops, ms. */
  unreachableMs: 30_000,
  /** Stop when this many jobs in a row FAILED with the same error (a crash-looping worker); 0 = never. */
  crashLoopJobs: 10,
  /** Stop when more than this share of the last `failureWindow` rows failed after their retries; 1 = never. */
  maxFailureRate: 0.5,
  /** Rows the failure rate is measured over. */
  failureWindow: 50,
} as const;
