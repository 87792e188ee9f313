/**
 * The report's time axis: "time running". A batch may run for an hour, stop, and resume the next morning; drawing the
 * night would squeeze the hour into a sliver. So time is cut into segments of activity (a run, split where the progress
 * samples stop for more than GAP_MS, e.g. a sleeping laptop), laid end to end; markers show where pauses were cut out.
 */

export interface Segment {
  /** Epoch ms. */
  start: number;
  end: number;
  /** Elapsed running time (ms) at `start`. */
  offset: number;
}

export interface Pause {
  /** Elapsed running time (ms) where the pause was cut out. */
  at: number;
  /** Clock time left out, ms. */
  pausedMs: number;
  /** A new run (a resume) rather than a gap in one run's samples. */
  newRun: boolean;
}

/** A sample gap longer than this inside one run counts as a pause (suspended laptop, stopped process). */
export const GAP_MS = 5 * 60_000;
/** Each sample stands for about the second before it (samples are taken about once a second). */
export const SAMPLE_SPAN_MS = 1000;
/** At most this many pause markers are kept (the first ones). */
export const MAX_PAUSES = 100;

/** Builds segments from a stream of (runId, t) in time order. */
export class SegmentBuilder {
  readonly segments: Segment[] = [];
  readonly pauses: Pause[] = [];
  pauseCount = 0;
  private cur: Segment | null = null;
  private curRun = Number.NaN;
  private elapsed = 0;

  add(runId: number, t: number): void {
    const cur = this.cur;
    if (cur && runId === this.curRun && t - cur.end <= GAP_MS) {
      if (t > cur.end) cur.end = t;
      return;
    }
    const newRun = cur !== null && runId !== this.curRun;
    if (cur) this.elapsed += cur.end - cur.start;
    let start = t - SAMPLE_SPAN_MS;
    if (cur && start < cur.end) start = cur.end; // overlapping runs: never go back in time
    const seg = { start, end: Math.max(t, start), offset: this.elapsed };
    if (cur) {
      this.pauseCount++;
      if (this.pauses.length < MAX_PAUSES) this.pauses.push({ at: this.elapsed, pausedMs: Math.max(0, start - cur.end), newRun });
    }
    this.segments.push(seg);
    this.cur = seg;
    this.curRun = runId;
  }

  /** Total elapsed running time, ms. */
  get elapsedMs(): number {
    return this.cur ? this.elapsed + (this.cur.end - this.cur.start) : 0;
  }
}

/** The time axis the charts are drawn on: segments laid end to end, and the running time they add up to. */
export interface TimeAxis {
  readonly segments: readonly Segment[];
  readonly elapsedMs: number;
}

/** A one-segment timeline built from jobs is at least this long (ms), so a batch of instant jobs still has an axis. */
const SAMPLE_MIN_SPAN = 1000;

/**
 * The report's time axis: the segments of the progress samples; without samples, one segment from the first job
 * submission to the last finish; without either, none.
 */
export function timeAxisOf(
  samples: TimeAxis,
  firstSubmit: number | null,
  lastFinish: number | null,
): TimeAxis & { source: 'samples' | 'jobs' | 'none' } {
  if (samples.segments.length > 0) return { segments: samples.segments, elapsedMs: samples.elapsedMs, source: 'samples' };
  if (firstSubmit === null) return { segments: samples.segments, elapsedMs: samples.elapsedMs, source: 'none' };
  const end = Math.max(lastFinish ?? firstSubmit, firstSubmit + SAMPLE_MIN_SPAN);
  return { segments: [{ start: firstSubmit, end, offset: 0 }], elapsedMs: end - firstSubmit, source: 'jobs' };
}

/** Time series are bucketed to at most this many points. */
export const MAX_POINTS = 600;

/** Buckets for a series of `n` points: n within [1, MAX_POINTS]. */
export function bucketCount(n: number): number {
  return Math.max(1, Math.min(MAX_POINTS, n));
}

/** Maps epoch ms to elapsed running time: clamped into the nearest earlier segment (a time in a pause maps to its start). */
export function elapsedAt(segments: readonly Segment[], t: number): number {
  if (segments.length === 0) return 0;
  let lo = 0;
  let hi = segments.length - 1;
  if (t < segments[0]!.start) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid]!.start <= t) lo = mid;
    else hi = mid - 1;
  }
  const s = segments[lo]!;
  return s.offset + Math.min(t - s.start, s.end - s.start);
}
