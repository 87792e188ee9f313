/**
 * Activity over running time from the progress samples: each sample's counters become per-sample counts (the
 * differences of the cumulative counters within a run), kept in typed arrays until the time axis is known, then
 * summed into buckets.
 */
import { isNum, round1 } from '../../core/numbers.js';
import { Float64Collector } from '../percentiles.js';
import type { ActivityPoint, ReportModel, ReportSample } from './model-types.js';
import { bucketCount, elapsedAt, type TimeAxis } from './timeline.js';

type Counters = Pick<ReportSample, 'submitted' | 'completed' | 'failed' | 'rateLimited' | 'retries'>;

function delta(cur: number, prev: number): number {
  const c = isNum(cur) ? cur : 0;
  // A counter that went down was reset: count from zero.
  return c >= prev ? c - prev : c;
}

/** Accumulates progress samples (7 numbers a sample, in parallel typed arrays); `result` buckets them. */
export class SampleSeries {
  private readonly t = new Float64Collector();
  private readonly inFlight = new Float64Collector();
  private readonly submitted = new Float64Collector();
  private readonly completed = new Float64Collector();
  private readonly failed = new Float64Collector();
  private readonly rateLimited = new Float64Collector();
  private readonly retries = new Float64Collector();
  private readonly prevByRun = new Map<number, Counters>();
  private last: number | null = null;

  /** One sample, in time order; the caller skips samples without a finite `t`. */
  add(s: ReportSample): void {
    const prev = this.prevByRun.get(s.runId) ?? { submitted: 0, completed: 0, failed: 0, rateLimited: 0, retries: 0 };
    this.t.push(s.t);
    this.inFlight.push(isNum(s.inFlight) ? s.inFlight : Number.NaN);
    this.submitted.push(delta(s.submitted, prev.submitted));
    this.completed.push(delta(s.completed, prev.completed));
    this.failed.push(delta(s.failed, prev.failed));
    this.rateLimited.push(delta(s.rateLimited, prev.rateLimited));
    this.retries.push(delta(s.retries, prev.retries));
    this.prevByRun.set(s.runId, {
      submitted: isNum(s.submitted) ? s.submitted : 0,
      completed: isNum(s.completed) ? s.completed : 0,
      failed: isNum(s.failed) ? s.failed : 0,
      rateLimited: isNum(s.rateLimited) ? s.rateLimited : 0,
      retries: isNum(s.retries) ? s.retries : 0,
    });
    this.last = this.last === null ? s.t : Math.max(this.last, s.t);
  }

  /** Samples added. */
  get count(): number {
    return this.t.length;
  }

  /** The latest sample time (epoch ms); null without samples. */
  get lastT(): number | null {
    return this.last;
  }

  /** The activity buckets over the time axis; none without samples or running time. */
  result(axis: TimeAxis): ReportModel['activity'] {
    const nSamples = this.t.length;
    const activity: ReportModel['activity'] = { bucketMs: 0, points: [] };
    if (nSamples === 0 || !(axis.elapsedMs > 0)) return activity;
    // About two samples a bucket, so per-bucket rates are not jagged by sampling jitter.
    const n = bucketCount(Math.floor(nSamples / 2));
    const w = axis.elapsedMs / n;
    const pts: ActivityPoint[] = [];
    const inSum = new Float64Array(n);
    const inCnt = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      pts.push({ t: i * w, submitted: 0, completed: 0, failed: 0, rateLimited: 0, retries: 0, inFlight: null, inFlightMax: null });
    }
    const T = this.t.values();
    const IF = this.inFlight.values();
    const SU = this.submitted.values();
    const CO = this.completed.values();
    const FA = this.failed.values();
    const RL = this.rateLimited.values();
    const RE = this.retries.values();
    for (let i = 0; i < nSamples; i++) {
      const b = Math.min(n - 1, Math.floor(elapsedAt(axis.segments, T[i]!) / w));
      const p = pts[b]!;
      p.submitted += SU[i]!;
      p.completed += CO[i]!;
      p.failed += FA[i]!;
      p.rateLimited += RL[i]!;
      p.retries += RE[i]!;
      const f = IF[i]!;
      if (Number.isFinite(f)) {
        inSum[b]! += f;
        inCnt[b]!++;
        p.inFlightMax = p.inFlightMax === null ? f : Math.max(p.inFlightMax, f);
      }
    }
    for (let b = 0; b < n; b++) if (inCnt[b]! > 0) pts[b]!.inFlight = round1(inSum[b]! / inCnt[b]!);
    activity.bucketMs = w;
    activity.points = pts;
    return activity;
  }
}
