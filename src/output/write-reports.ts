import { join } from 'node:path';
import { buildReportModel, renderHtml, renderMarkdown, reportRowOf } from '../report/render/index.js';
import type { RowLatencies, Stats } from '../report/stats.js';
import type { Store } from '../store/store.js';
import { writeFileAtomic } from './atomic-file.js';

export interface ReportOptions {
  gen: number;
  stats: Stats;
  /** The rows' latencies from computeStats, reused for the histograms. */
  rowLatencies?: RowLatencies;
  title: string;
  endpoint: string;
  pricePerSecond: number | null;
  priceSource: string;
}

/** report.md and a self-contained report.html, regenerated from the store (a second pass over the rows). */
export function writeReports(store: Store, dir: string, o: ReportOptions): { markdown: string; html: string } {
  const model = buildReportModel({
    title: o.title,
    generatedAt: Date.now(),
    endpoint: o.endpoint,
    stats: o.stats,
    rowLatencies: o.rowLatencies,
    pricePerSecond: o.pricePerSecond,
    priceSource: o.priceSource,
    outDir: dir,
    // One open statement at a time on the connection: each iterable starts when the previous one is done.
    samples: lazy(() => store.samples()),
    jobs: lazy(() => store.jobTimeline()),
    rows: (function* () {
      for (const r of store.summaryRows(o.gen)) yield reportRowOf(r);
    })(),
  });
  const files = { markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeFileAtomic(files.markdown, renderMarkdown(model));
  writeFileAtomic(files.html, renderHtml(model));
  return files;
}

function* lazy<T>(open: () => Iterable<T>): Generator<T> {
  yield* open();
}
