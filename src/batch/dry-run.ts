import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { StateError, UsageError } from '../core/errors.js';
import { round6 } from '../core/numbers.js';
import { isTerminal } from '../core/wire.js';
import { resolvePrice } from '../report/cost.js';
import { Store } from '../store/store.js';
import { ingest } from './ingest.js';
import { planInput } from './input-plan.js';
import { openBatch } from './open.js';
import { checkSameInput, chooseOutDir } from './out-dir.js';
import type { RunBatchOptions } from './options.js';
import { runBatch } from './run.js';

export interface DryRunOptions extends RunBatchOptions {
  /** Seconds one job is expected to take on a worker: the basis of the estimate without a sample. */
  expectedSeconds?: number;
  /** Run the first N rows for real (they count as done), then extrapolate from them. */
  sample?: number;
}

export interface Estimate {
  rows: number;
  /** What the estimate rests on. */
  basis: 'expected-seconds' | 'sample' | 'none';
  billedSeconds: number | null;
  costUsd: number | null;
  /** Wall time for the rows still to run. */
  seconds: number | null;
  sample?: { rows: number; billedSeconds: number; wallSeconds: number; meanExecutionMs: number | null };
  /** The first three /run bodies, as the JSON text that will be sent. */
  preview: string[];
  /** How the rows relate to the batch already in --out, when there is one: what a run would submit again. */
  changes?: DryRunChanges;
  notes: string[];
}

export interface DryRunChanges {
  added: number;
  /** Rows whose request differs from the one the batch holds (an edited row, or a changed mapping): they run again. */
  changed: number;
  unchanged: number;
  /** Rows of the batch no longer in the input. */
  removed: number;
  /** The mapping is not the one the batch was loaded with. */
  mapChanged: boolean;
}

/**
 * `--dry-run`: validate and count the rows, and estimate time and cost. Nothing is spent unless `sample` asks for
 * the first N rows to run for real: the whole file is then loaded as the batch, those rows are its first done rows,
 * and the next run resumes with the rest.
 */
export async function dryRun(o: DryRunOptions): Promise<Estimate> {
  if (o.expectedSeconds !== undefined && !(o.expectedSeconds > 0)) throw new UsageError('--expected-seconds: must be a positive number');
  if (o.sample !== undefined && (!Number.isInteger(o.sample) || o.sample < 1)) throw new UsageError('--sample: must be a whole number ≥ 1');
  const price = resolvePrice({ gpu: o.gpu, pricePerSecond: o.pricePerSecond ?? undefined });
  // Auto-sizing decides at run time how many jobs run at once: the estimate assumes the fallback size.
  const concurrency = typeof o.concurrency === 'number' ? o.concurrency : DEFAULTS.concurrency;
  const notes: string[] = [];
  if (price.perSecond === null) notes.push('no price: pass --gpu or --price-per-second for a cost');
  if (o.sample !== undefined) {
    // The whole file is the batch (a later run resumes it); only its first rows run now.
    const r = await runBatch({ ...o, admitFirst: o.sample });
    const rows = r.ingest.rows;
    const s = r.stats;
    let sampled = 0;
    for (const [status, n] of Object.entries(s.rows.byStatus)) if (isTerminal(status)) sampled += n;
    const perRow = sampled > 0 ? s.billedSeconds / sampled : 0;
    const left = Math.max(0, rows - s.rows.completed);
    const rate = s.wallSeconds > 0 ? sampled / s.wallSeconds : null; // rows per second in the sample
    notes.push(`the ${sampled} sampled rows ran for real and are done; the estimate covers the ${left} rows left`);
    notes.push(
      'time is extrapolated from the sample: cold starts weigh more in a small sample, and a larger run may scale to more workers',
    );
    return {
      rows,
      basis: 'sample',
      billedSeconds: Math.round(perRow * left),
      costUsd: price.perSecond === null ? null : round6(perRow * left * price.perSecond),
      seconds: rate ? Math.round(left / rate) : null,
      sample: {
        rows: sampled,
        billedSeconds: s.billedSeconds,
        wallSeconds: s.wallSeconds,
        meanExecutionMs: s.latencyMs.execution?.mean ?? null,
      },
      preview: [],
      notes,
    };
  }
  const { rows, preview, changes, notes: planNotes } = await countRows(o);
  notes.push(...planNotes);
  const seen = { preview, ...(changes ? { changes } : {}) };
  if (o.expectedSeconds !== undefined) {
    const billed = rows * Math.ceil(o.expectedSeconds);
    notes.push(
      `time assumes the endpoint runs ${concurrency} jobs at once (${typeof o.concurrency === 'number' ? '--concurrency' : 'pass --concurrency for another figure'}) with no queueing or cold starts: a lower bound`,
    );
    notes.push('billing rounds each job up to whole seconds; cold starts and idle time are billed on top');
    return {
      rows,
      basis: 'expected-seconds',
      billedSeconds: billed,
      costUsd: price.perSecond === null ? null : round6(billed * price.perSecond),
      seconds: Math.round((rows * o.expectedSeconds) / concurrency),
      ...seen,
      notes,
    };
  }
  notes.push('pass --expected-seconds S or --sample N for time and cost');
  return { rows, basis: 'none', billedSeconds: null, costUsd: null, seconds: null, ...seen, notes };
}

