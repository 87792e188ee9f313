/**
 * The poll plan where /status-sync is not served: its pure parts in tables, and the whole follower counted against a
 * simulated endpoint (test/support/sim-fleet.ts) on the hand-driven clock. Calls per job and detection delay there
 * are counted facts in simulated time, not wall-clock timings.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLL_POLICY,
  type PlannedJob,
  PollPredictor,
  PollSchedule,
  predictStart,
  scoutDelay,
  tailDelay,
} from '../../src/engine/poll-plan.js';
import { DEFAULT_STATUS_BUDGET, StatusBudget } from '../../src/engine/status-budget.js';
import { simulateRun } from '../support/sim-fleet.js';
import { jobTimes } from '../support/sim-endpoint.js';

const job = (k: number, submittedAt: number, extra: Partial<PlannedJob> = {}): PlannedJob => ({
  k,
  submittedAt,
  resumed: false,
  status: undefined,
  startAt: undefined,
  planStart: undefined,
  ruledOut: undefined,
  ...extra,
});

describe('PollSchedule: the cheapest poll offsets over the learned values', () => {
  it.each([
    ['every job alike: one poll at that value', [1000, 1000, 1000, 1000], 200, -Infinity, 1000],
    ['a tight spread, polls dear: one poll at the largest', [950, 1000, 1050, 1100], 500, -Infinity, 1100],
    ['a wide spread, polls cheap: the first poll early in it', [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000], 20, -Infinity, 200],
    ['known past 1000 of [900 … 1100]: the rest', [900, 1000, 1100], 500, 1000, 1100],
    ['past every value: undefined (the tail)', [900, 1000, 1100], 500, 1100, undefined],
  ])('%s', (_name, xs, costMs, ruledOut, want) => {
    const s = new PollSchedule(Float64Array.from(xs).sort(), costMs);
    expect(s.after(ruledOut)).toBe(want);
  });

  it('spends fewer polls as polls get dearer, and later ones as detection delay gets cheaper', () => {
    const xs = Float64Array.from({ length: 100 }, (_, i) => 1000 + 10 * i);
    const polls = (cost: number) => {
      const s = new PollSchedule(xs, cost);
      let n = 0;
      for (let at = s.after(-Infinity); at !== undefined; at = s.after(at)) n++;
      return n;
    };
    expect(polls(5)).toBeGreaterThan(polls(50));
    expect(polls(50)).toBeGreaterThan(polls(5000));
    expect(polls(5000)).toBe(1);
  });
});

describe('predictStart: a FIFO queue on a fixed pool', () => {
  it.each([
    [
      'no job ahead (fewer jobs than workers): at once, plus the pickup',
      { submittedAt: 100, aheadStart: undefined, execMs: 1000, pickupMs: 5 },
      105,
    ],
    ['the job a pool ahead ends before this one is submitted', { submittedAt: 3000, aheadStart: 0, execMs: 1000, pickupMs: 5 }, 3005],
    ['the job a pool ahead is still running: when it ends', { submittedAt: 100, aheadStart: 2000, execMs: 1000, pickupMs: 5 }, 3000],
    ['execution time not learned yet: at once', { submittedAt: 100, aheadStart: 2000, execMs: undefined, pickupMs: 0 }, 100],
  ])('%s', (_name, p, want) => {
    expect(predictStart(p)).toBe(want);
  });
});

describe('tail and scout waits', () => {
  it.each([
    ['past every learned end (tail), after', 0, 50, tailDelay],
    ['past every learned end (tail), after', 1000, 100, tailDelay],
    ['past every learned end (tail), after', 60_000, 6000, tailDelay],
    ['past every learned end (tail), after', 10_000_000, 15_000, tailDelay],
    ['before any job ended (scout), the oldest job at', 0, 50, scoutDelay],
    ['before any job ended (scout), the oldest job at', 20, 30, scoutDelay],
    ['before any job ended (scout), the oldest job at', 1000, 100, scoutDelay],
    ['before any job ended (scout), the oldest job at', 60_000, 6000, scoutDelay],
  ])('%s %i ms: wait %i ms', (_name, ms, want, delay) => {
    expect(delay(ms)).toBe(want);
  });
});

describe('PollPredictor', () => {
  it('plans nothing before a job has ended (the scouts go), then polls at the learned end', () => {
    const p = new PollPredictor();
    const a = job(0, 0);
    p.admitted(a);
    expect(p.nextPoll(a, 0)).toBeUndefined();
    p.ended(a, 5, 1000, 1100);
    const b = job(1, 2000);
    p.admitted(b);
    // Learned: the end came 1005 ms after the submission, and the pickup was 5 ms.
    expect(p.nextPoll(b, 2000)).toBe(3005);
  });

  it('a job queued behind a full pool is polled when the job a pool ahead of it should have ended, plus its own run', () => {
    const p = new PollPredictor();
    p.observe({ workers: 2, inQueue: 1, inProgress: 2 });
    const jobs = [0, 1, 2].map((k) => job(k, 0));
    for (const j of jobs) p.admitted(j);
    // Job 0 ran 1000 ms from t=0; job 2 waits for job 0's worker: starts at 1000, ends at 2000.
    p.ended(jobs[0]!, 0, 1000, 1000);
    expect(p.start(jobs[2]!)).toBe(1000);
    expect(p.nextPoll(jobs[2]!, 1000)).toBe(2000);
  });

  it('once delayTime says when the job started, polls at start + the learned execution time', () => {
    const p = new PollPredictor();
    const a = job(0, 0);
    p.admitted(a);
    p.ended(a, 0, 1000, 1000);
    const b = job(1, 0, { status: 'IN_PROGRESS', startAt: 4000, ruledOut: 4500 });
    p.admitted(b);
    p.started(b);
    expect(p.nextPoll(b, 4500)).toBe(5000);
  });

  it('past every learned value, polls every tenth of the time the job has run, at least minIntervalMs after the last', () => {
    const p = new PollPredictor();
    const a = job(0, 0);
    p.admitted(a);
    p.ended(a, 0, 1000, 1000);
    expect(p.nextPoll(job(1, 0, { status: 'IN_PROGRESS', startAt: 0, ruledOut: 20_000 }), 20_000)).toBe(22_000);
    expect(p.nextPoll(job(2, 0, { status: 'IN_PROGRESS', startAt: 0, ruledOut: 1010 }), 1010)).toBe(1111);
    const q = new PollPredictor();
    const b = job(0, 0);
    q.admitted(b);
    q.ended(b, 0, 30, 30);
    expect(q.nextPoll(job(1, 0, { status: 'IN_PROGRESS', startAt: 0, ruledOut: 40 }), 40)).toBe(40 + DEFAULT_POLL_POLICY.minIntervalMs);
  });
});

describe('StatusBudget: planned polls under RunPod /status limits', () => {
  it('lets a burst through, then spaces polls so that no 10 s window holds more than 90 % of 2,000', () => {
    const b = new StatusBudget();
    const sendAt: number[] = [];
    // 10,000 polls all wanted at t=0 (a resumed run re-attaching 10,000 jobs): none dropped, each given a time.
    for (let i = 0; i < 10_000; i++) sendAt.push(b.reserve(0));
    expect(sendAt.filter((t) => t === 0).length).toBe(180);
    for (let i = 1; i < sendAt.length; i++) expect(sendAt[i]!).toBeGreaterThanOrEqual(sendAt[i - 1]!);
    let most = 0;
    for (let i = 0, j = 0; i < sendAt.length; i++) {
      while (sendAt[i]! - sendAt[j]! >= 10_000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(1800);
    expect(most).toBeGreaterThan(1700);
  });
  it('grows with the workers running (old docs: +400 per worker per 10 s)', () => {
    const b = new StatusBudget();
    expect(b.perWindow).toBe(1800);
    b.setWorkers(100);
    expect(b.perWindow).toBe(36_000);
  });
});

/**
 * The follower against a simulated endpoint with no /status-sync: auto-sizing from /health, 10 ms each way, jobs of
 * 100 ms to 60 s with ±10 % spread, 1,000 rows. Targets of #11: ≤ 1.5 calls per job (≤ 2.5 for 100 ms jobs), ≤ 10 %
 * detection delay for 1–60 s jobs, and (1–60 s) the makespan within 5 % of the same run followed by long polls.
 */
