import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, StateError } from '../errors.js';
import { regenerate, type AllFiles, type BatchSettings } from '../output/regenerate.js';
import type { Stats } from '../report/stats.js';
import { createClient } from '../runpod/client.js';
import { acquireLock } from '../store/lock.js';
import { Store, type Sample } from '../store/store.js';
import { cancelInFlight, type CancelSummary } from './cancel.js';
import { exportRows } from '../output/export.js';
import { runBatch, type BatchResult, type RunBatchOptions } from './run-batch.js';

/** What `runpod-batch run` saved about how it was run: later commands act on the batch the same way. */
export interface SavedRun {
  input: string;
  concurrency: number;
  retries: number;
  format: 'jsonl' | 'csv' | null;
  csvCast: boolean;
  limit: number | null;
}
export interface SavedTarget {
  baseUrl: string;
  endpoint: string | null;
}

export interface BatchStatus {
  outDir: string;
  input: string | null;
  endpoint: string | null;
  baseUrl: string | null;
  total: number;
  byState: Record<string, number>;
  /** Rows holding a job on RunPod right now (as the state knows it). */
  inFlight: number;
  billedSeconds: number;
  estimatedCostUsd: number | null;
  runs: number;
  wallSeconds: number;
  /** The pid of a runpod-batch process running this batch now, if any. */
  runningPid: number | null;
  /** The newest progress sample, when a run is going on or was. */
  last: Sample | null;
}

interface Opened {
  store: Store;
  gen: number;
  settings: BatchSettings;
  target: SavedTarget;
  run: SavedRun;
}

function openBatch(outDir: string): Opened {
  const store = Store.open(outDir, { mustExist: true });
  const gen = store.getMeta<number>('gen');
  const settings = store.getMeta<BatchSettings>('settings');
  const target = store.getMeta<SavedTarget>('target');
  const run = store.getMeta<SavedRun>('run');
  if (!gen || !settings || !target || !run) {
    store.close();
    throw new StateError(`${outDir} holds no complete batch yet: run one with 'runpod-batch run <input>' first`);
  }
  return { store, gen, settings, target, run };
}

/** A batch's progress from its state — also while another process runs it (SQLite WAL lets a reader in). */
export function batchStatus(outDir: string): BatchStatus {
  const { store, gen, settings, target, run } = openBatch(outDir);
  try {
    const byState = store.counts(gen);
    const total = Object.values(byState).reduce((a, b) => a + b, 0);
    const billed = store.billed();
    let last: Sample | null = null;
    for (const s of store.samples()) last = s;
    return {
      outDir,
      input: run.input,
      endpoint: target.endpoint,
      baseUrl: target.baseUrl,
      total,
      byState,
      inFlight: byState.SUBMITTED ?? 0,
      billedSeconds: billed.seconds,
      estimatedCostUsd: settings.pricePerSecond === null ? null : Math.round(billed.seconds * settings.pricePerSecond * 1e6) / 1e6,
      runs: (store.db.prepare('SELECT count(*) FROM runs').pluck().get() as number) ?? 0,
      wallSeconds: store.wallSeconds(),
      runningPid: lockHolder(outDir),
      last,
    };
  } finally {
    store.close();
  }
}

function lockHolder(outDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(outDir, 'state.lock'), 'utf8'), 10);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM' ? 0 : null;
  }
}

/** Regenerates results, errors, stats and the reports from the state (`runpod-batch report`). */
export function regenerateBatch(outDir: string): { files: AllFiles; stats: Stats } {
  const { store, gen, settings } = openBatch(outDir);
  const release = acquireLockOrClose(store, outDir);
  try {
    const views = regenerate(store, outDir, gen, settings);
    store.setMeta('viewsOf', store.lastRunId());
    return views;
  } finally {
    store.close();
    release();
  }
}

/** Takes the batch's lock (or closes the store and throws), then brings rows up to date with the job-id log. */
function acquireLockOrClose(store: Store, outDir: string): () => void {
  let release: (() => void) | undefined;
  try {
    release = acquireLock(outDir);
    store.applyLog();
    return release;
  } catch (err) {
    store.close();
    release?.();
    throw err;
  }
}

export interface RerunOptions extends Partial<Omit<RunBatchOptions, 'input' | 'out' | 'fromState'>> {}

/**
 * `runpod-batch retry`: rows that did not complete (FAILED, TIMED_OUT, CANCELLED) go back to PENDING with a fresh
 * retry budget, then the batch runs from its state with the endpoint and settings it was run with.
 */
export async function retryBatch(outDir: string, o: RerunOptions = {}): Promise<BatchResult & { requeued: number }> {
  const { store, gen, settings, target, run } = openBatch(outDir);
  let requeued: number;
  const release = acquireLockOrClose(store, outDir);
  try {
    requeued = store.db
      .prepare(
        `UPDATE rows SET state = 'PENDING', failures = 0, job_id = NULL, job_status = NULL
         WHERE gen = ? AND state IN ('FAILED', 'TIMED_OUT', 'CANCELLED')`,
      )
      .run(gen).changes;
  } finally {
    store.close();
    release();
  }
  const result = await runBatch({
    input: run.input,
    out: outDir,
    fromState: true,
    endpoint: target.endpoint,
    baseUrl: target.baseUrl,
    concurrency: run.concurrency,
    retries: run.retries,
    idField: settings.idField,
    pricePerSecond: settings.pricePerSecond,
    ...(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RerunOptions),
  });
  return { ...result, requeued };
}

/** `runpod-batch cancel`: cancels the batch's jobs in flight on RunPod (they stop billing); their rows run again next time. */
export async function cancelBatch(outDir: string, o: { apiKey?: string | null; timeoutMs?: number } = {}): Promise<CancelSummary> {
  const { store, gen, target } = openBatch(outDir);
  const release = acquireLockOrClose(store, outDir);
  const apiKey = o.apiKey ?? process.env.RUNPOD_API_KEY ?? null;
  try {
    if (target.endpoint !== null && !apiKey) throw new ConfigError('RUNPOD_API_KEY: not set (the API key is read from the environment)');
    const client = createClient({ baseUrl: target.baseUrl, endpointId: target.endpoint, apiKey, timeoutMs: o.timeoutMs });
    try {
      store.setMeta('viewsOf', null); // rows change: the next run must rewrite the views
      return await cancelInFlight(client, store, gen);
    } finally {
      await client.close();
    }
  } finally {
    store.close();
    release();
  }
}

/** Streams the batch's results as JSONL or CSV lines to `write` (`runpod-batch export`). */
export function exportBatch(outDir: string, format: 'jsonl' | 'csv', write: (chunk: string) => void): number {
  const { store, gen } = openBatch(outDir);
  try {
    return exportRows(store, gen, format, write);
  } finally {
    store.close();
  }
}
