import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowStatus, type StoredRow } from '../core/records.js';
import { AtomicFile, writeFileAtomic } from '../output/atomic-file.js';
import { errorLine, resultLine } from '../output/rows.js';
import { buildReportModel, renderHtml, renderMarkdown, reportRowOf } from '../report/render/index.js';
import { computeStatsWithLatencies, type RowRecord, type Stats } from '../report/stats.js';
import type { BatchSettings } from '../store/meta.js';
import type { Store } from '../store/store.js';

/** The files regenerated from the state at the end of every run. They are views: deleting them loses nothing. */
export interface ViewFiles {
  results: string;
  errors: string;
  stats: string;
  reportMd: string;
  reportHtml: string;
}

export function viewFiles(dir: string): ViewFiles {
  return {
    results: join(dir, 'results.jsonl'),
    errors: join(dir, 'errors.jsonl'),
    stats: join(dir, 'stats.json'),
    reportMd: join(dir, 'report.md'),
    reportHtml: join(dir, 'report.html'),
  };
}

/** The rows errors.jsonl holds: those that ended without completing (rows still to run are not errors). */
const FAILED_STATES: ReadonlySet<string> = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED']);

/**
 * Regenerates every view of the batch from the store. results.jsonl, errors.jsonl and stats.json come from one pass
 * over the rows in input order; report.md and report.html from a second pass (the rows without bodies and outputs),
 * reusing the latencies the first pass collected.
 */
export function regenerate(
  store: Store,
  dir: string,
  gen: number,
  s: BatchSettings,
  o: { running?: boolean } = {},
): { files: ViewFiles; stats: Stats } {
  store.flush();
  const files = viewFiles(dir);
  const results = new AtomicFile(files.results);
  const errors = new AtomicFile(files.errors);
  function* rows(): Generator<RowRecord> {
    for (const r of store.rows(gen)) {
      results.write(resultLine(r) + '\n');
      if (FAILED_STATES.has(r.state)) errors.write(errorLine(r, JSON.parse(r.body) as Record<string, unknown>, s.idField) + '\n');
      yield rowRecordOf(r);
    }
  }
  const { stats, latencies } = computeStatsWithLatencies({
    rows: rows(),
    jobs: lazy(() => store.jobOutcomes()), // one open statement at a time on the connection
    ops: store.ops(),
    wallSeconds: store.wallSeconds(),
    pricePerSecond: s.pricePerSecond,
  });
  results.commit();
  errors.commit();
  const media = store.mediaTotals();
  writeFileAtomic(files.stats, JSON.stringify({ ...stats, priceSource: s.priceSource, endpoint: s.endpointLabel, media }, null, 2) + '\n');

  const model = buildReportModel({
    title: s.title,
    generatedAt: Date.now(),
    endpoint: s.endpointLabel,
    stats,
    rowLatencies: latencies,
    pricePerSecond: s.pricePerSecond,
    priceSource: s.priceSource,
    outDir: dir,
    // The next step depends on how the last run stopped (a snapshot taken during a run says so instead).
    stop: o.running ? { kind: 'running' } : store.lastStop(),
    sizing: store.getMeta('sizing') ?? null,
    healthSeen: store.getMeta('healthSeen') ?? null,
    // One open statement at a time on the connection: each iterable starts when the previous one is done.
    samples: lazy(() => store.samples()),
    jobs: lazy(() => store.jobTimeline()),
    rows: (function* () {
      for (const r of store.summaryRows(gen)) yield reportRowOf(r);
    })(),
  });
  writeFileAtomic(files.reportMd, renderMarkdown(model));
  writeFileAtomic(files.reportHtml, renderHtml(model));
  return { files, stats };
}

/**
 * The views a run that changed nothing would write again, as they are on disk — a rerun of a finished million-row
 * batch need not rewrite a million lines. null when any is missing or unreadable.
 */
export function currentViews(dir: string): { files: ViewFiles; stats: Stats } | null {
  const files = viewFiles(dir);
  try {
    if (!Object.values(files).every((f) => existsSync(f))) return null;
    return { files, stats: JSON.parse(readFileSync(files.stats, 'utf8')) as Stats };
  } catch {
    return null;
  }
}

function rowRecordOf(r: StoredRow): RowRecord {
  return {
    status: rowStatus(r),
    attempts: r.attempts,
    expired: r.expired,
    lost: r.lost,
    delayTime: r.delayTime,
    executionTime: r.executionTime,
    e2eMs: r.e2eMs,
  };
}

function* lazy<T>(open: () => Iterable<T>): Generator<T> {
  yield* open();
}
