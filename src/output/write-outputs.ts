import { join } from 'node:path';
import { computeStatsWithLatencies, type RowLatencies, type RowRecord, type Stats } from '../report/stats.js';
import type { Store } from '../store/store.js';
import { AtomicFile, writeFileAtomic } from './atomic-file.js';
import { errorLine, resultLine, rowStatus } from './rows.js';

export interface OutputFiles {
  results: string;
  errors: string;
  stats: string;
}

export interface WriteOptions {
  gen: number;
  idField: string;
  pricePerSecond: number | null;
  /** Extra fields for stats.json (e.g. the price source). */
  extra?: Record<string, unknown>;
}

/**
 * Regenerates results.jsonl, errors.jsonl and stats.json from the store, in one pass over the rows in input order.
 * They are views: deleting them loses nothing.
 */
export function writeOutputs(store: Store, dir: string, o: WriteOptions): { files: OutputFiles; stats: Stats; latencies: RowLatencies } {
  store.flush();
  const files = { results: join(dir, 'results.jsonl'), errors: join(dir, 'errors.jsonl'), stats: join(dir, 'stats.json') };
  const results = new AtomicFile(files.results);
  const errors = new AtomicFile(files.errors);
  function* rows(): Generator<RowRecord> {
    for (const r of store.rows(o.gen)) {
      results.write(resultLine(r) + '\n');
      if (r.state !== 'COMPLETED') errors.write(errorLine(r, JSON.parse(r.body) as Record<string, unknown>, o.idField) + '\n');
      yield {
        status: rowStatus(r),
        attempts: r.attempts,
        expired: r.expired,
        lost: r.lost,
        delayTime: r.delayTime,
        executionTime: r.executionTime,
        e2eMs: r.e2eMs,
      };
    }
  }
  const { stats, latencies } = computeStatsWithLatencies({
    rows: rows(),
    jobs: (function* () {
      yield* store.jobOutcomes(); // lazily: one open statement at a time on the connection
    })(),
    ops: store.ops(),
    wallSeconds: store.wallSeconds(),
    pricePerSecond: o.pricePerSecond,
  });
  results.commit();
  errors.commit();
  writeFileAtomic(files.stats, JSON.stringify({ ...stats, ...o.extra }, null, 2) + '\n');
  return { files, stats, latencies };
}
