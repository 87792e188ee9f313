import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { UsageError } from '../core/errors.js';
import { round6 } from '../core/numbers.js';
import { isTerminal } from '../core/wire.js';
import { resolvePrice } from '../report/cost.js';
import { Store } from '../store/store.js';
import { ingest } from './ingest.js';
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
  notes: string[];
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
      notes,
    };
  }
  const rows = await countRows(o);
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
      notes,
    };
  }
  notes.push('pass --expected-seconds S or --sample N for time and cost');
  return { rows, basis: 'none', billedSeconds: null, costUsd: null, seconds: null, notes };
}

/** Validates the whole input exactly as a run would (duplicate ids included), in a throwaway state. */
async function countRows(o: DryRunOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'runpod-batch-dry-'));
  const store = Store.open(dir);
  try {
    const r = await ingest(store, o.input, { format: o.format, idField: o.idField, csvCast: o.csvCast, limit: o.limit });
    return r.rows;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
