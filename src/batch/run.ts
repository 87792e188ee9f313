import { existsSync, rmSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { InputError, StateError, UsageError } from '../core/errors.js';
import type { RunStop } from '../core/records.js';
import { cancelInFlight } from '../engine/cancel.js';
import { Scheduler, type Outcome } from '../engine/scheduler.js';
import { resolvePrice } from '../report/cost.js';
import { type NextStep, nextStep, tallyOf } from '../report/next-step.js';
import type { Stats } from '../report/stats.js';
import { MEDIA_DIR } from '../output/media.js';
import { createClient } from '../runpod/client.js';
import { acquireLock } from '../store/lock.js';
import type { BatchSettings } from '../store/meta.js';
import { Store } from '../store/store.js';
import { ingest, type IngestResult } from './ingest.js';
import { planInput } from './input-plan.js';
import { mediaStore, sweepMedia } from './media.js';
import { resolveOptions, type RunBatchOptions } from './options.js';
import { checkSameInput, chooseOutDir } from './out-dir.js';
import { type BatchProgress, PaceWindow, progressOf } from './progress.js';
import { noteSizing } from './sizing-record.js';
import { currentViews, regenerate, type ViewFiles } from './views.js';

export interface BatchResult {
  /** 0 every row COMPLETED; 2 some rows not COMPLETED (or the run gave up); 1 fatal; 130 interrupted. */
  exitCode: 0 | 1 | 2 | 130;
  outcome: Outcome;
  outDir: string;
  files: ViewFiles;
  stats: Stats;
  ingest: IngestResult;
  /** Jobs created by this run. */
  submitted: number;
  /** Why the run ended early, when it did. */
  message?: string;
  /** What to do now (also the report's "Next"). */
  next: NextStep;
}

/**
 * The engine: validate and load the input, follow jobs known from earlier runs, submit the rest, and regenerate the
 * outputs from the store. Throws (exit 1) for bad options, bad input or unusable state, before anything is submitted.
 */
export async function runBatch(opts: RunBatchOptions): Promise<BatchResult> {
  const log = opts.log ?? (() => {});
  const o = resolveOptions(opts);
  const { baseUrl, endpoint, concurrency, auto, retries, idField } = o;
  const media = opts.media ?? 'files';
  const given = resolvePrice({ gpu: opts.gpu, pricePerSecond: opts.pricePerSecond ?? undefined });

  const outDir = chooseOutDir(opts.input, opts.out, log);
  checkOutDir(outDir);
  if (!opts.fromState) await checkInputFile(opts.input);
  // A folder this run creates is removed again if the input turns out invalid (nothing was run).
  const created = !existsSync(outDir);
  const store = Store.open(outDir);
  let release: (() => void) | undefined;
  let loadedInput = false;
  try {
    // A resume without --gpu/--price-per-second keeps the batch's price (for --max-cost and the cost figures).
    const saved = store.getMeta('settings');
    const price =
      given.perSecond === null && saved?.pricePerSecond != null ? { perSecond: saved.pricePerSecond, source: saved.priceSource } : given;
    if (opts.maxCost !== undefined && price.perSecond === null)
      throw new UsageError('--max-cost: needs a price: pass --gpu or --price-per-second');
    if (opts.maxQueue !== undefined && (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 0))
      throw new UsageError(`--max-queue: must be a whole number ≥ 0, got ${opts.maxQueue}`);
    release = acquireLock(outDir);
    // Job ids a killed run logged but had not yet written into their rows.
    store.applyLog();
    const target = { baseUrl, endpoint };
    const known = store.getMeta('target');
    if (known && (known.endpoint !== endpoint || known.baseUrl !== baseUrl) && store.submittedRows(store.getMeta('gen') ?? 0).length > 0) {
      throw new StateError(
        `${outDir} holds jobs of endpoint ${known.endpoint ?? known.baseUrl}, not ${endpoint ?? baseUrl}; use another --out`,
      );
    }
    if (!opts.fromState && !opts.replaceInput) checkSameInput(store.getMeta('input'), opts.input, outDir);
    const loaded = opts.fromState ? fromState(store, outDir) : await load(store, opts, idField, log, outDir);
    loadedInput = true;
    const settings: BatchSettings = {
      idField,
      pricePerSecond: price.perSecond,
      priceSource: price.source,
      title: basename(opts.input),
      endpointLabel: endpoint ?? baseUrl,
    };
    store.setMeta('target', target);
    store.setMeta('settings', settings);
    store.setMeta('run', {
      input: opts.input,
      concurrency: typeof opts.concurrency === 'number' ? opts.concurrency : 'auto',
      retries,
      acceptEmptyOutput: opts.acceptEmptyOutput === true,
      stream: opts.stream === true,
      format: opts.format ?? null,
      csvCast: opts.csvCast === true,
      limit: opts.limit ?? null,
      media,
    });
    // Files a killed run wrote but never committed, and those of rows whose input changed: gone before anything runs.
    if (existsSync(join(outDir, MEDIA_DIR))) {
      const swept = sweepMedia(store, outDir);
      if (swept > 0) log(`media: removed ${swept} files no committed output refers to (left by an interrupted run)`);
    }

    // Sockets: /run has a Pool of its own; status calls (at most 300 long polls, plus planned short polls) one of
    // RunPod's 400 concurrent status calls (client.ts). Pools open connections only as calls need them.
    const client = createClient({
      baseUrl,
      endpointId: endpoint,
      apiKey: o.apiKey,
      dispatcher: opts.dispatcher,
      timeoutMs: o.timeoutMs,
    });
    const started = Date.now();
    // The views on disk are current only if the run before this one wrote them (a killed run wrote none).
    const viewsCurrent = store.getMeta('viewsOf') === store.lastRunId();
    const runId = store.startRun(started);
    const billed = store.billed();
    const scheduler = new Scheduler(
      {
        client,
        store: media === 'files' ? mediaStore(store, outDir, log) : store,
        gen: loaded.gen,
        signal: opts.signal,
        clock: opts.clock,
      },
      {
        concurrency,
        autoSize: auto ? (opts.maxQueue !== undefined ? { maxQueue: opts.maxQueue } : {}) : null,
        healthEveryMs: opts.healthEveryMs,
        retries,
        acceptEmptyOutput: opts.acceptEmptyOutput === true,
        stream: opts.stream === true,
        retentionMs: opts.retentionMs,
        unreachableMs: opts.unreachableMs,
        admitBelowSeq: opts.admitFirst,
        untimedStatus: !endpoint,
        longPoll: endpoint !== null && opts.longPoll !== false,
        health: { crashLoopJobs: o.crashLoopJobs, maxFailureRate: o.maxFailureRate, window: DEFAULTS.failureWindow },
        budget:
          opts.maxCost !== undefined && price.perSecond !== null
            ? {
                maxUsd: opts.maxCost,
                pricePerSecond: price.perSecond,
                spentSeconds: billed.seconds,
                perJobSeconds: billed.jobs > 0 ? billed.seconds / billed.jobs : null,
              }
            : null,
      },
    );
    // Counts at the start, so progress needs no query over all rows each tick.
    const startCounts = store.counts(loaded.gen);
    const pace = new PaceWindow();
    const progress = (): BatchProgress => {
      const p = scheduler.progress();
      const elapsed = Date.now() - started;
      return progressOf(startCounts, p, elapsed, billed.seconds, price.perSecond, pace.add(elapsed, p.completed - p.completedResumed));
    };
    let sizing = store.getMeta('sizing');
    // Workers /health showed starting: earlier runs' sum plus this run's, kept for the report's cold-start estimate.
    const seenBefore = store.getMeta('healthSeen') ?? { initializingMs: 0, reads: 0 };
    let seenReads = 0;
    const noteHealthSeen = () => {
      const seen = scheduler.healthSeen;
      if (!seen || seen.reads === seenReads) return;
      seenReads = seen.reads;
      store.setMeta('healthSeen', {
        ...seenBefore,
        initializingMs: seenBefore.initializingMs + seen.initializingMs,
        reads: seenBefore.reads + seen.reads,
      });
    };
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
      store.addSample({
        runId,
        t,
        inFlight: p.inFlight,
        submitted: p.submitted,
        completed: p.completed,
        failed: p.failed,
        rateLimited,
        retries: retried,
      });
      if (p.sizing) {
        const rec = noteSizing(sizing, runId, { t, ...p.sizing });
        if (rec) {
          sizing = rec;
          store.setMeta('sizing', rec);
        }
      }
      noteHealthSeen();
      opts.onProgress?.(progress());
    };
    const timer = setInterval(tick, opts.progressIntervalMs ?? 1000);
    let outcome: Outcome;
    try {
      outcome = await scheduler.run();
    } finally {
      clearInterval(timer);
    }
    noteHealthSeen();
    // Jobs of a run no /health read watched (a fixed --concurrency): their workers' boots are not in the sum, so the
    // report's cold starts come from the jobs from now on.
    if (scheduler.healthSeen === null && scheduler.progress().submitted > 0) {
      const seen = store.getMeta('healthSeen') ?? { initializingMs: 0, reads: 0 };
      if (!seen.unwatched) store.setMeta('healthSeen', { ...seen, unwatched: true });
    }
    if (opts.cancelOnExit && outcome.kind !== 'done') {
      const inFlight = store.submittedRows(loaded.gen).length;
      if (inFlight > 0) {
        log(`cancelling ${inFlight} jobs in flight on RunPod (--cancel-on-exit)…`);
        const c = await cancelInFlight(client, store, loaded.gen);
        log(
          `cancelled ${c.cancelled}, already ended ${c.alreadyEnded}, gone ${c.gone}, failed ${c.failed}${c.errors.length ? `: ${c.errors.join('; ')}` : ''}`,
        );
      }
    }
    await client.close().catch(() => {});
    store.addOps(scheduler.ops);
    const submitted = scheduler.progress().submitted;
    const counts = store.counts(loaded.gen);
    const allCompleted = Object.keys(counts).every((st) => st === 'COMPLETED');
    const exitCode = outcome.kind === 'interrupted' ? 130 : outcome.kind === 'fatal' ? 1 : outcome.kind !== 'done' || !allCompleted ? 2 : 0;
    store.endRun(runId, Date.now(), exitCode, submitted, stopOf(outcome));
    // Files written for a job whose row had moved on (its output not committed) leave nothing behind either.
    if (existsSync(join(outDir, MEDIA_DIR))) sweepMedia(store, outDir);
    tick();
    const p = scheduler.progress();
    const unchanged = viewsCurrent && loaded.skipped && outcome.kind === 'done' && p.submitted + p.completed + p.failed + p.requeued === 0;
    const kept = unchanged ? currentViews(outDir) : null;
    const { files, stats } = kept ?? regenerate(store, outDir, loaded.gen, settings);
    store.setMeta('viewsOf', runId);
    if (kept) log('nothing changed since the last run: the output files are current');
    const next = nextStep(stopOf(outcome), tallyOf(stats.rows.byStatus), outDir);
    return { exitCode, outcome, outDir, files, stats, ingest: loaded, submitted, message: messageOf(outcome), next };
  } finally {
    store.close();
    release?.();
    if (created && !loadedInput) rmSync(outDir, { recursive: true, force: true });
  }
}

