/**
 * Cumulative billed seconds (and USD) over running time, each job counted at its finishedAt. With progress samples
 * the time axis is known before the jobs are read, so each job's bill goes straight into its bucket. Without (a state
 * that has none), each job's finish time and bill are kept until the time axis is known from the jobs themselves.
 */
import { billedSeconds } from '../../core/billing.js';
import { isNum, round6 } from '../../core/numbers.js';
import { Float64Collector } from '../percentiles.js';
import type { ReportJob, ReportModel } from './model-types.js';
import { bucketCount, elapsedAt, type TimeAxis } from './timeline.js';

/** Accumulates the jobs' billed seconds by finish time; `result` gives the cumulative series and the totals. */
export class CostSeries {
  /** The samples' time axis when there is one: jobs are placed in its buckets as they come. */
  private readonly sampled: TimeAxis | null;
  private readonly n: number;
  private readonly w: number;
  private readonly sums: Float64Array | null;
  private placed = 0;
  /** Without a time axis yet: finish times and bills, placed in `result`. */
  private readonly laterT: Float64Collector;
  private readonly laterBilled: Float64Collector;
  /** Billed seconds of jobs without a finish time: counted at the end, so the total is right. */
  private unplaced = 0;

  /** `samples`: the time axis from the progress samples (none when empty), of `sampleCount` samples. */
  constructor(
    samples: TimeAxis,
    private readonly sampleCount: number,
  ) {
    const sampled = samples.segments.length > 0 && samples.elapsedMs > 0;
    this.sampled = sampled ? samples : null;
    this.n = sampled ? bucketCount(Math.floor(sampleCount / 2)) : 0;
    this.w = sampled ? samples.elapsedMs / this.n : 0;
    this.sums = sampled ? new Float64Array(this.n) : null;
    this.laterT = new Float64Collector(sampled ? 1 : 1024);
    this.laterBilled = new Float64Collector(sampled ? 1 : 1024);
  }

  add(j: ReportJob): void {
    const billed = isNum(j.executionTime) ? billedSeconds(j.executionTime) : 0;
    if (billed <= 0) return;
    if (isNum(j.finishedAt) && this.sums && this.sampled) {
      this.sums[Math.min(this.n - 1, Math.floor(elapsedAt(this.sampled.segments, j.finishedAt) / this.w))]! += billed;
      this.placed += billed;
    } else if (isNum(j.finishedAt)) {
      this.laterT.push(j.finishedAt);
      this.laterBilled.push(billed);
    } else {
      this.unplaced += billed;
    }
  }

  /** The cost section over the final time axis (≤ MAX_POINTS points); call once, when every job was added. */
  result(axis: TimeAxis, price: number | null): ReportModel['cost'] {
    const nLater = this.laterT.length;
    const B = this.laterBilled.values();
    let totalBilled = this.unplaced + this.placed;
    for (let i = 0; i < nLater; i++) totalBilled += B[i]!;
    const cost: ReportModel['cost'] = {
      bucketMs: 0,
      points: [],
      totalBilledSeconds: totalBilled,
      totalUsd: price === null ? null : round6(totalBilled * price),
      pricePerSecond: price,
    };
    if (!(totalBilled > 0 && axis.elapsedMs > 0)) return cost;
    const elapsedMs = axis.elapsedMs;
    const nSamples = this.sampleCount;
    const n = this.sums ? this.n : bucketCount(nSamples > 0 ? Math.floor(nSamples / 2) : Math.ceil(elapsedMs / 1000));
    const w = this.sums ? this.w : elapsedMs / n;
    const sums = this.sums ?? new Float64Array(n);
    const T = this.laterT.values();
    for (let i = 0; i < nLater; i++) sums[Math.min(n - 1, Math.floor(elapsedAt(axis.segments, T[i]!) / w))]! += B[i]!;
    sums[n - 1]! += this.unplaced; // no finish time: counted at the end, so the total is right
    let cum = 0;
    for (let b = 0; b < n; b++) {
      cum += sums[b]!;
      cost.points.push({ t: (b + 1) * w, billedSeconds: cum, usd: price === null ? null : round6(cum * price) });
    }
    cost.bucketMs = w;
    return cost;
  }
}
