import { storedRow } from '../support/stored-row.js';
import { describe, expect, it } from 'vitest';
import {
  buildReportModel,
  MAX_POINTS,
  normalizeError,
  renderHtml,
  renderMarkdown,
  reportRowOf,
  type ReportInput,
  type ReportJob,
  type ReportModel,
  type ReportRow,
  type ReportSample,
} from '../../src/report/render/index.js';
import { histogramOf } from '../../src/report/render/histogram.js';
import { sortInPlace } from '../../src/report/percentiles.js';
import { SECTION_TITLES } from '../../src/report/render/text.js';
import { retrySeries } from '../../src/report/render/series.js';
import { computeStats, computeStatsWithLatencies, type OpCounters } from '../../src/report/stats.js';
import type { HealthSeen, StoredRow } from '../../src/core/records.js';
import { coldStartSeconds } from '../../src/report/render/cold-starts.js';

const T0 = Date.UTC(2026, 0, 5, 22, 0, 0);

function row(i: number, over: Partial<ReportRow> = {}): ReportRow {
  return { id: `r${i}`, status: 'COMPLETED', attempts: 1, e2eMs: 1500, delayTime: 100, executionTime: 1000, error: null, line: i, ...over };
}

function job(i: number, over: Partial<ReportJob> = {}): ReportJob {
  return {
    jobId: `j${i}`,
    rowKey: `k${i}`,
    attempt: 1,
    submittedAt: T0 + i * 1000,
    finishedAt: T0 + i * 1000 + 1500,
    status: 'COMPLETED',
    delayTime: 100,
    executionTime: 1000,
    error: null,
    ...over,
  };
}

/** A ReportInput whose stats come from computeStats over the same rows and jobs (as the CLI will do). */
/** The report rows as computeStats reads them. */
function statsRowsOf(rows: ReportRow[]) {
  return rows.map((r) => ({
    status: r.status,
    attempts: r.attempts,
    expired: 0,
    lost: 0,
    delayTime: r.delayTime,
    executionTime: r.executionTime,
    e2eMs: r.e2eMs,
  }));
}

function input(o: {
  rows?: ReportRow[];
  jobs?: ReportJob[];
  samples?: ReportSample[];
  price?: number | null;
  ops?: Record<string, OpCounters>;
  coldStartThresholdMs?: number;
  title?: string;
  healthSeen?: HealthSeen | null;
}): ReportInput {
  const rows = o.rows ?? [];
  const jobs = o.jobs ?? [];
  const price = o.price === undefined ? null : o.price;
  const stats = computeStats({
    rows: statsRowsOf(rows),
    jobs,
    ops: o.ops ?? {},
    wallSeconds: 60,
    pricePerSecond: price,
  });
  return {
    title: o.title ?? 'in.jsonl',
    generatedAt: T0 + 3600_000,
    endpoint: 'ep1',
    stats,
    pricePerSecond: price,
    priceSource: price === null ? 'unknown' : `explicit $${price}/s`,
    jobs,
    rows,
    samples: o.samples ?? [],
    coldStartThresholdMs: o.coldStartThresholdMs,
    outDir: 'in.runpod',
    healthSeen: o.healthSeen ?? null,
  };
}

/** The `<svg data-chart="name">…</svg>` element of a chart. */
function chart(html: string, name: string): string {
  const m = new RegExp(`<svg data-chart="${name}"[\\s\\S]*?</svg>`).exec(html);
  if (!m) throw new Error(`no chart ${name}`);
  return m[0];
}

function count(s: string, re: RegExp): number {
  return s.match(re)?.length ?? 0;
}

describe('latency histograms', () => {
  const uniform = Array.from({ length: 1000 }, (_, i) => i + 1);
  const longTail = [...Array.from({ length: 1000 }, (_, i) => 100 + (i % 50)), 20_000, 45_000, 60_000];
  const withZeros = [0, 0, 0, 5, 10, 200, 3000, 90_000];
  it.each<[string, number[], 'linear' | 'log']>([
    ['single value', [250], 'linear'],
    ['one value repeated', [7, 7, 7, 7], 'linear'],
    ['uniform 1..1000', uniform, 'linear'],
    ['narrow normal-ish', [950, 1000, 1010, 1020, 990, 1005, 1100, 980], 'linear'],
    ['long tail (cold starts)', longTail, 'log'],
    ['zeros and a tail', withZeros, 'log'],
    ['sub-millisecond', [0.1, 0.2, 0.3, 0.5], 'linear'],
  ])('%s: counts add up, every value in its bin', (_name, values, scale) => {
    const h = histogramOf(sortInPlace(Float64Array.from(values)))!;
    expect(h.scale).toBe(scale);
    expect(h.edges).toHaveLength(h.counts.length + 1);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    expect(h.count).toBe(values.length);
    for (let i = 1; i < h.edges.length; i++) expect(h.edges[i]!).toBeGreaterThan(h.edges[i - 1]!);
    expect(h.edges[0]!).toBeLessThanOrEqual(Math.min(...values));
    expect(h.edges[h.edges.length - 1]!).toBeGreaterThanOrEqual(Math.max(...values));
    // Recount with the documented rule (edges[i] <= v < edges[i+1], the last bin closed).
    const recount = h.counts.map(() => 0);
    for (const v of values) {
      let b = h.edges.findIndex((e, i) => i < h.counts.length && v >= e && (v < h.edges[i + 1]! || i === h.counts.length - 1));
      if (b < 0) b = 0;
      recount[b]!++;
    }
    expect(h.counts).toEqual(recount);
  });

  it('empty: null, and "no data" in the chart', () => {
    expect(histogramOf(sortInPlace(new Float64Array(0)))).toBeNull();
    const html = renderHtml(buildReportModel(input({})));
    expect(chart(html, 'latency-delay')).toContain('no data');
  });

  it('model histograms count every row value, as in stats.json', () => {
    const rows = Array.from({ length: 300 }, (_, i) =>
      row(i + 1, { delayTime: i % 7 === 0 ? null : 50 + i, executionTime: 1000 + i * 3, e2eMs: 2000 + i * 5 }),
    );
    const inp = input({ rows });
    const m = buildReportModel(inp);
    const sum = (h: { counts: number[] } | null): number => h!.counts.reduce((a, b) => a + b, 0);
    expect(sum(m.latency.delay)).toBe(rows.filter((r) => r.delayTime !== null).length);
    expect(sum(m.latency.execution)).toBe(300);
    expect(sum(m.latency.endToEnd)).toBe(300);
    for (const k of ['delay', 'execution', 'endToEnd'] as const) {
      const s = inp.stats.latencyMs[k]!;
      expect(m.latency[k]).toMatchObject({ count: s.count, p50: s.p50, p90: s.p90, p99: s.p99, min: s.min, max: s.max, mean: s.mean });
    }
  });
});