/** `--out` must be a folder (or not exist yet). */
function checkOutDir(outDir: string): void {
  const info = statSync(outDir, { throwIfNoEntry: false });
  if (info && !info.isDirectory())
    throw new UsageError(`--out ${outDir}: is a file, not a folder; name a folder (it is created if missing)`);
}

/** Validates and loads the input (or finds it unchanged), and says how it relates to the last run. */
async function load(store: Store, opts: RunBatchOptions, idField: string, log: (m: string) => void, outDir: string): Promise<IngestResult> {
  const plan = planInput(opts, store.getMeta('input'), outDir);
  for (const note of plan.notes) log(note);
  const loaded = await ingest(store, opts.input, {
    format: opts.format,
    idField,
    csvCast: opts.csvCast,
    limit: opts.limit,
    map: plan.map,
    shard: plan.shard,
  });
  if (loaded.skipped) log(`resuming: ${opts.input} is unchanged since the last run`);
  else if (loaded.mapChanged && loaded.added === 0 && loaded.removed === 0) {
    log(
      `the mapping (--map) changed since the last run: ${loaded.changed} rows get another request and run again, ${loaded.unchanged} keep their results`,
    );
  } else if (loaded.gen > 1) {
    log(
      `input changed since the last run: ${loaded.added} new, ${loaded.changed} changed, ${loaded.removed} removed, ${loaded.unchanged} unchanged rows`,
    );
  }
  return loaded;
}

