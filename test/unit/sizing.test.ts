import { describe, expect, it } from 'vitest';
import {
  AutoSizer,
  DEFAULT_SIZING,
  type HealthSample,
  initializingMsBetween,
  IDLE_FILL_MS,
  IDLE_SHARE,
  LATENCY_WINDOW,
  RATE_WINDOWS,
  RunSlots,
} from '../../src/engine/sizing.js';
import { jobTimes, type SimEndpoint, simulate } from '../support/sim-endpoint.js';

const fixed = (n: number, jobMs = jobTimes(1000, 2000)): SimEndpoint => ({
  minWorkers: n,
  maxWorkers: n,
  warm: n,
  coldMs: 0,
  idleTimeoutMs: 5000,
  scaler: { kind: 'fixed' },
  jobMs,
});

const autoscaling = (max: number, scaler: SimEndpoint['scaler']): SimEndpoint => ({
  minWorkers: 0,
  maxWorkers: max,
  warm: 0,
  coldMs: 3000,
  idleTimeoutMs: 5000,
  scaler,
  jobMs: jobTimes(1000, 2000),
});

describe('AutoSizer on a simulated endpoint (default policy, no flags)', () => {
  it.each([
    ['3 workers', fixed(3), 600],
    ['20 workers', fixed(20), 4_000],
    ['300 workers', fixed(300), 60_000],
    ['1,000 workers', fixed(1000), 200_000],
  ])('fixed %s: makespan ≤ 1.05 × ideal, and the queue settles at ≤ max(10, 2 × workers)', (_name, ep, jobs) => {
    const r = simulate(ep, jobs, new AutoSizer());
    expect(r.makespanMs / r.idealMs, `makespan ${r.makespanMs} vs ideal ${r.idealMs}`).toBeLessThanOrEqual(1.05);
    expect(r.settledQueue).not.toBeNull();
    expect(r.settledQueue!).toBeLessThanOrEqual(Math.max(10, 2 * ep.maxWorkers));
  });

  it.each([
    ['0 → 60, queue delay 4 s', autoscaling(60, { kind: 'queue-delay', valueMs: 4000 }), 12_000],
    ['0 → 80, request count 4', autoscaling(80, { kind: 'request-count', value: 4 }), 16_000],
  ])('autoscaling %s: makespan ≤ 1.10 × (ideal at max workers + one cold start), the endpoint reaches its max', (_name, ep, jobs) => {
    const r = simulate(ep, jobs, new AutoSizer());
    expect(r.peakWorkers).toBe(ep.maxWorkers);
    expect(r.makespanMs / r.idealMs, `makespan ${r.makespanMs} vs ideal ${r.idealMs}`).toBeLessThanOrEqual(1.1);
    expect(r.settledQueue ?? 0).toBeLessThanOrEqual(Math.max(10, 2 * ep.maxWorkers));
  });

  it('a number given is a hard cap', () => {
    const r = simulate(fixed(300), 6_000, new AutoSizer({ ...DEFAULT_SIZING, max: 60 }));
    // 60 in flight on 300 workers: 5× the ideal, as asked.
    expect(r.makespanMs / r.idealMs).toBeGreaterThan(4);
  });
});