describe('percentile markers', () => {
  it.each<[string, number[], [number, number, number]]>([
    ['1..100', Array.from({ length: 100 }, (_, i) => i + 1), [50, 90, 99]],
    ['1..1000 ×10 ms', Array.from({ length: 1000 }, (_, i) => (i + 1) * 10), [5000, 9000, 9900]],
    ['long tail', [...Array.from({ length: 98 }, () => 200), 30_000, 40_000], [200, 200, 30_000]],
  ])('%s: line.pct at p50/p90/p99, left to right', (_name, values, [p50, p90, p99]) => {
    const m = buildReportModel(input({ rows: values.map((v, i) => row(i + 1, { executionTime: v })) }));
    expect(m.latency.execution).toMatchObject({ p50, p90, p99 });
    const svg = chart(renderHtml(m), 'latency-execution');
    const lines = [...svg.matchAll(/<line class="pct" data-label="(p\d+)" data-value="([\d.]+)" x1="([\d.]+)"/g)].map((x) => ({
      label: x[1],
      value: Number(x[2]),
      x: Number(x[3]),
    }));
    expect(lines.map((l) => [l.label, l.value])).toEqual([
      ['p50', p50],
      ['p90', p90],
      ['p99', p99],
    ]);
    expect(lines[0]!.x).toBeLessThanOrEqual(lines[1]!.x);
    expect(lines[1]!.x).toBeLessThanOrEqual(lines[2]!.x);
    // Labels name the values.
    expect(svg).toMatch(/>p50 [^<]+</);
    expect(svg).toMatch(/>p99 [^<]+</);
  });
});