/** The batch as the state holds it, for a run that does not read the input (retry). */
function fromState(store: Store, outDir: string): IngestResult {
  const gen = store.getMeta('gen');
  if (!gen) throw new StateError(`${outDir} holds no batch yet: run one with 'runpod-batch run <input>' first`);
  const rows = Object.values(store.counts(gen)).reduce((a, b) => a + b, 0);
  return { gen, rows, added: 0, changed: 0, unchanged: rows, removed: 0, skipped: true, mapChanged: false };
}

/** Why the run ended early, when it did (the next step says what to do about it). */
function messageOf(outcome: Outcome): string | undefined {
  switch (outcome.kind) {
    case 'fatal':
      return outcome.error.message;
    case 'gave-up':
    case 'budget':
      return `stopped: ${outcome.reason}`;
    case 'interrupted':
      return 'interrupted: state saved (jobs in flight keep running on RunPod and are picked up by the next run)';
    case 'done':
      return undefined;
  }
}

/** The outcome as the state keeps it. */
export function stopOf(outcome: Outcome): RunStop {
  switch (outcome.kind) {
    case 'fatal':
      return { kind: 'fatal', code: outcome.error.code, reason: outcome.error.message };
    case 'gave-up':
      return { kind: 'gave-up', cause: outcome.cause, reason: outcome.reason };
    case 'budget':
      return { kind: 'budget', reason: outcome.reason };
    case 'interrupted':
    case 'done':
      return { kind: outcome.kind };
  }
}

async function checkInputFile(input: string): Promise<void> {
  const info = await stat(input).catch(() => null);
  if (!info) throw new InputError([{ file: input, line: 0, message: 'no such file' }], 1, `${input}: no such file`);
  if (info.isDirectory())
    throw new InputError([{ file: input, line: 0, message: 'is a directory' }], 1, `${input}: is a directory, not a file`);
}
