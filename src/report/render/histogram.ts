/**
 * Latency histograms: bins chosen from the data. Latencies have long tails (one cold start at 40 s among 200 ms jobs),
 * so a skewed distribution gets logarithmic bins; a compact one gets linear bins at a nice step.
 */
import { round1 } from '../../core/numbers.js';
import { percentileOf, type Sorted } from '../percentiles.js';
import { niceNum } from './format.js';

export interface Histogram {
  /** `log`: bins of equal ratio (the first bin starts at 0 when values below its start exist); `linear`: equal width. */
  scale: 'linear' | 'log';
  /** Bin edges, ms: `edges.length === counts.length + 1`; bin i holds edges[i] <= v < edges[i+1] (the last bin includes its end). */
  edges: number[];
  counts: number[];
  /** Number of values (= the sum of `counts`). */
  count: number;
  /** Nearest-rank percentiles, ms, rounded like stats.json's. */
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Bins per decade on a log scale (edges 1, 1.26, 1.58, 2, 2.5, 3.2, 4, 5, 6.3, 7.9, 10). */
const LOG_BINS_PER_DECADE = 10;
const LINEAR_TARGET_BINS = 40;
/** A maximum this many times the median switches to log bins (a long right tail; a left tail reads fine linearly). */
const SKEW_FOR_LOG = 8;

/** Bins values already in order (each distinct value with its multiplicity). Returns null for no values. */
export function histogramOf(s: Sorted): Histogram | null {
  const n = s.count;
  if (n === 0) return null;
  const lo = s.min;
  const hi = s.max;
  const p50raw = percentileOf(s, 50);
  const useLog = hi > 0 && hi / Math.max(1, p50raw) > SKEW_FOR_LOG;
  const edges = useLog ? logEdges(lo, hi) : linearEdges(lo, hi);
  const counts = new Array<number>(edges.length - 1).fill(0);
  // Values come in order: one forward sweep assigns each to its bin.
  let b = 0;
  const last = counts.length - 1;
  s.forEach((v, times) => {
    while (b < last && v >= edges[b + 1]!) b++;
    counts[b]! += times;
  });
  return {
    scale: useLog ? 'log' : 'linear',
    edges,
    counts,
    count: n,
    min: Math.round(lo),
    p50: Math.round(p50raw),
    p90: Math.round(percentileOf(s, 90)),
    p99: Math.round(percentileOf(s, 99)),
    max: Math.round(hi),
    mean: round1(s.sum / n),
  };
}

function linearEdges(lo: number, hi: number): number[] {
  if (hi === lo) {
    // One value repeated: a single bin around it.
    const w = niceNum(Math.max(1, Math.abs(lo) * 0.1));
    const start = Math.floor(lo / w) * w;
    return [start, start + w];
  }
  const step = niceNum((hi - lo) / LINEAR_TARGET_BINS);
  const start = Math.floor(lo / step) * step;
  const bins = Math.max(1, Math.floor((hi - start) / step) + 1);
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(Number((start + i * step).toPrecision(12)));
  return edges;
}

function logEdges(lo: number, hi: number): number[] {
  const ratio = 1 / LOG_BINS_PER_DECADE;
  const startExp = Math.floor(Math.log10(Math.max(1, lo)) / ratio) * ratio;
  const edges: number[] = [];
  // Values below the first power (0 ms, sub-millisecond) get a first bin starting at 0.
  if (lo < 10 ** startExp) edges.push(0);
  let k = 0;
  for (;;) {
    const e = Number((10 ** (startExp + k * ratio)).toPrecision(6));
    edges.push(e);
    if (e > hi) break;
    k++;
  }
  return edges;
}