describe('failure grouping', () => {
  const oom = (msg = 'CUDA out of memory') =>
    JSON.stringify({
      error_type: 'OutOfMemoryError',
      error_message: msg,
      error_traceback: 'Traceback (most recent call last):\n  File "h.py", line 3\nOutOfMemoryError: ' + msg,
    });

  it.each<[string, string | null, string, { type: string | null; message: string; traceback: boolean }]>([
    ['RunPod JSON string', oom(), 'FAILED', { type: 'OutOfMemoryError', message: 'CUDA out of memory', traceback: true }],
    ['double-encoded JSON', JSON.stringify(oom('x')), 'FAILED', { type: 'OutOfMemoryError', message: 'x', traceback: true }],
    [
      'handler {"error": "..."}',
      JSON.stringify({ error: 'bad prompt' }),
      'FAILED',
      { type: null, message: 'bad prompt', traceback: false },
    ],
    [
      'nested {"error": {...}}',
      JSON.stringify({ error: { error_type: 'E', error_message: 'm' } }),
      'FAILED',
      { type: 'E', message: 'm', traceback: false },
    ],
    ['plain string', 'ValueError: prompt is empty', 'FAILED', { type: null, message: 'ValueError: prompt is empty', traceback: false }],
    ['not quite JSON', '{oops', 'FAILED', { type: null, message: '{oops', traceback: false }],
    ['no message', null, 'TIMED_OUT', { type: null, message: '(no error message; TIMED_OUT)', traceback: false }],
  ])('normalizeError: %s', (_name, raw, status, want) => {
    const e = normalizeError(raw, `(no error message; ${status})`);
    expect({ type: e.type, message: e.message, traceback: e.traceback !== null }).toEqual(want);
  });

  it('groups rows by type + message (JSON vs plain), counts rows and jobs, keeps example ids', () => {
    const rows: ReportRow[] = [
      row(1, { status: 'FAILED', error: oom() }),
      row(2),
      row(3, { status: 'FAILED', error: oom() }),
      row(4, { status: 'FAILED', error: oom('other message') }),
      row(5, { status: 'FAILED', error: 'plain failure' }),
      row(6, { status: 'FAILED', error: 'plain failure' }),
      row(7, { status: 'FAILED', error: 'plain failure' }),
      row(8, { status: 'TIMED_OUT', error: 'TIMED_OUT' }), // the store puts the status when there is no message
      row(9, { status: 'PENDING', error: null }), // not finished: not a failure
      row(10, { id: 10, status: 'FAILED', error: oom() }),
    ];
    const jobs: ReportJob[] = [
      job(1, { status: 'FAILED', error: oom() }),
      job(2, { status: 'FAILED', error: oom() }), // an attempt retried later
      job(3, { status: 'LOST', error: null, delayTime: null, executionTime: null }),
      job(4, { status: 'EXPIRED', error: null }),
      job(5, { status: 'TIMED_OUT', error: null }),
      job(6, { status: 'COMPLETED' }),
    ];
    const m = buildReportModel(input({ rows, jobs }));
    const g = Object.fromEntries(m.failures.groups.map((x) => [x.key, x]));
    expect(m.failures.failedRows).toBe(8);
    expect(m.failures.groups.map((x) => [x.key, x.rows])).toEqual([
      ['OutOfMemoryError: CUDA out of memory', 3],
      ['plain failure', 3],
      ['(no error message; TIMED_OUT)', 1],
      ['OutOfMemoryError: other message', 1],
    ]);
    expect(g['OutOfMemoryError: CUDA out of memory']).toMatchObject({ jobs: 2, exampleIds: ['r1', 'r3', '10'], statuses: { FAILED: 3 } });
    expect(g['(no error message; TIMED_OUT)']).toMatchObject({ jobs: 1, statuses: { TIMED_OUT: 1 } });
    expect(g['OutOfMemoryError: CUDA out of memory']!.traceback).toContain('OutOfMemoryError: CUDA out of memory');
    expect(m.failures.jobs).toEqual({ failed: 2, timedOut: 1, cancelled: 0, lost: 1, expired: 1, emptyOutput: 0, outputError: 0 });
    const md = renderMarkdown(m);
    expect(md).toContain('LOST 1');
    expect(md).toContain('EXPIRED 1');
  });

  it('attempts the output checks caught are counted, and their extracted errors grouped like FAILED ones', () => {
    const vllm = JSON.stringify({ message: 'prompt too long', type: 'worker_error' });
    const rows = [
      row(1, { status: 'FAILED', error: vllm }),
      row(2, { status: 'COMPLETED', error: null }),
      row(3, { status: 'FAILED', error: 'empty output: the job COMPLETED with no output.' }),
    ];
    const jobs = [
      job(1, { status: 'OUTPUT_ERROR', error: vllm }),
      job(2, { status: 'EMPTY_OUTPUT', error: 'empty output: the job COMPLETED with no output.' }),
      job(3, { status: 'COMPLETED' }),
      job(4, { status: 'EMPTY_OUTPUT', error: 'empty output: the job COMPLETED with no output.' }),
      job(5, { status: 'EMPTY_OUTPUT', error: 'empty output: the job COMPLETED with no output.' }),
    ];
    const m = buildReportModel(input({ rows, jobs }));
    expect(m.failures.jobs).toMatchObject({ failed: 0, emptyOutput: 3, outputError: 1 });
    const g = Object.fromEntries(m.failures.groups.map((x) => [x.key, x]));
    expect(g['worker_error: prompt too long']).toMatchObject({ rows: 1, jobs: 1, type: 'worker_error', message: 'prompt too long' });
    expect(g['empty output: the job COMPLETED with no output.']).toMatchObject({ rows: 1, jobs: 3 });
    expect(renderMarkdown(m)).toContain('EMPTY_OUTPUT 3');
    expect(renderHtml(m)).toContain('OUTPUT_ERROR 1');
  });

  it('distinct errors are bounded (one "other" group past the limit)', () => {
    const rows = Array.from({ length: 700 }, (_, i) => row(i + 1, { status: 'FAILED', error: `error number ${i}` }));
    const m = buildReportModel(input({ rows }));
    expect(m.failures.distinct).toBeLessThanOrEqual(501);
    expect(m.failures.groups.length).toBeLessThanOrEqual(20);
    expect(m.failures.groups[0]!.key).toBe('(other errors)');
    expect(m.failures.groups[0]!.rows).toBe(200);
  });
});