describe('AutoSizer decisions', () => {
  const h = (o: Partial<HealthSample>): HealthSample => ({
    at: 0,
    idle: 0,
    running: 0,
    initializing: 0,
    throttled: 0,
    inQueue: 0,
    inProgress: 0,
    ...o,
  });
  it('grows by at least the idle workers, and says so', () => {
    const s = new AutoSizer();
    const d = s.observe(h({ idle: 200, running: 10, inProgress: 10 }), 10);
    expect(d.mode).toBe('growing');
    expect(d.target).toBeGreaterThanOrEqual(210);
    expect(d.reason).toBe('growing: 200 idle workers');
  });
  it('holds the running jobs plus a short queue once no worker is added', () => {
    const s = new AutoSizer();
    let d = s.observe(h({ at: 0, running: 60, inProgress: 60, inQueue: 40 }), 100);
    for (let t = 3000; t <= 30_000; t += 3000) d = s.observe(h({ at: t, running: 60, inProgress: 60, inQueue: 40 }), 100);
    expect(['holding', 'shrinking', 'probing']).toContain(d.mode);
    d = s.observe(h({ at: 33_000, running: 60, inProgress: 60, inQueue: 60 }), 120);
    expect(d.target).toBeLessThanOrEqual(60 + 60);
  });
  it('keeps growing while the endpoint adds workers', () => {
    const s = new AutoSizer();
    const a = s.observe(h({ at: 0, running: 5, initializing: 3, inProgress: 5, inQueue: 20 }), 25).target;
    const b = s.observe(h({ at: 3000, running: 8, initializing: 3, inProgress: 8, inQueue: 30 }), a).target;
    expect(b).toBeGreaterThan(a);
    expect(s.current().reason).toMatch(/^growing: 11 workers and adding/);
  });
  it('grows while workers that run several jobs each take every job given, then holds once a queue forms', () => {
    // 3 workers × 30 jobs each (worker-vllm): no worker is ever idle, yet nothing waits until 90 run.
    const s = new AutoSizer();
    let target = s.current().target;
    let t = 0;
    for (; t < 60_000 && target < 90; t += 3000) {
      const held = target;
      const d = s.observe(h({ at: t, running: 3, inProgress: held, inQueue: 0 }), held);
      expect(d.mode).toBe('growing');
      expect(d.reason).toBe(`growing: ${held} jobs running on 3 workers, none queued`);
      expect(d.target).toBeGreaterThan(held);
      target = d.target;
    }
    expect(target).toBeGreaterThanOrEqual(90);
    expect(t).toBeLessThanOrEqual(7 * 3000); // 10 → 90 in a handful of looks, not +10 a look
    // The slots are full: the rest queues, and the target holds the running jobs plus a short queue.
    const d = s.observe(h({ at: t, running: 3, inProgress: 90, inQueue: target - 90 }), target);
    expect(d.mode).not.toBe('growing');
    expect(d.target).toBeLessThanOrEqual(90 + 10);
  });
  it('one job per worker and nothing queued: no growth without idle workers', () => {
    const s = new AutoSizer();
    s.observe(h({ at: 0, running: 10, inProgress: 10, inQueue: 0 }), 10);
    const d = s.observe(h({ at: 30_000, running: 10, inProgress: 10, inQueue: 0 }), 20);
    expect(d.mode).not.toBe('growing');
  });
  it('never leaves [min, max]', () => {
    const s = new AutoSizer({ ...DEFAULT_SIZING, min: 2, max: 7 });
    expect(s.observe(h({ idle: 1000 }), 0).target).toBe(7);
    for (let t = 0; t < 200_000; t += 3000) expect(s.observe(h({ at: t, inQueue: 500 }), 7).target).toBeGreaterThanOrEqual(2);
  });
});

