import type { Dispatcher } from 'undici';
import { DEFAULTS } from '../core/defaults.js';
import { ConfigError, UsageError } from '../core/errors.js';
import type { Clock } from '../engine/clock.js';
import type { InputFormat } from '../input/types.js';
import type { MediaMode } from '../store/meta.js';
import type { BatchProgress } from './progress.js';

/** Options of a batch run. Every field is documented once, here; the CLI maps flags onto them. */
export interface RunBatchOptions {
  /** Path of the JSONL or CSV input. */
  input: string;
  /** RunPod endpoint id. Absent with a baseUrl: the base URL is the endpoint (runpod-python's local test server). */
  endpoint?: string | null;
  /** API key, sent as a Bearer token; never written anywhere. @default process.env.RUNPOD_API_KEY */
  apiKey?: string | null;
  /** @default process.env.RUNPOD_BASE_URL, else 'https://api.runpod.ai/v2' (DEFAULTS.baseUrl) */
  baseUrl?: string;
  /** Output folder (state.sqlite, results.jsonl, errors.jsonl, stats.json). @default '<input without extension>.runpod' beside the input */
  out?: string;
  /**
   * Jobs in flight. `'auto'` (the default with an endpoint): learned from the endpoint's /health — grown while workers
   * sit idle or the endpoint adds workers, held at the jobs running plus a short queue once it stops (engine/sizing.ts).
   * A number: a hard cap on that target (with `autoSize: false`, exactly that many). 1 against runpod-python's local
   * test server (no endpoint), which serves one request at a time.
   */
  concurrency?: number | 'auto';
  /** Learn the in-flight target from /health (under `concurrency` when it is a number). @default true with an endpoint */
  autoSize?: boolean;
  /**
   * Most jobs left waiting in the endpoint's queue while auto-sizing (on top of those running): what a kill or a stop
   * leaves behind to run and bill. @default none but auto-sizing's own hold (max(10, workers); 4 per worker while the
   * endpoint grows)
   */
  maxQueue?: number;
  /** How often /health is read while auto-sizing, ms. @default 3000 */
  healthEveryMs?: number;
  /**
   * Times a row is run again after a failed attempt: FAILED, TIMED_OUT, or COMPLETED with an empty output or an error
   * inside it (engine/output-check.ts). @default 2 (DEFAULTS.retries)
   */
  retries?: number;
  /**
   * A COMPLETED job with an empty output (none, null, "", [], {}) is a success. Off, it is a failed attempt, retried
   * within `retries`, and the row ends FAILED with errorCode RPB_EMPTY_OUTPUT: for handlers that legitimately return
   * nothing. @default false
   */
  acceptEmptyOutput?: boolean;
  /**
   * Generator handlers without return_aggregate_stream: when a job COMPLETED with an empty output, read its chunks
   * from /stream/{id} (until the job is terminal and no chunk is left) and store them, in order, as the output — a
   * list of the chunks' outputs, the shape return_aggregate_stream gives. @default false
   */
  stream?: boolean;
  /** Field holding the row id. @default 'id' (DEFAULTS.idField) */
  idField?: string;
  /** CSV: infer numbers and booleans. @default false */
  csvCast?: boolean;
  /** Input format, when the extension does not tell (an OpenAI Batch file is also recognised by its first line). */
  format?: InputFormat;
  /**
   * A JSONata expression (or `@path` of a file holding one) that turns each row into its request; its value follows
   * the JSONL rule (an object with `input` is a whole body, any other object is the input). A rerun without it keeps
   * the batch's mapping; `false` drops it. @default the batch's mapping, else none
   */
  map?: string | false;
  /** Run only the rows whose id hashes to shard k (0-based) of n: `{k, n}` or `'k/n'`. @default the folder's shard, else all rows */
  shard?: { k: number; n: number } | string;
  /** USD per billed second, for estimatedCostUsd. Wins over `gpu`. @default null (cost not estimated) */
  pricePerSecond?: number | null;
  /** GPU class from the price table (src/report/prices.ts), e.g. '24gb', 'a100', 'h100': sets the price per second. */
  gpu?: string;
  /** Stop admitting rows before spent plus in flight would exceed this many USD (needs a price); exit 2. A rerun with a higher cap continues. */
  maxCost?: number;
  /** Run from the state alone, without reading the input again (the `retry` command; the input may have moved). */
  fromState?: boolean;
  /**
   * The batch in `out` was run from another input file: take this file as its input from now on (rows are matched by
   * id and content, as for an edited file: unchanged rows keep their results). Without it such a run is refused, so
   * that two inputs never share one folder by mistake. @default false
   */
  replaceInput?: boolean;
  /** Follow jobs with /status-sync long polls; false: planned /status polls only. @default true */
  longPoll?: boolean;
  /** When the run stops early (interrupt, fatal error, sick endpoint), cancel its jobs in flight on RunPod so they stop billing; their rows run again on the next run. @default false */
  cancelOnExit?: boolean;
  /** RunPod's retention of /run results (30 min): a job of an earlier run older than this that answers 404 counts as expired, not lost. @default 1_800_000 (RUNPOD.runRetentionMs) */
  retentionMs?: number;
  /** Stop when this many jobs in a row FAILED with the same error (a crash-looping worker); 0 = never. @default 10 (DEFAULTS.crashLoopJobs) */
  crashLoopJobs?: number;
  /** Stop when more than this share of the last 50 rows failed after their retries; 1 = never. @default 0.5 (DEFAULTS.maxFailureRate) */
  maxFailureRate?: number;
  /** Only the first N rows of the input: the batch is those rows. */
  limit?: number;
  /** The batch is the whole input, but only its first N rows are run now; the rest stay PENDING for a later run (--dry-run --sample). */
  admitFirst?: number;
  /** Per-request timeout (ms) of short calls; 0 = none. @default 30000 (DEFAULTS.timeoutMs); none against the local test server */
  timeoutMs?: number;
  /**
   * Before any request has been answered, how long a server that cannot be reached at all (connection refused,
   * unknown host) is retried before the run stops with exit 1. @default 30000 (DEFAULTS.unreachableMs)
   */
  unreachableMs?: number;
  /**
   * Base64 media in outputs (data URIs, worker-comfyui's `{type: "base64", data}` items, long base64 under keys such
   * as `image`, `audio`, `*_base64` whose bytes are PNG, JPEG, WebP, GIF, WAV, MP3, FLAC, OGG, MP4 or WebM): `files`
   * decodes each into `<out>/media/` and keeps a reference in the output (output/media.ts); `off` keeps outputs as
   * they came. @default 'files'
   */
  media?: MediaMode;
  /** Aborting it stops admission, commits, and returns with exit code 130. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` while jobs run. */
  onProgress?: (p: BatchProgress) => void;
  /** @default 1000 */
  progressIntervalMs?: number;
  /** Human messages (resume notes, warnings); the CLI prints them to stderr. */
  log?: (message: string) => void;
  /** undici dispatcher (tests, proxies). */
  dispatcher?: Dispatcher;
  /**
   * Time as the engine sees it (now and timers). The benchmarks run it at the emulator's timeScale against a
   * time-scaled emulator, so that the poll plan waits in the simulated ms it learns. @default the system clock
   */
  clock?: Clock;
}

