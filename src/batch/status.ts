import { round6 } from '../core/numbers.js';
import type { Sample, SizingPoint } from '../core/records.js';
import { type NextStep, nextStep, tallyOf } from '../report/next-step.js';
import { lockHolder } from '../store/lock.js';
import { openBatch } from './open.js';

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
  /**
   * The in-flight target auto-sizing chose last and why (e.g. "holding: 60 workers, queue 8"): the current one while
   * a run goes on, else where the last auto-sized run left it; null when no run was auto-sized.
   */
  sizing: SizingPoint | null;
  /** What to do now, from how the last run stopped (report/next-step.ts). */
  next: NextStep;
  /** `--shard k/n`: the folder holds that shard of its input; null: all rows. */
  shard: { k: number; n: number } | null;
  /** The `--map` expression the rows were mapped with; null: none. */
  map: string | null;
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
    const runningPid = lockHolder(outDir);
    return {
      outDir,
      input: run.input,
      endpoint: target.endpoint,
      baseUrl: target.baseUrl,
      total,
      byState,
      inFlight: byState.SUBMITTED ?? 0,
      billedSeconds: billed.seconds,
      estimatedCostUsd: settings.pricePerSecond === null ? null : round6(billed.seconds * settings.pricePerSecond),
      runs: store.runCount(),
      wallSeconds: store.wallSeconds(),
      runningPid,
      last,
      sizing: store.getMeta('sizing')?.current ?? null,
      next: nextStep(runningPid !== null ? { kind: 'running' } : store.lastStop(), tallyOf(byState), outDir),
      shard: store.getMeta('input')?.shard ?? null,
      map: store.getMeta('input')?.map ?? null,
    };
  } finally {
    store.close();
  }
}
