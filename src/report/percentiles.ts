/**
 * Latency summaries: exact nearest-rank percentiles, built for large inputs (a million values): typed arrays, no
 * per-value objects. Whole milliseconds below 65.5 s — nearly every latency RunPod reports — are counted, not stored.
 */
import { round1 } from '../core/numbers.js';

export interface LatencySummary {
  /** Number of (finite) values summarised. */
  count: number;
  /** Nearest-rank percentiles, ms, rounded to an integer. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** ms, rounded to 1 decimal. */
  mean: number;
  min: number;
}

/** Values in ascending order, each distinct value with how many times it occurs. Empty: count 0. */
export interface Sorted {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The value at 1-based rank `r` (1 ≤ r ≤ count). */
  atRank(r: number): number;
  /** Each distinct value, ascending, with its multiplicity. */
  forEach(fn: (value: number, times: number) => void): void;
}

/** Nearest rank of percentile `p` among `n` values: ceil(p/100 · n), within [1, n]. */
export function rankOf(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
}

/** Nearest-rank percentile of a Sorted; NaN when empty. */
export function percentileOf(s: Sorted, p: number): number {
  return s.count === 0 ? Number.NaN : s.atRank(rankOf(p, s.count));
}

/** The summary of a Sorted; null when it is empty. */
export function summarizeSorted(s: Sorted): LatencySummary | null {
  if (s.count === 0) return null;
  return {
    count: s.count,
    p50: Math.round(percentileOf(s, 50)),
    p90: Math.round(percentileOf(s, 90)),
    p99: Math.round(percentileOf(s, 99)),
    max: Math.round(s.max),
    mean: round1(s.sum / s.count),
    min: Math.round(s.min),
  };
}

/**
 * Summarises `values` (ms). Non-finite values (NaN, ±Infinity) are skipped; null when no value is left.
 * The input is not modified.
 */
export function summarize(values: ArrayLike<number>): LatencySummary | null {
  return summarizeInPlace(Float64Array.from(values));
}

type NumberArray = Float64Array | Float32Array;

/** `summarize` on a buffer the caller no longer needs in its order: non-finite values dropped, the rest sorted in place. */
export function summarizeInPlace(values: NumberArray): LatencySummary | null {
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) values[n++] = v;
  }
  return summarizeSorted(sortInPlace(values.subarray(0, n)));
}

/** A Sorted over a typed array of finite values, sorted here in place. */
export function sortInPlace(values: NumberArray): Sorted {
  values.sort(); // typed-array sort is numeric
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  return {
    count: n,
    sum,
    min: n > 0 ? (values[0] as number) : Number.NaN,
    max: n > 0 ? (values[n - 1] as number) : Number.NaN,
    atRank: (r) => values[r - 1] as number,
    forEach(fn) {
      let i = 0;
      while (i < n) {
        const v = values[i] as number;
        let j = i + 1;
        while (j < n && values[j] === v) j++;
        fn(v, j - i);
        i = j;
      }
    },
  };
}

/** Growable buffer of numbers in a typed array (doubles its capacity when full). */
class TypedCollector<A extends NumberArray> {
  private buf: A;
  private len = 0;

  constructor(
    private readonly make: (n: number) => A,
    initialCapacity: number,
  ) {
    this.buf = make(Math.max(1, Math.floor(initialCapacity)));
  }

  push(value: number): void {
    if (this.len === this.buf.length) {
      const next = this.make(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = value;
  }

  get length(): number {
    return this.len;
  }

  /** A view of the values pushed so far (no copy). */
  values(): A {
    return this.buf.subarray(0, this.len) as A;
  }
}

/** Doubles: for timestamps and sums. */
export class Float64Collector extends TypedCollector<Float64Array> {
  constructor(initialCapacity = 1024) {
    super((n) => new Float64Array(n), initialCapacity);
  }
}

/** Whole milliseconds below this are counted (a 256 KB table), not stored one by one. */
const DENSE = 65_536;

/**
 * Latencies (finite ms) for exact percentiles and histograms. Whole milliseconds in [0, 65,536) — nearly every value
 * RunPod reports — only raise a count, so a million of them take 256 KB, not 4 MB; any other value is kept in a
 * Float32Array (exact for whole ms up to 2^24 ms, 4.6 hours). Not for epoch timestamps.
 */
export class LatencyCollector {
  private counts: Uint32Array | null = null;
  private counted = 0;
  private countedSum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  private readonly rest: TypedCollector<Float32Array>;

  constructor(initialCapacity = 64) {
    this.rest = new TypedCollector((n) => new Float32Array(n), initialCapacity);
  }

  push(value: number): void {
    if (value >= 0 && value < DENSE && Number.isInteger(value)) {
      if (this.counts === null) this.counts = new Uint32Array(DENSE);
      this.counts[value]!++;
      this.counted++;
      this.countedSum += value;
      if (value < this.lo) this.lo = value;
      if (value > this.hi) this.hi = value;
    } else {
      this.rest.push(value);
    }
  }

  get length(): number {
    return this.counted + this.rest.length;
  }

  /** The values in order. Sorts the values kept one by one in place: call it when done pushing. */
  sorted(): Sorted {
    const rv = this.rest.values();
    const rest = sortInPlace(rv);
    const counts = this.counts;
    if (this.counted === 0 || counts === null) return rest;
    const lo = this.lo;
    const hi = this.hi;
    const n = rv.length;
    /** Merges the counted whole milliseconds (ascending by index) with the sorted rest; stops when fn says so. */
    const walk = (fn: (value: number, times: number) => boolean): void => {
      let k = 0;
      const restBelow = (limit: number): boolean => {
        while (k < n && (rv[k] as number) < limit) {
          const v = rv[k] as number;
          let j = k + 1;
          while (j < n && rv[j] === v) j++;
          if (fn(v, j - k)) return true;
          k = j;
        }
        return false;
      };
      for (let ms = lo; ms <= hi; ms++) {
        const c = counts[ms]!;
        if (c === 0) continue;
        if (restBelow(ms)) return;
        let same = 0;
        while (k < n && rv[k] === ms) {
          same++;
          k++;
        }
        if (fn(ms, c + same)) return;
      }
      restBelow(Number.POSITIVE_INFINITY);
    };
    return {
      count: this.counted + rest.count,
      sum: this.countedSum + rest.sum,
      min: rest.count > 0 ? Math.min(lo, rest.min) : lo,
      max: rest.count > 0 ? Math.max(hi, rest.max) : hi,
      atRank(r) {
        let seen = 0;
        let found = Number.NaN;
        walk((v, times) => {
          seen += times;
          if (seen < r) return false;
          found = v;
          return true;
        });
        return found;
      },
      forEach: (fn) =>
        walk((v, times) => {
          fn(v, times);
          return false;
        }),
    };
  }
}