describe('RunSlots: /run requests in flight at once', () => {
  it.each([
    ['at the start (nothing measured)', [], 8],
    ['a slow pace: 10 jobs/s at 150 ms', [10, 150], 8],
    ['1,000 workers of 1.5 s jobs at 150 ms /run: 667 jobs/s', [667, 150], 200],
    ['200 jobs/s at 100 ms', [200, 100], 40],
  ] as [string, number[], number][])('%s', (_name, pace, want) => {
    const s = new RunSlots();
    if (pace.length === 2) {
      const [rate, latency] = pace as [number, number];
      for (let i = 0; i < 20; i++) s.answered(latency);
      // `rate` jobs ending per second for 5 s.
      for (let t = 0; t <= 5000; t += 1000 / rate) s.ended(t);
    }
    expect(Math.abs(s.slots() - want), `slots ${s.slots()}`).toBeLessThanOrEqual(1);
  });

  // Latencies as the scheduler measures them: when each answer is handled, so a busy event loop adds its own delay.
  it.each([
    // 250 jobs/s, a 5 ms network, but most answers wait 40–80 ms behind large outputs being parsed: the bound stays 8.
    ['a busy event loop, not a slow network', 250, (i: number) => (i % 4 === 0 ? 5 : 40 + (i % 5) * 10), 8],
    // A slow network with jitter (150–190 ms): every answer is slow, so the pace does need more /run requests.
    ['a slow network with jitter', 667, (i: number) => 150 + (i % 5) * 10, 200],
    // The floor is over the last answers only: the network became slow (5 ms, then 150 ms).
    ['the network became slow', 200, (i: number) => (i < 20 ? 5 : 150), 60],
  ] as [string, number, (i: number) => number, number][])('%s', (_name, rate, latency, want) => {
    const s = new RunSlots();
    for (let i = 0; i < 20 + LATENCY_WINDOW; i++) s.answered(latency(i));
    for (let t = 0; t <= 5000; t += 1000 / rate) s.ended(t);
    expect(Math.abs(s.slots() - want), `slots ${s.slots()}`).toBeLessThanOrEqual(1);
  });

  it("a burst of ends (a restart re-attaching the killed run's jobs) is no pace: the bound stays 8", () => {
    const s = new RunSlots();
    for (let i = 0; i < LATENCY_WINDOW; i++) s.answered(100);
    // 300 re-attached jobs end at once, then 20 jobs/s for 2.5 s.
    for (let i = 0; i < 300; i++) s.ended(0);
    for (let t = 50; t <= 2500; t += 50) s.ended(t);
    expect(s.slots()).toBe(8);
    // Held for RATE_WINDOWS windows, a real pace counts: 300 jobs/s at 100 ms.
    for (let t = 2500; t <= 2500 + (RATE_WINDOWS + 1) * 1000; t += 1000 / 300) s.ended(t);
    expect(Math.abs(s.slots() - 60)).toBeLessThanOrEqual(1);
  });

  // /health shows the need before a pace exists: idle workers, nothing queued. The bound feeds the idle workers not yet
  // given a job within IDLE_FILL_MS at the /run latency, and never past a quarter of them.
  // [idle, inQueue, /run in flight at the read, /run answered since, /run latency ms (0: none answered yet), bound].
  it.each([
    ["1,000 idle workers, 300 ms /run: a quarter, past RunPod's 200", [1000, 0, 0, 0, 300], 200],
    ['300 idle workers, 300 ms /run: a quarter of them', [300, 0, 0, 0, 300], 75],
    ['300 idle workers, 100 ms /run: what fills them in a second', [300, 0, 0, 0, 100], 30],
    ['1,000 idle workers, 2 ms /run (loopback): 8 fill them as fast', [1000, 0, 0, 0, 2], 8],
    ['1,000 idle workers, no /run answered yet: no latency known, 8', [1000, 0, 0, 0, 0], 8],
    ['50 idle workers, 8 /run in flight at the read, 300 ms: (50 − 8) ÷ 4', [50, 0, 8, 0, 300], 10],
    ['20 idle workers: no more than the least bound', [20, 0, 0, 0, 300], 8],
    ['1,000 idle workers but jobs queued: the queue feeds them', [1000, 5, 0, 0, 300], 8],
    ['300 idle workers, 200 jobs created since the read: (300 − 200) ÷ 4', [300, 0, 0, 200, 300], 25],
    ['300 idle workers, all given a job since', [300, 0, 0, 300, 300], 8],
  ] as [string, [number, number, number, number, number], number][])('%s', (_name, [idle, inQueue, pending, answered, latency], want) => {
    const s = new RunSlots();
    if (latency > 0) for (let i = 0; i < LATENCY_WINDOW; i++) s.answered(latency);
    s.health(idle, inQueue, pending);
    for (let i = 0; i < answered; i++) s.answered(latency);
    expect(s.slots()).toBe(want);
    expect([IDLE_SHARE, IDLE_FILL_MS]).toEqual([4, 1000]);
  });

  it('a later /health read with a queue ends the rise; the peak keeps the highest bound of the run', () => {
    const s = new RunSlots();
    expect(s.peak).toBe(8);
    for (let i = 0; i < LATENCY_WINDOW; i++) s.answered(400);
    s.health(400, 0, 0);
    expect(s.slots()).toBe(100);
    for (let i = 0; i < 100; i++) s.answered(400);
    expect(s.slots()).toBe(75);
    s.health(10, 30, 8);
    expect(s.slots()).toBe(8);
    expect(s.peak).toBe(100);
    // Idle workers again (jobs ended, nothing queued): the bound rises with them.
    s.health(120, 0, 0);
    expect(s.slots()).toBe(30);
    expect(s.peak).toBe(100);
  });

  it('the larger of the pace and the idle workers wins', () => {
    const s = new RunSlots();
    for (let i = 0; i < LATENCY_WINDOW; i++) s.answered(100);
    for (let t = 0; t <= 5000; t += 1000 / 300) s.ended(t); // 300 jobs/s at 100 ms: 60
    s.health(100, 0, 0); // min(25, 10)
    expect(Math.abs(s.slots() - 60)).toBeLessThanOrEqual(1);
    s.health(1000, 0, 0); // min(250, 100)
    expect(s.slots()).toBe(100);
  });
});

describe('initializingMsBetween: worker time /health showed starting (the report’s cold-start estimate)', () => {
  const at = (t: number, initializing: number): HealthSample => ({
    at: t,
    idle: 0,
    running: 0,
    initializing,
    throttled: 0,
    inQueue: 0,
    inProgress: 0,
  });
  it.each([
    ['the first read: nothing to count yet', null, at(3000, 10), 0],
    ['10 starting at the earlier read, 3 s later', at(0, 10), at(3000, 0), 30_000],
    ['what the later read sees counts from it on, not before', at(0, 0), at(3000, 10), 0],
    ['a read out of order', at(3000, 10), at(0, 5), 0],
  ] as [string, HealthSample | null, HealthSample, number][])('%s', (_name, prev, cur, want) => {
    expect(initializingMsBetween(prev, cur)).toBe(want);
  });

  it('summed over reads every 3 s, boots of 3 s count 3 s each, whenever they start', () => {
    // Ten workers booting for 3 s, starting at 1.2 s, 2.5 s, … (one every 1.3 s): each is seen by exactly one read.
    const boots = Array.from({ length: 10 }, (_, i) => 1200 + i * 1300);
    let prev: HealthSample | null = null;
    let sum = 0;
    for (let t = 0; t <= 30_000; t += 3000) {
      const cur = at(t, boots.filter((b) => b <= t && t < b + 3000).length);
      sum += initializingMsBetween(prev, cur);
      prev = cur;
    }
    expect(sum).toBe(30_000);
  });
});
