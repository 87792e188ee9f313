/**
 * The latency histograms, over the rows' final jobs (as in stats.json). When computeStatsWithLatencies already
 * collected the rows' values they are used as they are; else they are collected here.
 */
import { isNum } from '../../core/numbers.js';
import { LatencyCollector } from '../percentiles.js';
import type { RowLatencies } from '../stats.js';
import { histogramOf } from './histogram.js';
import type { ReportModel, ReportRow } from './model-types.js';

/** Accumulates the rows' delay, execution and end-to-end times (unless given); `result` bins them. */
export class LatencyHistograms {
  private readonly collected: { delay: LatencyCollector; execution: LatencyCollector; endToEnd: LatencyCollector } | null;

  /** `given`: the same rows' values, in order, as computeStatsWithLatencies collected them. */
  constructor(private readonly given?: RowLatencies) {
    this.collected = given ? null : { delay: new LatencyCollector(), execution: new LatencyCollector(), endToEnd: new LatencyCollector() };
  }

  add(r: ReportRow): void {
    const c = this.collected;
    if (!c) return;
    if (isNum(r.delayTime)) c.delay.push(r.delayTime);
    if (isNum(r.executionTime)) c.execution.push(r.executionTime);
    if (isNum(r.e2eMs)) c.endToEnd.push(r.e2eMs);
  }

  /** Call once, when every row was added (the collected values are sorted in place). */
  result(): ReportModel['latency'] {
    const given = this.given;
    const c = this.collected;
    return {
      delay: histogramOf(given ? given.delay : c!.delay.sorted()),
      execution: histogramOf(given ? given.execution : c!.execution.sorted()),
      endToEnd: histogramOf(given ? given.endToEnd : c!.endToEnd.sorted()),
    };
  }
}