describe('cold starts', () => {
  const delays = [100, 120, 150, 200, 300, 2500, 5000, 30_000];
  it.each<[string, number | undefined, number, number]>([
    ['threshold 2000 ms', 2000, 3, 2000],
    ['threshold 4000 ms', 4000, 2, 4000],
    ['threshold 0 ms', 0, 8, 0],
    // Default: max(2000, 3 × median); the median (nearest rank) of the 8 delays is 200 → 2000.
    ['default threshold', undefined, 3, 2000],
  ])('%s', (_name, threshold, count, usedThreshold) => {
    const jobs = delays.map((d, i) => job(i + 1, { delayTime: d }));
    const m = buildReportModel(input({ jobs, coldStartThresholdMs: threshold, price: 0.001 }));
    const cold = delays.filter((d) => d > usedThreshold);
    expect(m.coldStarts.count).toBe(count);
    expect(m.coldStarts.thresholdMs).toBe(usedThreshold);
    expect(m.coldStarts.jobsWithDelay).toBe(8);
    expect(m.coldStarts.share).toBeCloseTo(count / 8);
    expect(m.coldStarts.medianDelayMs).toBe(200);
    expect(m.coldStarts.estimatedBilledSeconds).toBeCloseTo(cold.reduce((a, d) => a + d - 200, 0) / 1000, 1);
    expect(m.coldStarts.upperBoundSeconds).toBeCloseTo(cold.reduce((a, d) => a + d, 0) / 1000, 1);
    expect(m.coldStarts.estimatedCostUsd).toBeCloseTo(m.coldStarts.estimatedBilledSeconds * 0.001, 6);
  });

  it('the report says the cold start figure is an estimate', () => {
    const m = buildReportModel(input({ jobs: delays.map((d, i) => job(i + 1, { delayTime: d })) }));
    expect(renderMarkdown(m)).toMatch(/## Cold starts[\s\S]*estimate/);
    expect(renderHtml(m)).toMatch(/id="cold-starts"[\s\S]*These figures are estimates/);
  });
});

describe('slowest rows', () => {
  it('top 10 by end-to-end, descending; ties keep input order; null e2e ignored', () => {
    // A fixed shuffle of 0..49 (×100 ms), with ties at 4000 and a null.
    const e2e = [
      17, 3, 44, 29, 8, 49, 35, 12, 40, 40, 22, 1, 46, 31, 5, 27, 38, 14, 48, 10, 33, 20, 45, 2, 26, 47, 9, 41, 18, 36, 6, 30, 43, 15, 24,
      39, 0, 28, 11, 42, 21, 34, 7, 16, 37, 4, 25, 13, 32, 19,
    ];
    const rows = e2e.map((v, i) => row(i + 1, { e2eMs: v * 100 }));
    rows.push(row(99, { e2eMs: null }));
    const m = buildReportModel(input({ rows }));
    expect(m.slowest.map((r) => r.e2eMs)).toEqual([4900, 4800, 4700, 4600, 4500, 4400, 4300, 4200, 4100, 4000]);
    expect(m.slowest.map((r) => r.id)).toEqual(['r6', 'r19', 'r26', 'r13', 'r23', 'r3', 'r33', 'r40', 'r28', 'r9']);
    const md = renderMarkdown(m);
    const table = md.slice(md.indexOf('## Slowest rows'));
    expect(table.indexOf('| 1 | r6 |')).toBeLessThan(table.indexOf('| 2 | r19 |'));
  });

  it('fewer than 10 rows: all of them', () => {
    const m = buildReportModel(input({ rows: [row(1, { e2eMs: 5 }), row(2, { e2eMs: 50 }), row(3, { e2eMs: 20 })] }));
    expect(m.slowest.map((r) => r.id)).toEqual(['r2', 'r3', 'r1']);
  });
});

describe('cumulative cost', () => {
  const execs = [999, 1000, 1001, 2500, 0, 45_000, 3200, 100];
  const billed = execs.reduce((a, e) => a + (e > 0 ? Math.ceil(e / 1000) : 0), 0);
  it.each<[string, number | null, boolean]>([
    ['with a price', 0.00019, false],
    ['without a price', null, false],
    ['a job without finishedAt', 0.001, true],
  ])('%s: monotone, ends at the total', (_name, price, unfinished) => {
    const jobs = execs.map((e, i) => job(i + 1, { executionTime: e, finishedAt: unfinished && i === 2 ? null : T0 + (8 - i) * 7000 }));
    jobs.push(job(20, { status: 'LOST', executionTime: null, delayTime: null }));
    const m = buildReportModel(input({ jobs, price }));
    const pts = m.cost.points;
    expect(pts.length).toBeGreaterThan(0);
    expect(pts.length).toBeLessThanOrEqual(MAX_POINTS);
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i]!.t).toBeGreaterThan(pts[i - 1]!.t);
      expect(pts[i]!.billedSeconds).toBeGreaterThanOrEqual(pts[i - 1]!.billedSeconds);
    }
    const last = pts[pts.length - 1]!;
    expect(last.billedSeconds).toBe(billed);
    expect(m.cost.totalBilledSeconds).toBe(billed);
    expect(m.summary.billedSeconds).toBe(billed); // = stats.json
    if (price === null) {
      expect(last.usd).toBeNull();
      expect(renderHtml(m)).toContain('pass <code>--price-per-second</code> or <code>--gpu</code>');
      expect(renderMarkdown(m)).toContain('pass --price-per-second or --gpu');
    } else {
      expect(last.usd).toBeCloseTo(billed * price, 6);
      expect(m.cost.totalUsd).toBeCloseTo(billed * price, 6);
      for (let i = 1; i < pts.length; i++) expect(pts[i]!.usd!).toBeGreaterThanOrEqual(pts[i - 1]!.usd!);
    }
    expect(count(chart(renderHtml(m), 'cost'), /class="series"/g)).toBe(1);
  });
});

describe('histograms from the latencies computeStats collected', () => {
  it('are the histograms the rows give', () => {
    const rows = Array.from({ length: 300 }, (_, i) =>
      row(i + 1, { delayTime: (i * 37) % 900, executionTime: 100 + ((i * 53) % 4000), e2eMs: i === 7 ? 60_000 : 200 + ((i * 29) % 5000) }),
    );
    const base = input({ rows });
    const { latencies } = computeStatsWithLatencies({
      rows: statsRowsOf(rows),
      jobs: [],
      ops: {},
      wallSeconds: 60,
      pricePerSecond: null,
    });
    const reused = buildReportModel({ ...base, rowLatencies: latencies });
    const collected = buildReportModel(base);
    expect(reused.latency).toEqual(collected.latency);
    expect(reused.latency.endToEnd!.count).toBe(300);
    expect(reused.slowest[0]!.e2eMs).toBe(60_000);
  });
});

