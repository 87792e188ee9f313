import { describe, expect, it } from 'vitest';
import { formatDuration, progressLine } from '../../src/cli/progress.js';
import type { BatchProgress } from '../../src/batch/run.js';

const base: BatchProgress = {
  total: 10_000,
  done: 1840,
  completed: 1828,
  completedThisRun: 1828,
  failed: 12,
  inFlight: 100,
  waiting: 8060,
  submitted: 1940,
  requeued: 0,
  elapsedMs: 4 * 60_000,
  paused: null,
  runRate: null,
  billedSeconds: 0,
  billedJobs: 0,
  spentUsd: null,
  projectedUsd: null,
};

describe('progressLine', () => {
  it.each([
    ['counts, rate and ETA', base, /^1840\/10000 done · 12 failed · 100 in flight · 8060 waiting · 457\/min · ETA 17m51s$/],
    ['money spent and projected', { ...base, spentUsd: 1.372, projectedUsd: 7.449 }, /\$1\.37 spent of ~\$7\.45/],
    ['why it waits', { ...base, paused: { op: 'run', reason: '429 on /run', ms: 3200 } }, /paused 4 s: 429 on \/run$/],
    ['the pace after 429s', { ...base, runRate: 87.34 }, /\/run paced at 87\.3\/s after 429s$/],
    ['no ETA before anything completed in this run', { ...base, completedThisRun: 0 }, /0\/min$/],
  ])('%s', (_n, p, re) => expect(progressLine(p as BatchProgress)).toMatch(re));
});

describe('formatDuration', () => {
  it.each([
    [999, '1s'],
    [59_000, '59s'],
    [61_000, '1m01s'],
    [3_600_000 + 120_000, '1h02m'],
  ])('%d ms → %s', (ms, s) => expect(formatDuration(ms)).toBe(s));
});
