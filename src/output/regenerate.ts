import type { Stats } from '../report/stats.js';
import type { Store } from '../store/store.js';
import { writeOutputs, type OutputFiles } from './write-outputs.js';
import { writeReports } from './write-reports.js';

/** What the views of a batch need besides the store; saved in the store so `runpod-batch report` redraws them alike. */
export interface BatchSettings {
  idField: string;
  pricePerSecond: number | null;
  priceSource: string;
  /** The input's file name, for report titles. */
  title: string;
  /** Endpoint id, or the base URL in local-server mode. */
  endpointLabel: string;
}

export interface AllFiles extends OutputFiles {
  reportMd: string;
  reportHtml: string;
}

/** Regenerates every view of the batch from the store: results, errors, stats, report.md, report.html. */
export function regenerate(store: Store, dir: string, gen: number, s: BatchSettings): { files: AllFiles; stats: Stats } {
  const { files, stats, latencies } = writeOutputs(store, dir, {
    gen,
    idField: s.idField,
    pricePerSecond: s.pricePerSecond,
    extra: { priceSource: s.priceSource, endpoint: s.endpointLabel },
  });
  const reports = writeReports(store, dir, {
    gen,
    stats,
    rowLatencies: latencies,
    title: s.title,
    endpoint: s.endpointLabel,
    pricePerSecond: s.pricePerSecond,
    priceSource: s.priceSource,
  });
  return { files: { ...files, reportMd: reports.markdown, reportHtml: reports.html }, stats };
}