describe('cumulative cost with samples (bucketed while the jobs are read)', () => {
  it('each bill lands at its finish time; a job without one counts at the end', () => {
    // One run sampled every second for 100 s; bills of 5 s at 10 s, 20 s at 90 s, 3 s with no finish time.
    const samples: ReportSample[] = Array.from({ length: 100 }, (_, i) => ({
      runId: 1,
      t: T0 + (i + 1) * 1000,
      inFlight: 1,
      submitted: i + 1,
      completed: i,
      failed: 0,
      rateLimited: 0,
      retries: 0,
    }));
    const jobs = [
      job(1, { executionTime: 5000, finishedAt: T0 + 10_000 }),
      job(2, { executionTime: 20_000, finishedAt: T0 + 90_000 }),
      job(3, { executionTime: 3000, finishedAt: null }),
    ];
    const m = buildReportModel(input({ samples, jobs, price: 0.001 }));
    const at = (ms: number) => m.cost.points.find((p) => p.t >= ms)!.billedSeconds;
    const pts = m.cost.points;
    expect(at(5000)).toBe(0);
    expect(at(50_000)).toBe(5);
    expect(pts[pts.length - 2]!.billedSeconds).toBe(25);
    expect(pts[pts.length - 1]!.billedSeconds).toBe(28);
    expect(m.cost.totalBilledSeconds).toBe(28);
    expect(pts[pts.length - 1]!.usd).toBeCloseTo(0.028, 6);
  });
});