/**
 * Validates the whole input exactly as a run would (duplicate ids and the mapping included), in a throwaway state,
 * and compares each row with the batch already in the output folder, if any (read only: nothing there changes). A
 * folder holding another input's batch is refused, as a run refuses it.
 */
async function countRows(o: DryRunOptions): Promise<{ rows: number; preview: string[]; changes?: DryRunChanges; notes: string[] }> {
  const outDir = chooseOutDir(o.input, o.out, () => {});
  const existing = existsSync(join(outDir, 'state.sqlite')) ? openExisting(outDir) : undefined;
  let dir: string | undefined;
  let store: Store | undefined;
  try {
    const saved = existing?.store.getMeta('input');
    if (!o.replaceInput) checkSameInput(saved, o.input, outDir);
    const plan = planInput(o, saved, outDir);
    dir = mkdtempSync(join(tmpdir(), 'runpod-batch-dry-'));
    store = Store.open(dir);
    const preview: string[] = [];
    // As Store.ingestRow rules: a key the state holds (of any generation) keeps its result unless its hash differs.
    const tally = { added: 0, changed: 0, unchanged: 0 };
    let current = 0; // rows of the batch's current generation found in the input again
    const r = await ingest(store, o.input, {
      format: o.format,
      idField: o.idField,
      csvCast: o.csvCast,
      limit: o.limit,
      map: plan.map,
      shard: plan.shard,
      onRow: (row) => {
        if (preview.length < PREVIEW_ROWS) preview.push(row.bodyJson);
        if (!existing) return;
        const held = existing.store.rowHash(row.key);
        if (!held) tally.added++;
        else if (held.hash === row.hash) tally.unchanged++;
        else tally.changed++;
        if (held?.gen === existing.gen) current++;
      },
    });
    if (!existing || !saved) return { rows: r.rows, preview, notes: plan.notes };
    const removed = Math.max(0, saved.rows - current);
    const mapChanged = (saved.map ?? null) !== (plan.map ?? null);
    return { rows: r.rows, preview, changes: { ...tally, removed, mapChanged }, notes: plan.notes };
  } finally {
    store?.close();
    existing?.store.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

const PREVIEW_ROWS = 3;

/** The batch in the output folder, read only; undefined when the folder holds no complete batch yet. */
function openExisting(outDir: string): { store: Store; gen: number } | undefined {
  try {
    const { store, gen } = openBatch(outDir, { readonly: true });
    return { store, gen };
  } catch (err) {
    if (err instanceof StateError) return undefined;
    throw err;
  }
}