/** The options that have defaults, filled in (resolveOptions). */
export interface Resolved {
  baseUrl: string;
  endpoint: string | null;
  apiKey: string | null;
  /** The cap of jobs in flight (the sizer's bound when `auto`). */
  concurrency: number;
  /** The in-flight target is learned from /health. */
  auto: boolean;
  retries: number;
  idField: string;
  timeoutMs: number;
  crashLoopJobs: number;
  maxFailureRate: number;
}

/** Fills in the defaults (the one place they are applied) and checks every option, reporting all problems at once. */
export function resolveOptions(opts: RunBatchOptions): Resolved {
  const endpoint = opts.endpoint ?? null;
  // runpod-python's local test server (no endpoint) serves one request at a time, and any call may wait behind a
  // running handler: one job in flight and no client timeout unless asked for.
  const local = endpoint === null;
  const r: Resolved = {
    baseUrl: (opts.baseUrl ?? process.env.RUNPOD_BASE_URL ?? DEFAULTS.baseUrl).replace(/\/+$/, ''),
    endpoint,
    apiKey: opts.apiKey ?? process.env.RUNPOD_API_KEY ?? null,
    concurrency: local
      ? typeof opts.concurrency === 'number'
        ? opts.concurrency
        : DEFAULTS.localConcurrency
      : typeof opts.concurrency === 'number'
        ? opts.concurrency
        : DEFAULTS.maxConcurrency,
    auto: !local && opts.autoSize !== false,
    retries: opts.retries ?? DEFAULTS.retries,
    idField: opts.idField ?? DEFAULTS.idField,
    timeoutMs: opts.timeoutMs ?? (local ? 0 : DEFAULTS.timeoutMs),
    crashLoopJobs: opts.crashLoopJobs ?? DEFAULTS.crashLoopJobs,
    maxFailureRate: opts.maxFailureRate ?? DEFAULTS.maxFailureRate,
  };
  checkOptions(r, opts);
  return r;
}

function checkOptions(r: Resolved, o: RunBatchOptions): void {
  const problems: string[] = [];
  if (!/^https?:\/\//.test(r.baseUrl) || !URL.canParse(r.baseUrl))
    problems.push(`--base-url: must be an http(s) URL, got ${JSON.stringify(r.baseUrl)}`);
  if (r.endpoint === null && r.baseUrl === DEFAULTS.baseUrl) problems.push('--endpoint: required (or RUNPOD_ENDPOINT_ID)');
  if (r.endpoint !== null && !r.apiKey) problems.push('RUNPOD_API_KEY: not set (the API key is read from the environment)');
  if (o.concurrency !== undefined && o.concurrency !== 'auto' && (!Number.isInteger(o.concurrency) || o.concurrency < 1)) {
    problems.push(`--concurrency: must be auto or a whole number ≥ 1`);
  }
  if (!Number.isInteger(r.retries) || r.retries < 0) problems.push(`--retries: must be a whole number ≥ 0`);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) problems.push(`--limit: must be a whole number ≥ 1`);
  if (o.maxCost !== undefined && !(o.maxCost > 0)) problems.push(`--max-cost: must be a positive number of USD`);
  if (!Number.isInteger(r.crashLoopJobs) || r.crashLoopJobs < 0) problems.push(`--crash-loop: must be a whole number ≥ 0`);
  if (o.media !== undefined && o.media !== 'files' && o.media !== 'off') problems.push(`--media: must be files or off`);
  if (!(r.maxFailureRate > 0 && r.maxFailureRate <= 1)) problems.push(`--max-failure-rate: must be in (0, 1]`);
  const first = problems[0];
  if (first !== undefined) {
    const Kind = first.startsWith('RUNPOD_API_KEY') || first.startsWith('--endpoint') ? ConfigError : UsageError;
    throw new Kind(problems.join('\n'));
  }
}
