import { describe, expect, it } from 'vitest';
import { LatencyCollector, sortInPlace, summarize, summarizeInPlace, summarizeSorted } from '../../src/report/percentiles.js';
import { histogramOf } from '../../src/report/render/histogram.js';
import { computeStats, type JobRecord, type OpCounters, type RowRecord, type StatsInput } from '../../src/report/stats.js';

function row(over: Partial<RowRecord> = {}): RowRecord {
  return { status: 'COMPLETED', attempts: 1, expired: 0, lost: 0, delayTime: 100, executionTime: 1000, e2eMs: 1500, ...over };
}
function job(over: Partial<JobRecord> = {}): JobRecord {
  return { status: 'COMPLETED', delayTime: 100, executionTime: 1000, ...over };
}
function input(over: Partial<StatsInput> = {}): StatsInput {
  return { rows: [], jobs: [], ops: {}, wallSeconds: 0, pricePerSecond: null, ...over };
}
const ops = (requests: number, rateLimited = 0, retries = 0, errors = 0): OpCounters => ({ requests, rateLimited, retries, errors });

describe('summarize (nearest-rank)', () => {
  const oneTo100 = Array.from({ length: 100 }, (_, i) => i + 1);
  it.each<[string, ArrayLike<number>, ReturnType<typeof summarize>]>([
    ['1..100', oneTo100, { count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5, min: 1 }],
    ['1..100 reversed', [...oneTo100].reverse(), { count: 100, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5, min: 1 }],
    ['single', [42], { count: 1, p50: 42, p90: 42, p99: 42, max: 42, mean: 42, min: 42 }],
    ['1..10', [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], { count: 10, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5, min: 1 }],
    ['two', [1, 2], { count: 2, p50: 1, p90: 2, p99: 2, max: 2, mean: 1.5, min: 1 }],
    ['rounding', [1.4, 2.6, 3.33], { count: 3, p50: 3, p90: 3, p99: 3, max: 3, mean: 2.4, min: 1 }],
    ['mean 1 decimal', [1, 1, 2], { count: 3, p50: 1, p90: 2, p99: 2, max: 2, mean: 1.3, min: 1 }],
    ['skips non-finite', [Number.NaN, 5, Number.POSITIVE_INFINITY, 3], { count: 2, p50: 3, p90: 5, p99: 5, max: 5, mean: 4, min: 3 }],
    ['Float64Array', Float64Array.from([300, 100, 200]), { count: 3, p50: 200, p90: 300, p99: 300, max: 300, mean: 200, min: 100 }],
    ['numeric not lexicographic', [100, 20, 3], { count: 3, p50: 20, p90: 100, p99: 100, max: 100, mean: 41, min: 3 }],
  ])('%s', (_name, values, expected) => {
    expect(summarize(values)).toEqual(expected);
    // The same figures from a typed buffer sorted where it is (what computeStats does with its collectors).
    expect(summarizeInPlace(Float32Array.from(values))).toEqual(summarize(Float32Array.from(values)));
  });

  it('1..1000: p99 is 990', () => {
    const s = summarize(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(s).toMatchObject({ p50: 500, p90: 900, p99: 990, max: 1000 });
  });

  it.each([[[]], [[Number.NaN]], [new Float64Array(0)]])('null for no values (%j)', (values) => {
    expect(summarize(values)).toBeNull();
  });

  it('does not modify its input', () => {
    const a = Float64Array.from([3, 1, 2]);
    summarize(a);
    expect(Array.from(a)).toEqual([3, 1, 2]);
  });
});

describe('computeStats', () => {
  it('empty input', () => {
    const s = computeStats(input());
    expect(s.rows).toEqual({
      total: 0,
      byStatus: {},
      completed: 0,
      notCompleted: 0,
      failed: 0,
      unfinished: 0,
      attempts: 0,
      resubmitted: 0,
      expired: 0,
      lost: 0,
    });
    expect(s.latencyMs).toEqual({ delay: null, execution: null, endToEnd: null });
    expect(s.timingsMissing).toBe(0);
    expect(s.throughputPerMinute).toBe(0);
    expect(s.billedSeconds).toBe(0);
    expect(s.estimatedCostUsd).toBeNull();
    expect(s.requests).toEqual({ total: ops(0) });
  });

  it('counts rows by status, attempts, resubmissions, expired and lost', () => {
    const s = computeStats(
      input({
        rows: [
          row(),
          row({ attempts: 3, expired: 1 }),
          row({ status: 'FAILED', attempts: 2, lost: 1 }),
          row({ status: 'CANCELLED' }),
          row({ status: 'PENDING', attempts: 0, delayTime: null, executionTime: null, e2eMs: null }),
          row({ status: 'TIMED_OUT', expired: 2 }),
        ],
      }),
    );
    expect(s.rows).toEqual({
      total: 6,
      byStatus: { COMPLETED: 2, FAILED: 1, CANCELLED: 1, PENDING: 1, TIMED_OUT: 1 },
      completed: 2,
      notCompleted: 4,
      failed: 3,
      unfinished: 1,
      attempts: 8,
      resubmitted: 2,
      expired: 3,
      lost: 1,
    });
  });

  it('latency percentiles are exact over rows that have the value', () => {
    const rows: RowRecord[] = [];
    for (let i = 1; i <= 100; i++) rows.push(row({ delayTime: i, executionTime: i * 10, e2eMs: i * 100 }));
    rows.push(row({ status: 'IN_PROGRESS', delayTime: 5000, executionTime: null, e2eMs: null }));
    const s = computeStats(input({ rows }));
    expect(s.latencyMs.execution).toEqual({ count: 100, p50: 500, p90: 900, p99: 990, max: 1000, mean: 505, min: 10 });
    expect(s.latencyMs.endToEnd).toMatchObject({ count: 100, p50: 5000, p90: 9000, p99: 9900, max: 10_000 });
    expect(s.latencyMs.delay).toMatchObject({ count: 101, max: 5000, min: 1 });
  });

  it.each<[string, Partial<RowRecord>, number]>([
    ['completed with timings', {}, 0],
    ['completed, no timings (local test server)', { delayTime: null, executionTime: null }, 1],
    ['completed, no executionTime', { executionTime: null }, 1],
    ['completed, no delayTime', { delayTime: null }, 1],
    ['failed, no timings', { status: 'FAILED', delayTime: null, executionTime: null }, 1],
    ['timed out, no timings', { status: 'TIMED_OUT', delayTime: null, executionTime: null }, 1],
    ['cancelled in queue (delay only)', { status: 'CANCELLED', executionTime: null }, 0],
    ['cancelled, no timings', { status: 'CANCELLED', delayTime: null, executionTime: null }, 1],
    ['pending, no timings (not terminal)', { status: 'PENDING', delayTime: null, executionTime: null }, 0],
    ['in queue, no timings (not terminal)', { status: 'IN_QUEUE', delayTime: null, executionTime: null }, 0],
  ])('timingsMissing: %s → %d', (_name, over, expected) => {
    const s = computeStats(input({ rows: [row(over)] }));
    expect(s.timingsMissing).toBe(expected);
  });

  it('missing timings are not reported as zeros', () => {
    const s = computeStats(
      input({ rows: [row({ delayTime: null, executionTime: null, e2eMs: 20 }), row({ delayTime: 40, executionTime: 80, e2eMs: 40 })] }),
    );
    expect(s.latencyMs.delay).toMatchObject({ count: 1, min: 40 });
    expect(s.latencyMs.execution).toMatchObject({ count: 1, min: 80 });
    expect(s.latencyMs.endToEnd).toMatchObject({ count: 2, min: 20 });
    expect(s.timingsMissing).toBe(1);
  });

  it.each<[string, JobRecord[], number]>([
    ['1 ms → 1 s', [job({ executionTime: 1 })], 1],
    ['1000 ms → 1 s', [job({ executionTime: 1000 })], 1],
    ['1001 ms → 2 s', [job({ executionTime: 1001 })], 2],
    ['0 ms → 0 s', [job({ executionTime: 0 })], 0],
    ['no executionTime → 0', [job({ executionTime: null })], 0],
    ['rounded per job, not in total', [job({ executionTime: 1 }), job({ executionTime: 1 }), job({ executionTime: 1 })], 3],
    [
      'failed, timed-out and cancelled attempts are billed too',
      [
        job({ status: 'FAILED', executionTime: 2500 }),
        job({ status: 'TIMED_OUT', executionTime: 600_000 }),
        job({ status: 'CANCELLED', executionTime: 10 }),
        job({ status: 'COMPLETED', executionTime: 999 }),
      ],
      3 + 600 + 1 + 1,
    ],
  ])('billedSeconds: %s', (_name, jobs, expected) => {
    expect(computeStats(input({ jobs })).billedSeconds).toBe(expected);
  });

  it('billing counts all jobs, not only rows', () => {
    const s = computeStats(
      input({
        rows: [row({ attempts: 2 })],
        jobs: [job({ status: 'FAILED', executionTime: 1500 }), job({ executionTime: 1000 })],
      }),
    );
    expect(s.billedSeconds).toBe(3);
    expect(s.billedSecondsNote).toMatch(/executionTime/);
    expect(s.billedSecondsNote).toMatch(/cold start/);
    expect(s.billedSecondsNote).toMatch(/delayTime/);
  });

  it.each<[number | null, number | null]>([
    [null, null],
    [0, 0],
    [0.00016, 0.00048],
    [0.00116, 0.00348],
    [0.0000001, 0], // 3e-7 rounds to 6 decimals
    [0.0000005, 0.000002], // 1.5e-6 rounds up
  ])('cost with price %s → %s', (pricePerSecond, expected) => {
    const s = computeStats(input({ jobs: [job({ executionTime: 2001 })], pricePerSecond }));
    expect(s.billedSeconds).toBe(3);
    expect(s.estimatedCostUsd).toBe(expected);
  });

  it('cost of a realistic batch is rounded to 6 decimals', () => {
    const jobs = Array.from({ length: 1000 }, () => job({ executionTime: 1234 }));
    const s = computeStats(input({ jobs, pricePerSecond: 0.00019 }));
    expect(s.billedSeconds).toBe(2000);
    expect(s.estimatedCostUsd).toBe(0.38);
  });

  it.each<[number, number, number]>([
    [0, 10, 0],
    [60, 10, 10],
    [30, 10, 20],
    [120, 6, 3],
    [90, 3, 2],
    [-5, 10, 0],
  ])('throughput: %d s wall, %d completed → %d/min', (wallSeconds, completed, expected) => {
    const rows = [...Array.from({ length: completed }, () => row()), row({ status: 'FAILED' })];
    const s = computeStats(input({ rows, wallSeconds }));
    expect(s.throughputPerMinute).toBeCloseTo(expected, 9);
  });

  it('sums op counters into total and copies them', () => {
    const run = ops(10, 2, 3, 1);
    const s = computeStats(input({ ops: { run, status: ops(100, 5, 6, 2), cancel: ops(1), retry: ops(2, 0, 0, 1) } }));
    expect(s.requests.total).toEqual(ops(113, 7, 9, 4));
    expect(s.requests.run).toEqual(run);
    expect(s.requests.status).toEqual(ops(100, 5, 6, 2));
    run.requests = 999;
    expect(s.requests.run!.requests).toBe(10);
    expect(Object.keys(s.requests).sort()).toEqual(['cancel', 'retry', 'run', 'status', 'total']);
  });

  it('an input key named total is recomputed, not added', () => {
    const s = computeStats(input({ ops: { run: ops(3), total: ops(1000) } }));
    expect(s.requests.total).toEqual(ops(3));
  });

  it('iterates generators once (streamable)', () => {
    let rowPasses = 0;
    let jobPasses = 0;
    function* rows() {
      rowPasses++;
      for (let i = 1; i <= 10; i++) yield row({ executionTime: i * 1000 });
    }
    function* jobs() {
      jobPasses++;
      for (let i = 1; i <= 10; i++) yield job({ executionTime: i * 1000 });
    }
    const s = computeStats(input({ rows: rows(), jobs: jobs(), wallSeconds: 60 }));
    expect([rowPasses, jobPasses]).toEqual([1, 1]);
    expect(s.rows.total).toBe(10);
    expect(s.billedSeconds).toBe(55);
    expect(s.latencyMs.execution).toMatchObject({ p50: 5000, max: 10_000 });
  });

  it('handles 1,000,000 rows and jobs', () => {
    const N = 1_000_000;
    function* rows() {
      for (let i = 0; i < N; i++) {
        yield {
          status: i % 10 === 0 ? 'FAILED' : 'COMPLETED',
          attempts: i % 100 === 0 ? 2 : 1,
          expired: 0,
          lost: 0,
          delayTime: i % 1000,
          executionTime: (i % 1000) + 1,
          e2eMs: i % 5000,
        };
      }
    }
    function* jobs() {
      for (let i = 0; i < N; i++) yield { status: 'COMPLETED', delayTime: 0, executionTime: 1 };
    }
    const s = computeStats({ rows: rows(), jobs: jobs(), ops: { run: ops(N) }, wallSeconds: 3600, pricePerSecond: 0.00016 });
    expect(s.rows.total).toBe(N);
    expect(s.rows.completed).toBe(900_000);
    expect(s.rows.resubmitted).toBe(10_000);
    expect(s.latencyMs.execution).toEqual({ count: N, p50: 500, p90: 900, p99: 990, max: 1000, mean: 500.5, min: 1 });
    expect(s.latencyMs.endToEnd).toMatchObject({ count: N, max: 4999, min: 0 });
    expect(s.billedSeconds).toBe(N);
    expect(s.estimatedCostUsd).toBe(160);
    expect(s.throughputPerMinute).toBe(15_000);
  });
});

describe('LatencyCollector: whole ms counted, other values kept', () => {
  // Whole ms below 65,536 go to the count table; fractions, negatives and big values are kept one by one (all exact in
  // Float32 here), including values equal to a counted one (12 as 12.0 from the rest would merge with the counts).
  const mixed = [0, 5, 5, 12, 300.5, 12, 65_535, 65_536, 70_000.25, -3, 0.25, 7, 7, 7, 1_000_000, 5, 41.75, 65_535];
  const cases: [string, number[]][] = [
    ['mixed', mixed],
    ['only counted', [3, 1, 2, 2, 9, 1000, 1]],
    ['only kept', [0.5, 100_000, -1, 2.5]],
    ['one value', [42]],
    ['10,000 pseudo-random', Array.from({ length: 10_000 }, (_, i) => ((i * 7919) % 90_001) + (i % 13 === 0 ? 0.5 : 0))],
  ];
  it.each(cases)('%s: the same summary and histogram as from the plain values', (_name, values) => {
    const c = new LatencyCollector();
    for (const v of values) c.push(v);
    expect(c.length).toBe(values.length);
    const sorted = c.sorted();
    expect(summarizeSorted(sorted)).toEqual(summarize(values));
    expect(histogramOf(sorted)).toEqual(histogramOf(sortInPlace(Float64Array.from(values))));
    // Distinct values ascending, multiplicities adding up.
    const seen: [number, number][] = [];
    sorted.forEach((v, n) => {
      seen.push([v, n]);
    });
    const expected = new Map<number, number>();
    for (const v of [...values].sort((a, b) => a - b)) expected.set(v, (expected.get(v) ?? 0) + 1);
    expect(seen).toEqual([...expected]);
  });

  it('empty: no summary, no histogram', () => {
    const s = new LatencyCollector().sorted();
    expect(s.count).toBe(0);
    expect(summarizeSorted(s)).toBeNull();
    expect(histogramOf(s)).toBeNull();
  });

  it('a million whole-ms values: exact percentiles', () => {
    const c = new LatencyCollector();
    for (let i = 0; i < 1_000_000; i++) c.push(i % 1000);
    const s = summarizeSorted(c.sorted())!;
    expect(s).toEqual({ count: 1_000_000, p50: 499, p90: 899, p99: 989, max: 999, mean: 499.5, min: 0 });
  });
});