describe('time series from samples', () => {
  /** `n` samples a second of one run, counters cumulative within the run. */
  function run(runId: number, start: number, n: number, perSecond = 2): ReportSample[] {
    return Array.from({ length: n }, (_, i) => ({
      runId,
      t: start + (i + 1) * 1000,
      inFlight: 10 + (i % 5),
      submitted: (i + 1) * perSecond + 10,
      completed: (i + 1) * perSecond,
      failed: Math.floor(i / 100),
      rateLimited: Math.floor(i / 50),
      retries: Math.floor(i / 25),
    }));
  }

  it.each<[string, number]>([
    ['10 samples', 10],
    ['1,000 samples', 1000],
    ['30,000 samples (8 h)', 30_000],
  ])('%s: at most MAX_POINTS points, counts preserved', (_name, n) => {
    const samples = run(1, T0, n);
    const m = buildReportModel(input({ samples, jobs: [job(1, { finishedAt: T0 + n * 500 })] }));
    expect(m.activity.points.length).toBeGreaterThan(0);
    expect(m.activity.points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(m.cost.points.length).toBeLessThanOrEqual(MAX_POINTS);
    const sum = (k: 'completed' | 'failed' | 'rateLimited' | 'retries') => m.activity.points.reduce((a, p) => a + p[k], 0);
    const last = samples[samples.length - 1]!;
    expect(sum('completed')).toBe(last.completed);
    expect(sum('failed')).toBe(last.failed);
    expect(sum('rateLimited')).toBe(last.rateLimited);
    expect(sum('retries')).toBe(last.retries);
    const html = renderHtml(m);
    for (const name of ['throughput', 'in-flight', 'rate-limits']) {
      const svg = chart(html, name);
      for (const pts of svg.matchAll(/data-points="(\d+)"/g)) expect(Number(pts[1])).toBeLessThanOrEqual(MAX_POINTS);
      expect(count(svg, /class="series"/g)).toBeGreaterThan(0);
    }
  });

  it('per run: counters restart at each run; the pause between runs is cut out and marked', () => {
    const r1 = run(1, T0, 600, 2);
    const r2 = run(2, T0 + 600_000 + 3 * 3600_000, 300, 4);
    const m = buildReportModel(input({ samples: [...r1, ...r2] }));
    expect(m.activity.points.reduce((a, p) => a + p.completed, 0)).toBe(1200 + 1200);
    expect(m.timeline.pauseCount).toBe(1);
    expect(m.timeline.pauses[0]).toMatchObject({ newRun: true });
    expect(m.timeline.pauses[0]!.pausedMs).toBeGreaterThan(3 * 3600_000 - 2000);
    // Running time: about 600 s + 300 s, not 3 h.
    expect(m.timeline.elapsedMs).toBeGreaterThan(890_000);
    expect(m.timeline.elapsedMs).toBeLessThan(910_000);
    // Completed per minute: about 120 in run 1, 240 in run 2.
    const mid1 = m.activity.points[Math.floor(m.activity.points.length * 0.3)]!;
    const mid2 = m.activity.points[Math.floor(m.activity.points.length * 0.9)]!;
    expect((mid1.completed * 60_000) / m.activity.bucketMs).toBeCloseTo(120, -1);
    expect((mid2.completed * 60_000) / m.activity.bucketMs).toBeCloseTo(240, -1);
    expect(renderHtml(m)).toContain('resumed after 3 h');
  });
});

describe('HTML safety', () => {
  const evil = '<script>alert("x")</script>';
  it('escapes data: error messages, ids, statuses, title, endpoint', () => {
    const rows = [
      row(1, { id: '<img src=x onerror=alert(1)>', status: 'FAILED', error: evil, e2eMs: 99_000 }),
      row(2, {
        status: 'FAILED',
        error: JSON.stringify({ error_type: '<b>T</b>', error_message: evil, error_traceback: `line\n${evil}` }),
      }),
      row(3, { status: '<i>WEIRD</i>', error: 'x' }),
    ];
    const inp = { ...input({ rows, title: `a${evil}.jsonl` }), endpoint: `"><script>alert(2)</script>` };
    const m = buildReportModel(inp);
    const html = renderHtml(m);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('<b>T</b>');
    expect(html).not.toContain('<i>WEIRD</i>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // A Content-Security-Policy forbids scripts even if something slipped through.
    expect(html).toContain(`content="default-src 'none'`);
    const md = renderMarkdown(m);
    expect(md).not.toMatch(/<script/i);
    expect(md).not.toMatch(/<img/i);
    expect(md).toContain('&lt;script&gt;');
  });

  it('self-contained: no external resources', () => {
    const html = renderHtml(buildReportModel(input({ rows: [row(1)], jobs: [job(1)] })));
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/\b(src|href)=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});

describe('empty and interrupted batches', () => {
  it('empty input: every chart says "no data", nothing throws, the model is JSON', () => {
    const m = buildReportModel(input({}));
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    const html = renderHtml(m);
    for (const name of ['latency-delay', 'latency-execution', 'latency-e2e', 'throughput', 'in-flight', 'cost', 'rate-limits']) {
      const svg = chart(html, name);
      expect(svg, name).toContain('no data');
      expect(count(svg, /class="(bar|series)"/g), name).toBe(0);
    }
    expect(chart(html, 'status')).toContain('no rows');
    expect(m.nextStep.text).toMatch(/No rows/);
    const md = renderMarkdown(m);
    expect(md).toContain('no data');
  });

  it('a model is plain JSON (no NaN/undefined) for a realistic input too', () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(i + 1, { delayTime: i === 3 ? null : 100 + i }));
    const jobs = Array.from({ length: 50 }, (_, i) => job(i + 1));
    const m = buildReportModel(input({ rows, jobs, price: 0.0002 }));
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it.each<[string, ReportRow[], RegExp, string]>([
    ['all completed', [row(1), row(2)], /^All 2 rows completed/, 'ok'],
    [
      'failures',
      [row(1), row(2, { status: 'FAILED', error: 'x' }), row(3, { status: 'TIMED_OUT' })],
      /^2 rows failed \(FAILED 1, TIMED_OUT 1\): see in\.runpod\/errors\.jsonl; `runpod-batch retry in\.runpod`/,
      'error',
    ],
    ['interrupted', [row(1), row(2, { status: 'PENDING' }), row(3, { status: 'IN_PROGRESS' })], /^2 rows did not finish .*resume/, 'warn'],
  ])('what to do next: %s', (_name, rows, text, tone) => {
    const m = buildReportModel(input({ rows }));
    expect(m.nextStep.text).toMatch(text);
    expect(m.nextStep.tone).toBe(tone);
    expect(renderMarkdown(m)).toContain('**Next:**');
    expect(renderHtml(m)).toContain(`class="next ${tone}"`);
  });

  it('no price: says how to get a cost estimate', () => {
    const m = buildReportModel(input({ rows: [row(1)], jobs: [job(1)] }));
    expect(m.summary.estimatedCostUsd).toBeNull();
    expect(renderMarkdown(m)).toContain('unknown: pass --price-per-second or --gpu');
    expect(renderHtml(m)).toContain('pass --price-per-second or --gpu');
  });
});

describe('markdown', () => {
  function full(): ReportModel {
    const rows = Array.from({ length: 40 }, (_, i) =>
      row(i + 1, { e2eMs: 1000 + i * 10, status: i === 5 ? 'FAILED' : 'COMPLETED', error: i === 5 ? 'boom | pipe' : null }),
    );
    const jobs = Array.from({ length: 40 }, (_, i) => job(i + 1, { delayTime: i === 7 ? 9000 : 100 }));
    const samples = Array.from({ length: 60 }, (_, i) => ({
      runId: 1,
      t: T0 + (i + 1) * 1000,
      inFlight: 5,
      submitted: i + 1,
      completed: i,
      failed: 0,
      rateLimited: i > 30 ? 3 : 0,
      retries: i > 30 ? 3 : 0,
    }));
    return buildReportModel(
      input({
        rows,
        jobs,
        samples,
        price: 0.0004,
        ops: {
          run: { requests: 44, rateLimited: 3, retries: 3, errors: 0 },
          status: { requests: 80, rateLimited: 0, retries: 0, errors: 1 },
        },
      }),
    );
  }

  it.each([[full()], [buildReportModel(input({}))]])('contains every section heading (%#)', (m) => {
    const md = renderMarkdown(m);
    for (const title of Object.values(SECTION_TITLES)) expect(md).toContain(`\n## ${title}\n`);
    expect(md.startsWith('# runpod-batch report: in.jsonl')).toBe(true);
    const html = renderHtml(m);
    for (const title of Object.values(SECTION_TITLES)) expect(html).toContain(`<h2>${title}</h2>`);
  });

  it('tables stay tables: a "|" in data is escaped; requests per operation listed', () => {
    const md = renderMarkdown(full());
    expect(md).toContain('boom \\| pipe');
    expect(md).toMatch(/\| \/run \| 44 \| 3 \| 3 \| 0 \|/);
    expect(md).toMatch(/\| \*\*total\*\* \| 124 \| 3 \| 3 \| 1 \|/);
    expect(md).toMatch(/\$\d/); // a cost figure
  });

  it("says which figures are estimates and which are RunPod's", () => {
    const md = renderMarkdown(full());
    expect(md).toMatch(/## Where the figures come from[\s\S]*RunPod's figures[\s\S]*Estimates/);
  });
});

describe('reportRowOf (store adapter)', () => {
  const stored = (over: Partial<StoredRow>): StoredRow => storedRow(over);
  it.each<[string, Partial<StoredRow>, Partial<ReportRow>]>([
    ['string id', {}, { id: 'a-1', status: 'COMPLETED', line: 3, e2eMs: 40, error: null }],
    ['numeric id', { idJson: '42' }, { id: 42 }],
    ['in flight: the job status', { state: 'SUBMITTED', jobStatus: 'IN_PROGRESS' }, { status: 'IN_PROGRESS' }],
    ['failed keeps its error', { state: 'FAILED', error: 'boom' }, { status: 'FAILED', error: 'boom' }],
    ['completed after a failed attempt: no error', { error: 'old' }, { error: null }],
  ])('%s', (_name, over, want) => {
    expect(reportRowOf(stored(over))).toMatchObject(want);
  });
});

describe('failures that a retry recovered', () => {
  it('are shown apart and neutrally, not as failures of the batch', () => {
    const rows = [row(1), row(2)];
    const jobs = [job(1), job(2), job(3, { status: 'FAILED', error: 'EmulatedFault: first attempt' })];
    const m = buildReportModel(input({ rows, jobs }));
    const html = renderHtml(m);
    const section = html.slice(
      html.indexOf('<section id="failures">'),
      html.indexOf('</section>', html.indexOf('<section id="failures">')),
    );
    expect(section).toContain('No failures: no row ended FAILED, TIMED_OUT or CANCELLED.');
    expect(section).toContain('Recovered by a retry');
    expect(section).toContain('EmulatedFault');
    expect(section).not.toContain('Failures by error');
    expect(section).not.toContain('<svg');
    const mdText = renderMarkdown(m);
    expect(mdText).toContain('**Recovered by a retry**');
    expect(mdText).toContain('No failures');
  });

  it('next to failures of the batch, the failed ones get the bars and the recovered ones their own table', () => {
    const rows = [row(1), row(2, { status: 'FAILED', error: 'OOM' })];
    const jobs = [job(1), job(2, { status: 'FAILED', error: 'OOM' }), job(3, { status: 'FAILED', error: 'flaky' })];
    const html = renderHtml(buildReportModel(input({ rows, jobs })));
    const section = html.slice(
      html.indexOf('<section id="failures">'),
      html.indexOf('</section>', html.indexOf('<section id="failures">')),
    );
    expect(section).toContain('Failures by error');
    const recovered = section.slice(section.indexOf('Recovered by a retry'));
    expect(recovered).toContain('flaky');
    expect(recovered).not.toContain('OOM');
  });
});

describe('retries over time', () => {
  it('a short run shows retries as counts per bucket, not as rates per minute blown up from a few seconds', () => {
    // 12 s of samples, 9 retries within the first 2 s.
    const samples = Array.from({ length: 12 }, (_, i) => ({
      runId: 1,
      t: T0 + i * 1000,
      inFlight: 5,
      submitted: i * 10,
      completed: i * 10,
      failed: 0,
      rateLimited: 0,
      retries: i >= 1 ? 9 : 0,
    }));
    const m = buildReportModel(input({ rows: [row(1)], jobs: [job(1)], samples }));
    const s = retrySeries(m);
    expect(s.perMinute).toBe(false);
    expect(s.unit).toMatch(/^per [\d.]+ s$/);
    expect(Math.max(...s.retries)).toBe(9);
    expect(s.retries.reduce((a, b) => a + b, 0)).toBe(9);
    expect(renderHtml(m)).toContain(`retries ${s.unit}`);
  });

  it('a long run keeps rates per minute, averaged over about a minute', () => {
    const samples = Array.from({ length: 3600 }, (_, i) => ({
      runId: 1,
      t: T0 + i * 1000,
      inFlight: 5,
      submitted: i,
      completed: i,
      failed: 0,
      rateLimited: 0,
      retries: Math.floor(i / 10),
    }));
    const s = retrySeries(buildReportModel(input({ rows: [row(1)], jobs: [job(1)], samples })));
    expect(s.perMinute).toBe(true);
    const mid = s.retries[Math.floor(s.retries.length / 2)]!;
    expect(mid).toBeCloseTo(6, 0); // one retry per 10 s
  });
});

describe('cold starts from each worker’s first job', () => {
  it('a queue-inflated median no longer hides them: each worker’s first job', () => {
    const jobs: ReportJob[] = [];
    // 4 workers, each cold for 1.5 s on its first job; 40 more jobs wait 2.5 s in the queue; one found a warm worker at once.
    for (let w = 0; w < 4; w++) jobs.push(job(w, { workerId: `w${w}`, submittedAt: T0, delayTime: 1500 + w * 10 }));
    for (let i = 0; i < 40; i++) jobs.push(job(10 + i, { workerId: `w${i % 4}`, submittedAt: T0 + 100, delayTime: 2500 }));
    jobs.push(job(99, { workerId: 'w0', submittedAt: T0 + 20_000, delayTime: 30 }));
    const m = buildReportModel(input({ rows: [row(1)], jobs }));
    const c = m.coldStarts;
    expect(c.method).toBe('first-job');
    expect(c.workers).toBe(4);
    expect(c.count).toBe(4);
    expect(c.shortestColdMs).toBe(1500);
    expect(c.estimatedBilledSeconds).toBe(6); // 4 × 1.5 s
    expect(c.upperBoundSeconds).toBe(6.1); // 1.5 + 1.51 + 1.52 + 1.53

    expect(renderMarkdown(m)).toMatch(/4 of 4 workers had a cold start/);
    // The threshold guide is not drawn in this mode (it sat beyond the axis before).
    expect(renderHtml(m)).not.toContain('data-label="cold start &gt;"');
  });

  it('a warm (active) worker’s first job is not a cold start', () => {
    const jobs = [
      job(1, { workerId: 'a', delayTime: 40 }),
      job(2, { workerId: 'a', delayTime: 30 }),
      job(3, { workerId: 'b', delayTime: 2000 }),
    ];
    const c = buildReportModel(input({ rows: [row(1)], jobs })).coldStarts;
    expect(c.count).toBe(1);
    expect(c.estimatedBilledSeconds).toBe(2);
  });

  // An autoscaler adds the workers after their first jobs have waited (queue delay: 4 s), then each boots 3 s: ten
  // workers in one wave, each first job waiting 7.9 s. The jobs cannot tell the scaler's wait from the boot; /health's
  // initializing workers can: ten workers seen starting by one read each, 3 s apart.
  const oneWave = () => Array.from({ length: 10 }, (_, w) => job(w, { workerId: `w${w}`, submittedAt: T0, delayTime: 7900 + w }));
  it.each([
    ['no /health read: the jobs’ estimate', null, 'jobs', 79],
    ['/health saw 10 workers starting for one 3 s read each', { initializingMs: 30_000, reads: 40 }, 'health', 30],
    [
      '/health read, but never saw a worker starting (an endpoint that does not report it): the jobs’ estimate',
      { initializingMs: 0, reads: 40 },
      'jobs',
      79,
    ],
    ['a single read: no interval to count', { initializingMs: 0, reads: 1 }, 'jobs', 79],
  ] as [string, HealthSeen | null, 'health' | 'jobs', number][])('%s', (_name, healthSeen, from, seconds) => {
    const m = buildReportModel(input({ rows: [row(1)], jobs: oneWave(), healthSeen }));
    const c = m.coldStarts;
    expect(c.count).toBe(10);
    expect(c.estimateFrom).toBe(from);
    expect(c.estimatedBilledSeconds).toBeCloseTo(seconds, 1);
    expect(c.upperBoundSeconds).toBeCloseTo(79, 0);
    const md = renderMarkdown(m);
    expect(md).toContain(`Estimated billed cold-start time: ${seconds} s`);
    if (from === 'health') {
      expect(md).toMatch(/showed starting \(`initializing`\), summed over 40 reads/);
      expect(md).toContain("What it estimates: the workers' boots");
      expect(renderHtml(m)).toContain('workers starting in 40 /health reads');
    }
  });

  it.each([
    ['jobs show cold starts, /health saw them', { seconds: 79, count: 10 }, { initializingMs: 31_000, reads: 12 }, 31, 'health'],
    [
      'no cold start in the jobs, /health saw none: 0 from /health',
      { seconds: 0, count: 0 },
      { initializingMs: 0, reads: 12 },
      0,
      'health',
    ],
    [
      'workers started but ran no job (stopped before any): /health counts their boots',
      { seconds: 0, count: 0 },
      { initializingMs: 6000, reads: 12 },
      6,
      'health',
    ],
    ['cold starts in the jobs, /health never says initializing', { seconds: 79, count: 10 }, { initializingMs: 0, reads: 12 }, 79, 'jobs'],
    ['no /health', { seconds: 12.5, count: 3 }, null, 12.5, 'jobs'],
    [
      'a run of the batch was not watched (a fixed --concurrency): the jobs, which cover every run',
      { seconds: 40, count: 8 },
      { initializingMs: 12_000, reads: 12, unwatched: true },
      40,
      'jobs',
    ],
  ] as [string, { seconds: number; count: number }, HealthSeen | null, number, string][])(
    'coldStartSeconds: %s',
    (_name, jobs, seen, seconds, from) => {
      expect(coldStartSeconds(jobs, seen)).toEqual({ seconds, from });
    },
  );

  it('without workerIds: the delayTime threshold, as before', () => {
    const c = buildReportModel(input({ rows: [row(1)], jobs: [job(1, { delayTime: 100 }), job(2, { delayTime: 9000 })] })).coldStarts;
    expect(c.method).toBe('threshold');
    expect(c.count).toBe(1);
  });
});

describe('the in-flight target in the report', () => {
  const point = (t: number, target: number, reason: string) => ({ t, target, mode: reason.split(':')[0]!, reason });
  it('says the latest target and why, and lists the mode changes (HTML escaped)', () => {
    const changes = [
      { runId: 1, ...point(T0, 10, 'starting: no /health seen yet') },
      { runId: 1, ...point(T0 + 3000, 50, 'growing: 40 idle workers') },
      { runId: 1, ...point(T0 + 30_000, 70, 'holding: 60 workers, queue 8 <b>') },
    ];
    const m = buildReportModel({ ...input({}), sizing: { runId: 1, current: changes[2]!, changes } });
    const md = renderMarkdown(m);
    expect(md).toContain('**In-flight target** (`--concurrency auto`): 70 at ');
    expect(md).toMatch(/\| growing: 40 idle workers \|/);
    expect(md).toMatch(/\| \d\d:\d\d:\d\d UTC \| 10 \| starting: no \/health seen yet \|/);
    const html = renderHtml(m);
    expect(html).toContain('<b>In-flight target</b>');
    expect(html).toContain('holding: 60 workers, queue 8 &lt;b&gt;');
    expect(html).not.toContain('queue 8 <b>');
  });
  it('without auto-sizing, says nothing of it', () => {
    const m = buildReportModel(input({}));
    expect(m.sizing).toBeNull();
    expect(renderMarkdown(m)).not.toContain('In-flight target');
  });
});
