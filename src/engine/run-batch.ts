import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, basename, extname, join } from 'node:path';
import type { Dispatcher } from 'undici';
import { ConfigError, InputError, StateError, UsageError } from '../errors.js';
import type { InputFormat } from '../input/types.js';
import { regenerate, type AllFiles, type BatchSettings } from '../output/regenerate.js';
import { resolvePrice } from '../report/cost.js';
import type { Stats } from '../report/stats.js';
import { createClient } from '../runpod/client.js';
import { ingest, type IngestResult } from '../store/ingest.js';
import { acquireLock } from '../store/lock.js';
import { Store } from '../store/store.js';
import { Scheduler, type Outcome, type Progress } from './scheduler.js';
import { cancelInFlight } from './cancel.js';
import { DEFAULT_HEALTH_POLICY } from './health.js';

export const DEFAULT_BASE_URL = 'https://api.runpod.ai/v2';

/** Options of a batch run. Every field is documented once, here; the CLI maps flags onto them. */
export interface RunBatchOptions {
  /** Path of the JSONL or CSV input. */
  input: string;
  /** RunPod endpoint id. Absent with a baseUrl: the base URL is the endpoint (runpod-python's local test server). */
  endpoint?: string | null;
  /** API key, sent as a Bearer token; never written anywhere. @default process.env.RUNPOD_API_KEY */
  apiKey?: string | null;
  /** @default 'https://api.runpod.ai/v2' */
  baseUrl?: string;
  /** Output folder (state.sqlite, results.jsonl, errors.jsonl, stats.json). @default '<input without extension>.runpod' beside the input */
  out?: string;
  /**
   * Most jobs in flight. @default 100 — enough queued work to keep up to ~100 workers busy (a worker that finishes
   * finds the next job already queued), well under RunPod's 200 concurrent /run and 400 /status limits.
   * 1 against runpod-python's local test server (no endpoint), which serves one request at a time.
   */
  concurrency?: number;
  /** Times a FAILED or TIMED_OUT row is run again. @default 2 */
  retries?: number;
  /** Field holding the row id. @default 'id' */
  idField?: string;
  /** CSV: infer numbers and booleans. @default false */
  csvCast?: boolean;
  /** Input format, when the extension does not tell. */
  format?: InputFormat;
  /** USD per billed second, for estimatedCostUsd. Wins over `gpu`. @default null (cost not estimated) */
  pricePerSecond?: number | null;
  /** GPU class from the price table (src/report/prices.ts), e.g. '24gb', 'a100', 'h100': sets the price per second. */
  gpu?: string;
  /** Stop admitting rows before spent plus in flight would exceed this many USD (needs a price); exit 2. A rerun with a higher cap continues. */
  maxCost?: number;
  /** Run from the state alone, without reading the input again (the `retry` command; the input may have moved). */
  fromState?: boolean;
  /** Follow jobs with /status-sync long polls; false: planned /status polls only. @default true */
  longPoll?: boolean;
  /** When the run stops early (interrupt, fatal error, sick endpoint), cancel its jobs in flight on RunPod so they stop billing; their rows run again on the next run. @default false */
  cancelOnExit?: boolean;
  /** RunPod's retention of /run results (30 min): a job of an earlier run older than this that answers 404 counts as expired, not lost. @default 1_800_000 */
  retentionMs?: number;
  /** Stop when this many jobs in a row FAILED with the same error (a crash-looping worker); 0 = never. @default 10 */
  crashLoopJobs?: number;
  /** Stop when more than this share of the last 50 rows failed after their retries; 1 = never. @default 0.5 */
  maxFailureRate?: number;
  /** Only the first N rows of the input. */
  limit?: number;
  /** Per-request timeout (ms) of short calls; 0 = none. @default 30000; none against the local test server */
  timeoutMs?: number;
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
}

export interface BatchProgress extends Progress {
  total: number;
  /** Rows this run brought to COMPLETED. */
  completedThisRun: number;
  /** USD billed so far (earlier runs included); null without a price. */
  spentUsd: number | null;
  /** USD the whole batch will have cost at the billed seconds per row seen so far; null while unknown. */
  projectedUsd: number | null;
  /** Rows in a terminal state (this and earlier runs). */
  done: number;
  completed: number;
  failed: number;
  waiting: number;
  elapsedMs: number;
}