describe('planned polls against a simulated endpoint (counted in simulated time)', () => {
  const cases = [100, 1000, 10_000, 60_000].flatMap((ms) => [3, 20, 100].map((workers) => ({ ms, workers })));
  it.each(cases)('$ms ms jobs on $workers workers', async ({ ms, workers }) => {
    const fleet = { workers, execMs: jobTimes(ms * 0.9, ms * 1.1, 7) };
    const planned = await simulateRun(fleet, 1000);
    const longPolled = await simulateRun({ ...fleet, statusSync: true }, 1000);
    expect(planned.outcome).toEqual({ kind: 'done' });
    expect(planned.states).toEqual({ COMPLETED: 1000 });
    expect(planned.callsPerJob).toBeLessThanOrEqual(ms < 1000 ? 2.5 : 1.5);
    if (ms >= 1000) expect(planned.addedPct).toBeLessThanOrEqual(10);
    if (ms >= 1000) expect(planned.makespanMs).toBeLessThanOrEqual(1.05 * longPolled.makespanMs);
    expect(longPolled.states).toEqual({ COMPLETED: 1000 });
  });

  it('jobs all alike (the benchmark emulator): about one call per job once learned, waves polled 32 at a time', async () => {
    const r = await simulateRun({ workers: 100, execMs: () => 10_000 }, 1000);
    expect(r.states).toEqual({ COMPLETED: 1000 });
    expect(r.callsPerJob).toBeLessThanOrEqual(1.1);
    expect(r.addedPct).toBeLessThanOrEqual(5);
    // 100 jobs end together each wave: their polls wait for warm connections instead of opening 100 new ones.
    expect(r.maxOpenStatus).toBeLessThanOrEqual(32);
    const few = await simulateRun({ workers: 100, execMs: () => 10_000 }, 300, {
      statusBudget: { ...DEFAULT_STATUS_BUDGET, shortAtOnce: 8 },
    });
    expect(few.states).toEqual({ COMPLETED: 300 });
    expect(few.maxOpenStatus).toBe(8);
  });
});
