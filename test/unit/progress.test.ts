import { describe, expect, it } from 'vitest';
import { type BatchProgress, PaceWindow, progressOf } from '../../src/batch/progress.js';
import { formatDuration, progressLine } from '../../src/cli/progress.js';
import type { Progress } from '../../src/engine/scheduler.js';

const base: BatchProgress = {
  sizing: null,
  total: 10_000,
  done: 1840,
  completed: 1828,
  completedThisRun: 1828,
  completedResumed: 0,
  failed: 12,
  inFlight: 100,
  waiting: 8060,
  submitted: 1940,
  requeued: 0,
  elapsedMs: 4 * 60_000,
  paused: null,
  runRate: null,
  retrying: null,
  billedSeconds: 0,
  billedJobs: 0,
  runSlots: { now: 8, peak: 8 },
  spentUsd: null,
  projectedUsd: null,
  ratePerMinute: 457,
  etaMs: 1_071_000,
};

describe('progressLine', () => {
  it.each([
    ['counts, rate and ETA', base, /^1840\/10000 done · 12 failed · 100 in flight · 8060 waiting · 457\/min · ETA 17m51s$/],
    ['money spent and projected', { ...base, spentUsd: 1.372, projectedUsd: 7.449 }, /\$1\.37 spent of ~\$7\.45/],
    ['why it waits', { ...base, paused: { op: 'run', reason: '429 on /run', ms: 3200 } }, /paused 4 s: 429 on \/run$/],
    ['the pace after 429s', { ...base, runRate: 87.34 }, /\/run paced at 87\.3\/s after 429s$/],
    ['no ETA while the pace is unknown', { ...base, ratePerMinute: 0, etaMs: null }, /0\/min$/],
    ['rows retried', { ...base, requeued: 93 }, /12 failed · 93 retried · 100 in flight/],
    ['what it retries', { ...base, retrying: { label: 'ECONNREFUSED', count: 3, of: 25 } }, /retrying: ECONNREFUSED 3\/25$/],
  ])('%s', (_n, p, re) => expect(progressLine(p as BatchProgress)).toMatch(re));

  it.each([80, 60, 40, 25, 12])('fits %i columns, dropping the least important fields first', (width) => {
    const p = { ...base, requeued: 93, spentUsd: 1.372, projectedUsd: 7.449, retrying: { label: 'HTTP 502', count: 2, of: 25 } };
    const line = progressLine(p, width);
    expect(line.length).toBeLessThanOrEqual(width);
    expect(line.startsWith('1840/10000')).toBe(true);
    if (width >= 60) expect(line).toMatch(/retrying: HTTP 502 2\/25/);
    if (width >= 80) expect(line).toMatch(/12 failed · 100 in flight/);
    if (width < 120) expect(line).not.toMatch(/waiting/);
  });

  it('keeps the whole line when it fits', () => {
    expect(progressLine(base, 200)).toBe(progressLine(base));
  });
});

describe('PaceWindow', () => {
  it('is the whole run for the first minute, then the last minute', () => {
    const w = new PaceWindow(60_000);
    expect(w.add(10_000, 100)).toBe(600); // 100 rows in 10 s
    expect(w.add(30_000, 300)).toBe(600);
    // Slower from then on: 1 row a second for the next minute.
    for (let t = 31_000; t <= 90_000; t += 1000) w.add(t, 300 + (t - 30_000) / 1000);
    expect(w.add(91_000, 361)).toBeCloseTo(60, 0);
  });
});

describe('progressOf', () => {
  const p: Progress = {
    sizing: null,
    inFlight: 10,
    submitted: 50,
    completed: 40,
    completedResumed: 30,
    failed: 0,
    requeued: 0,
    paused: null,
    runRate: null,
    retrying: null,
    billedSeconds: 40,
    billedJobs: 40,
    runSlots: { now: 8, peak: 8 },
  };
  it('the ETA is the rows left at the pace given, not at the pace of re-attached jobs', () => {
    const b = progressOf({ PENDING: 100, SUBMITTED: 30 }, p, 60_000, 0, null, 10);
    expect(b).toMatchObject({ total: 130, done: 40, waiting: 80, ratePerMinute: 10 });
    expect(b.etaMs).toBe((90 / 10) * 60_000);
  });
});

describe('formatDuration', () => {
  it.each([
    [999, '1s'],
    [59_000, '59s'],
    [61_000, '1m01s'],
    [3_600_000 + 120_000, '1h02m'],
  ])('%d ms → %s', (ms, s) => expect(formatDuration(ms)).toBe(s));
});

describe('the progress line with auto-sizing', () => {
  it('shows the target and why, and drops it first on a narrow terminal', () => {
    const p: BatchProgress = { ...base, sizing: { target: 70, mode: 'holding', reason: 'holding: 60 workers, queue 8' } };
    expect(progressLine(p)).toContain('target 70 (holding: 60 workers, queue 8)');
    expect(progressLine(p, 60)).not.toContain('target 70');
  });
});
