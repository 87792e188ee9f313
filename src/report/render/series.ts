/** Derived series and figures both renderers show, computed from the model. */
import { round1 } from '../../core/numbers.js';
import type { ActivityPoint, ReportModel } from './model.js';

export interface RateSeries {
  xs: number[];
  completedPerMin: number[];
  failedPerMin: number[];
  rateLimitedPerMin: number[];
  retriesPerMin: number[];
  inFlight: (number | null)[];
  /** Legend suffix saying how rates are averaged, e.g. " (1-min avg)"; '' when not smoothed. */
  smoothing: string;
  /** Buckets averaged per point (1 = none). */
  window: number;
}

/** Rates are averaged over about a minute (at most 1/30 of the time axis): per-second counts are too noisy to read. */
const SMOOTH_MS = 60_000;

/** Per-minute rates at bucket centres, as a centred moving average over about a minute of running time. */
export function rates(m: ReportModel): RateSeries {
  const w = m.activity.bucketMs;
  const pts = m.activity.points;
  const n = pts.length;
  const half = w > 0 ? Math.max(0, Math.min(Math.round(SMOOTH_MS / w / 2), Math.floor(n / 60))) : 0;
  const window = 2 * half + 1;
  const avg = (get: (p: ActivityPoint) => number): number[] => {
    // Prefix sums: O(n) whatever the window.
    const pre = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) pre[i + 1] = pre[i]! + get(pts[i]!);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = Math.max(0, i - half);
      const b = Math.min(n, i + half + 1);
      const perMin = w > 0 ? ((pre[b]! - pre[a]!) / ((b - a) * w)) * 60_000 : 0;
      out.push(Math.round(perMin * 100) / 100);
    }
    return out;
  };
  const span = window * w;
  return {
    xs: pts.map((p) => p.t + w / 2),
    completedPerMin: avg((p) => p.completed),
    failedPerMin: avg((p) => p.failed),
    rateLimitedPerMin: avg((p) => p.rateLimited),
    retriesPerMin: avg((p) => p.retries),
    inFlight: pts.map((p) => p.inFlight),
    smoothing:
      window > 1 ? ` (${span >= 45_000 ? `${Math.max(1, Math.round(span / 60_000))}-min` : `${Math.round(span / 1000)}-s`} avg)` : '',
    window,
  };
}

/**
 * 429s and retries over time. They come in bursts of a few: as a rate per minute over buckets of a few seconds, 9
 * retries read as 270/min. Over a run long enough for minute averages they are rates per minute (as `rates`);
 * otherwise they are counts per bucket, labelled with the bucket's length.
 */
export function retrySeries(
  m: ReportModel,
  r: RateSeries = rates(m),
): { xs: number[]; retries: number[]; rateLimited: number[]; unit: string; perMinute: boolean } {
  const w = m.activity.bucketMs;
  if (r.window * w >= 45_000)
    return { xs: r.xs, retries: r.retriesPerMin, rateLimited: r.rateLimitedPerMin, unit: `/ min${r.smoothing}`, perMinute: true };
  const pts = m.activity.points;
  const secs = round1(w / 1000);
  return {
    xs: r.xs,
    retries: pts.map((p) => p.retries),
    rateLimited: pts.map((p) => p.rateLimited),
    unit: `per ${secs} s`,
    perMinute: false,
  };
}

/** A period length for tables: the smallest "round" duration giving at most `count` periods. */
const ROUND_MS = [1, 2, 5, 10, 15, 30]
  .map((s) => s * 1000)
  .concat([1, 2, 5, 10, 15, 30].map((m) => m * 60_000))
  .concat([1, 2, 3, 6, 12, 24, 48, 168].map((h) => h * 3_600_000));

function periodLength(elapsedMs: number, count: number): number {
  for (const d of ROUND_MS) if (elapsedMs / d <= count) return d;
  return Math.ceil(elapsedMs / count);
}

export interface Period {
  from: number;
  to: number;
  completed: number;
  failed: number;
  submitted: number;
  rateLimited: number;
  retries: number;
  inFlightMean: number | null;
  inFlightMax: number | null;
  /** Cumulative billed seconds at the period's end (null when no cost series). */
  billedSeconds: number | null;
  usd: number | null;
}

/** The activity and cost buckets merged into at most `count` periods, for tables. */
export function periods(m: ReportModel, count = 12): Period[] {
  const E = m.timeline.elapsedMs;
  if (!(E > 0) || (m.activity.points.length === 0 && m.cost.points.length === 0)) return [];
  const w = periodLength(E, count);
  const n = Math.max(1, Math.ceil(E / w - 1e-9));
  const out: Period[] = [];
  const inSum: number[] = [];
  const inCnt: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      from: i * w,
      to: Math.min(E, (i + 1) * w),
      completed: 0,
      failed: 0,
      submitted: 0,
      rateLimited: 0,
      retries: 0,
      inFlightMean: null,
      inFlightMax: null,
      billedSeconds: null,
      usd: null,
    });
    inSum.push(0);
    inCnt.push(0);
  }
  const bw = m.activity.bucketMs;
  m.activity.points.forEach((p: ActivityPoint) => {
    const i = Math.min(n - 1, Math.floor((p.t + bw / 2) / w));
    const o = out[i]!;
    o.completed += p.completed;
    o.failed += p.failed;
    o.submitted += p.submitted;
    o.rateLimited += p.rateLimited;
    o.retries += p.retries;
    if (p.inFlight !== null) {
      inSum[i]! += p.inFlight;
      inCnt[i]!++;
    }
    if (p.inFlightMax !== null) o.inFlightMax = Math.max(o.inFlightMax ?? 0, p.inFlightMax);
  });
  out.forEach((o, i) => {
    if (inCnt[i]! > 0) o.inFlightMean = round1(inSum[i]! / inCnt[i]!);
  });
  // Cumulative cost: the last cost point at or before each period's end.
  let j = 0;
  let billed: number | null = m.cost.points.length > 0 ? 0 : null;
  let usd: number | null = m.cost.points.length > 0 && m.cost.pricePerSecond !== null ? 0 : null;
  out.forEach((o, i) => {
    const last = i === out.length - 1;
    while (j < m.cost.points.length && (last || m.cost.points[j]!.t <= o.to + 1e-6)) {
      billed = m.cost.points[j]!.billedSeconds;
      usd = m.cost.points[j]!.usd;
      j++;
    }
    o.billedSeconds = billed;
    o.usd = usd;
  });
  return out;
}

export function peak(values: readonly (number | null)[]): number {
  let p = 0;
  for (const v of values) if (v !== null && v > p) p = v;
  return p;
}