export interface BatchResult {
  /** 0 every row COMPLETED; 2 some rows not COMPLETED (or the run gave up); 1 fatal; 130 interrupted. */
  exitCode: 0 | 1 | 2 | 130;
  outcome: Outcome;
  outDir: string;
  files: AllFiles;
  stats: Stats;
  ingest: IngestResult;
  /** Jobs created by this run. */
  submitted: number;
  /** Why the run ended early, when it did. */
  message?: string;
}

export function defaultOutDir(input: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.runpod`);
}

/**
 * The engine: validate and load the input, follow jobs known from earlier runs, submit the rest, and regenerate the
 * outputs from the store. Throws (exit 1) for bad options, bad input or unusable state, before anything is submitted.
 */
export async function runBatch(opts: RunBatchOptions): Promise<BatchResult> {
  const log = opts.log ?? (() => {});
  const baseUrl = (opts.baseUrl ?? process.env.RUNPOD_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const endpoint = opts.endpoint ?? null;
  const apiKey = opts.apiKey ?? process.env.RUNPOD_API_KEY ?? null;
  // runpod-python's local test server serves one request at a time: more in flight only queues behind its handler.
  const concurrency = opts.concurrency ?? (endpoint === null ? 1 : 100);
  const retries = opts.retries ?? 2;
  const idField = opts.idField ?? 'id';
  checkOptions({
    baseUrl,
    endpoint,
    apiKey,
    concurrency,
    retries,
    limit: opts.limit,
    maxCost: opts.maxCost,
    crashLoopJobs: opts.crashLoopJobs,
    maxFailureRate: opts.maxFailureRate,
  });
  const price = resolvePrice({ gpu: opts.gpu, pricePerSecond: opts.pricePerSecond ?? undefined });
  if (opts.maxCost !== undefined && price.perSecond === null) throw new UsageError('--max-cost: needs a price: pass --gpu or --price-per-second');

  const outDir = opts.out ?? defaultOutDir(opts.input);
  if (!opts.fromState) await checkInputFile(opts.input);
  const store = Store.open(outDir);
  let release: (() => void) | undefined;
  try {
    release = acquireLock(outDir);
    // Job ids a killed run logged but had not yet written into their rows.
    store.applyLog();
    const target = { baseUrl, endpoint };
    const known = store.getMeta<typeof target>('target');
    if (known && (known.endpoint !== endpoint || known.baseUrl !== baseUrl) && store.submittedRows(store.getMeta<number>('gen') ?? 0).length > 0) {
      throw new StateError(
        `${outDir} holds jobs of endpoint ${known.endpoint ?? known.baseUrl}, not ${endpoint ?? baseUrl}; use another --out`,
      );
    }
    let loaded: IngestResult;
    if (opts.fromState) {
      const gen = store.getMeta<number>('gen');
      if (!gen) throw new StateError(`${outDir} holds no batch yet: run one with 'runpod-batch run <input>' first`);
      const rows = Object.values(store.counts(gen)).reduce((a, b) => a + b, 0);
      loaded = { gen, rows, added: 0, changed: 0, unchanged: rows, removed: 0, skipped: true };
    } else {
      loaded = await ingest(store, opts.input, { format: opts.format, idField, csvCast: opts.csvCast, limit: opts.limit });
      if (loaded.skipped) log(`resuming: ${opts.input} is unchanged since the last run`);
      else if (loaded.gen > 1) {
        log(`input changed since the last run: ${loaded.added} new, ${loaded.changed} changed, ${loaded.removed} removed, ${loaded.unchanged} unchanged rows`);
      }
    }
    const settings: BatchSettings = {
      idField,
      pricePerSecond: price.perSecond,
      priceSource: price.source,
      title: basename(opts.input),
      endpointLabel: endpoint ?? baseUrl,
    };
    store.setMeta('target', target);
    store.setMeta('settings', settings);
    store.setMeta('run', { input: opts.input, concurrency, retries, format: opts.format ?? null, csvCast: opts.csvCast === true, limit: opts.limit ?? null });

    // On the local test server any call may wait behind a running handler: no client timeout unless asked for.
    const timeoutMs = opts.timeoutMs ?? (endpoint === null ? 0 : 30_000);
    // A long poll per job in flight plus the /run requests: enough sockets that no request queues behind another.
    const connections = Math.max(128, 2 * concurrency + 16);
    const client = createClient({ baseUrl, endpointId: endpoint, apiKey, dispatcher: opts.dispatcher, timeoutMs, connections });
    const started = Date.now();
    // The views on disk are current only if the run before this one wrote them (a killed run wrote none).
    const viewsCurrent = store.getMeta<number | null>('viewsOf') === store.lastRunId();
    const runId = store.startRun(started);
    const billed = store.billed();
    const scheduler = new Scheduler(
      { client, store, gen: loaded.gen, signal: opts.signal },
      {
        concurrency,
        retries,
        retentionMs: opts.retentionMs,
        untimedStatus: !endpoint,
        longPoll: endpoint !== null && opts.longPoll !== false,
        health: {
          crashLoopJobs: opts.crashLoopJobs ?? DEFAULT_HEALTH_POLICY.crashLoopJobs,
          maxFailureRate: opts.maxFailureRate ?? DEFAULT_HEALTH_POLICY.maxFailureRate,
          window: DEFAULT_HEALTH_POLICY.window,
        },
        budget:
          opts.maxCost !== undefined && price.perSecond !== null
            ? { maxUsd: opts.maxCost, pricePerSecond: price.perSecond, spentSeconds: billed.seconds, perJobSeconds: billed.jobs > 0 ? billed.seconds / billed.jobs : null }
            : null,
      },
    );
    // Counts at the start, so progress needs no query over all rows each tick.
    const startCounts = store.counts(loaded.gen);
    const progress = (): BatchProgress => progressOf(startCounts, scheduler.progress(), Date.now() - started, billed.seconds, price.perSecond);
    const tick = () => {
      const t = Date.now();
      store.heartbeat(runId, t);
      const p = scheduler.progress();
      let rateLimited = 0;
      let retried = 0;
      for (const c of Object.values(scheduler.ops)) {
        rateLimited += c.rateLimited;
        retried += c.retries;
      }
      store.addSample({ runId, t, inFlight: p.inFlight, submitted: p.submitted, completed: p.completed, failed: p.failed, rateLimited, retries: retried });
      opts.onProgress?.(progress());
    };
    const timer = setInterval(tick, opts.progressIntervalMs ?? 1000);
    let outcome: Outcome;
    try {
      outcome = await scheduler.run();
    } finally {
      clearInterval(timer);
    }
    if (opts.cancelOnExit && outcome.kind !== 'done') {
      const inFlight = store.submittedRows(loaded.gen).length;
      if (inFlight > 0) {
        log(`cancelling ${inFlight} jobs in flight on RunPod (--cancel-on-exit)…`);
        const c = await cancelInFlight(client, store, loaded.gen);
        log(`cancelled ${c.cancelled}, already ended ${c.alreadyEnded}, gone ${c.gone}, failed ${c.failed}${c.errors.length ? `: ${c.errors.join('; ')}` : ''}`);
      }
    }
    await client.close().catch(() => {});
    store.addOps(scheduler.ops);
    const submitted = scheduler.progress().submitted;
    const counts = store.counts(loaded.gen);
    const allCompleted = Object.keys(counts).every((st) => st === 'COMPLETED');
    const exitCode =
      outcome.kind === 'interrupted' ? 130 : outcome.kind === 'fatal' ? 1 : outcome.kind !== 'done' || !allCompleted ? 2 : 0;
    store.endRun(runId, Date.now(), exitCode, submitted);
    tick();
    const p = scheduler.progress();
    const unchanged =
      viewsCurrent && loaded.skipped && outcome.kind === 'done' && p.submitted + p.completed + p.failed + p.requeued === 0;
    const kept = unchanged ? currentViews(outDir) : null;
    const { files, stats } = kept ?? regenerate(store, outDir, loaded.gen, settings);
    store.setMeta('viewsOf', runId);
    if (kept) log('nothing changed since the last run: the output files are current');
    const message =
      outcome.kind === 'fatal'
        ? outcome.error.message
        : outcome.kind === 'gave-up'
          ? `stopped: ${outcome.reason}; rerun the same command to resume`
          : outcome.kind === 'budget'
            ? `stopped: ${outcome.reason}`
            : outcome.kind === 'interrupted'
              ? 'interrupted: state saved; rerun the same command to resume (jobs in flight keep running on RunPod and are picked up)'
              : undefined;
    return { exitCode, outcome, outDir, files, stats, ingest: loaded, submitted, message };
  } finally {
    store.close();
    release?.();
  }
}

/**
 * The views a run that changed nothing would write again, as they are on disk — a rerun of a finished million-row
 * batch need not rewrite a million lines. null when any is missing or unreadable.
 */
function currentViews(outDir: string): { files: AllFiles; stats: Stats } | null {
  const files: AllFiles = {
    results: join(outDir, 'results.jsonl'),
    errors: join(outDir, 'errors.jsonl'),
    stats: join(outDir, 'stats.json'),
    reportMd: join(outDir, 'report.md'),
    reportHtml: join(outDir, 'report.html'),
  };
  try {
    if (!Object.values(files).every((f) => existsSync(f))) return null;
    return { files, stats: JSON.parse(readFileSync(files.stats, 'utf8')) as Stats };
  } catch {
    return null;
  }
}

async function checkInputFile(input: string): Promise<void> {
  const info = await stat(input).catch(() => null);
  if (!info) throw new InputError([{ file: input, line: 0, message: 'no such file' }], 1, `${input}: no such file`);
  if (info.isDirectory()) throw new InputError([{ file: input, line: 0, message: 'is a directory' }], 1, `${input}: is a directory, not a file`);
}

function progressOf(start: Record<string, number>, p: Progress, elapsedMs: number, spentBefore: number, price: number | null): BatchProgress {
  let total = 0;
  for (const n of Object.values(start)) total += n;
  const completed = (start.COMPLETED ?? 0) + p.completed;
  const failed = (start.FAILED ?? 0) + (start.CANCELLED ?? 0) + (start.TIMED_OUT ?? 0) + p.failed;
  const spentSeconds = spentBefore + p.billedSeconds;
  const done = completed + failed;
  const perRow = p.billedJobs > 0 ? p.billedSeconds / Math.max(1, p.completed + p.failed) : null;
  return {
    ...p,
    completedThisRun: p.completed,
    total,
    done,
    completed,
    failed,
    waiting: Math.max(0, total - done - p.inFlight),
    elapsedMs,
    spentUsd: price === null ? null : spentSeconds * price,
    projectedUsd: price === null || perRow === null ? null : (spentSeconds + perRow * (total - done)) * price,
  };
}

function checkOptions(o: {
  baseUrl: string;
  endpoint: string | null;
  apiKey: string | null;
  concurrency: number;
  retries: number;
  limit?: number;
  maxCost?: number;
  crashLoopJobs?: number;
  maxFailureRate?: number;
}): void {
  const problems: string[] = [];
  if (!/^https?:\/\//.test(o.baseUrl) || !URL.canParse(o.baseUrl)) problems.push(`--base-url: must be an http(s) URL, got ${JSON.stringify(o.baseUrl)}`);
  if (o.endpoint === null && o.baseUrl === DEFAULT_BASE_URL) problems.push('--endpoint: required (or RUNPOD_ENDPOINT_ID)');
  if (o.endpoint !== null && !o.apiKey) problems.push('RUNPOD_API_KEY: not set (the API key is read from the environment)');
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) problems.push(`--concurrency: must be a whole number ≥ 1`);
  if (!Number.isInteger(o.retries) || o.retries < 0) problems.push(`--retries: must be a whole number ≥ 0`);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) problems.push(`--limit: must be a whole number ≥ 1`);
  if (o.maxCost !== undefined && !(o.maxCost > 0)) problems.push(`--max-cost: must be a positive number of USD`);
  if (o.crashLoopJobs !== undefined && (!Number.isInteger(o.crashLoopJobs) || o.crashLoopJobs < 0)) problems.push(`--crash-loop: must be a whole number ≥ 0`);
  if (o.maxFailureRate !== undefined && !(o.maxFailureRate > 0 && o.maxFailureRate <= 1)) problems.push(`--max-failure-rate: must be in (0, 1]`);
  if (problems.length > 0) {
    const first = problems[0].startsWith('RUNPOD_API_KEY') || problems[0].startsWith('--endpoint') ? ConfigError : UsageError;
    throw new first(problems.join('\n'));
  }
}

