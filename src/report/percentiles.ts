/**
 * Latency summaries: nearest-rank percentiles over one sorted Float64Array copy.
 * Built for large inputs (a million values): typed arrays, one copy, one numeric sort, no per-value objects.
 */

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

/** Nearest-rank percentile of an ascending, non-empty array: the value at rank ceil(p/100 · n) (1-based). */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1] as number;
}

/**
 * Summarises `values` (ms). Non-finite values (NaN, ±Infinity) are skipped; null when no value is left.
 * The input is not modified.
 */
export function summarize(values: ArrayLike<number>): LatencySummary | null {
  return summarizeInPlace(Float64Array.from(values));
}

type NumberArray = Float64Array | Float32Array;

/**
 * `summarize` without the copy, for values no longer needed in their order (a collector's own buffer at the end):
 * non-finite values are dropped and the rest sorted where they are. Saves a Float64Array of every value — 8 MB per
 * summary at a million rows.
 */
export function summarizeInPlace(values: NumberArray): LatencySummary | null {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) {
      values[n++] = v;
      sum += v;
    }
  }
  if (n === 0) return null;
  const data = values.subarray(0, n);
  data.sort();
  return {
    count: n,
    p50: Math.round(nearestRank(data, 50)),
    p90: Math.round(nearestRank(data, 90)),
    p99: Math.round(nearestRank(data, 99)),
    max: Math.round(data[n - 1] as number),
    mean: Math.round((sum / n) * 10) / 10,
    min: Math.round(data[0] as number),
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

/**
 * For latencies, backed by a Float32Array: half the memory for a million values, and exact for whole milliseconds
 * up to 2^24 ms (4.6 hours). Not for epoch timestamps.
 */
export class LatencyCollector extends TypedCollector<Float32Array> {
  constructor(initialCapacity = 1024) {
    super((n) => new Float32Array(n), initialCapacity);
  }
}
