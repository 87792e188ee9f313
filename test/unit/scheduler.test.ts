/**
 * The scheduler on its own: a scripted endpoint, an in-memory store and a hand-driven clock (test/support/
 * scheduler-fakes.ts). No HTTP, no SQLite, no real time: each case runs in milliseconds and its timings are exact.
 */
import { describe, expect, it } from 'vitest';
import { HttpError, NetworkError } from '../../src/core/errors.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import type { SchedulerOptions } from '../../src/engine/types.js';
import { drive, FakeEndpoint, type FakeEndpointOptions, ManualClock, MemoryStore } from '../support/scheduler-fakes.js';

const keys = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);

function setup(rows: number, endpoint: FakeEndpointOptions = {}, opts: Partial<SchedulerOptions> = {}, signal?: AbortSignal) {
  const clock = new ManualClock();
  const store = new MemoryStore(keys(rows));
  const client = new FakeEndpoint(clock, endpoint);
  const scheduler = new Scheduler({ client, store, gen: 1, clock, random: () => 0.5, signal }, { concurrency: 5, retries: 2, ...opts });
  return { clock, store, client, scheduler, run: () => drive(clock, scheduler.run()) };
}

const http = (status: number, retryAfterMs?: number) => new HttpError('run', 'POST', 'fake/run', status, '', retryAfterMs);

describe('Scheduler', () => {
  it('admits at most `concurrency` rows at once, keeps that many busy, and ends every row once', async () => {
    const { store, client, run } = setup(50, { execMs: 100 }, { concurrency: 5 });
    expect(await run()).toEqual({ kind: 'done' });
    expect(client.maxHeld).toBe(5);
    expect(store.states()).toEqual({ COMPLETED: 50 });
    expect(client.jobsCreated).toBe(50);
    for (const r of store.rows.values()) expect(r.jobs).toHaveLength(1);
    // One long poll per job: /status-sync answers when the job ends.
    expect(client.statusCalls).toBe(50);
  });

  it('follows jobs of an earlier run by id instead of submitting their rows again', async () => {
    const { clock, store, client, scheduler } = setup(3);
    // r1 holds a job from an earlier run: the endpoint knows it.
    await drive(clock, new Scheduler({ client, store, gen: 1, clock }, { concurrency: 1, retries: 0 }).run());
    const before = client.jobsCreated;
    store.row('r1').state = 'SUBMITTED';
    expect(await drive(clock, scheduler.run())).toEqual({ kind: 'done' });
    expect(client.jobsCreated).toBe(before);
    expect(store.row('r1').jobs).toHaveLength(1);
  });

  it('runs a FAILED row again within its retries, then ends it FAILED', async () => {
    const { store, client, run } = setup(
      10,
      {
        outcome: (key, attempt) => (key === 'r3' && attempt === 0 ? 'FAILED' : key === 'r7' ? 'FAILED' : undefined),
      },
      { retries: 1 },
    );
    expect(await run()).toEqual({ kind: 'done' });
    expect(store.row('r3')).toMatchObject({ state: 'COMPLETED', failures: 1 });
    expect(store.row('r3').jobs).toHaveLength(2);
    expect(store.row('r7')).toMatchObject({ state: 'FAILED', failures: 1, error: 'boom' });
    expect(store.row('r7').jobs).toHaveLength(2);
    expect(client.jobsCreated).toBe(12);
  });

  it('runs a row again when its job is lost (404 on /status)', async () => {
    const { store, run } = setup(4, { outcome: (key, attempt) => (key === 'r2' && attempt === 0 ? 'LOST' : undefined) });
    expect(await run()).toEqual({ kind: 'done' });
    expect(store.row('r2').state).toBe('COMPLETED');
    expect(store.row('r2').jobs).toHaveLength(2);
  });

  it('a 429 with Retry-After pauses every /run until it passes, and the progress says why', async () => {
    const { clock, store, client, scheduler } = setup(20, { runs: [{}, { error: http(429, 5000), afterMs: 10 }] }, { concurrency: 5 });
    const done = scheduler.run();
    // Drive until the 429 has arrived, then look at the progress while paused.
    let paused: ReturnType<Scheduler['progress']>['paused'] = null;
    const watch = (async () => {
      while (!paused) {
        await new Promise<void>((r) => setImmediate(r));
        paused = scheduler.progress().paused;
      }
    })();
    expect(await drive(clock, done)).toEqual({ kind: 'done' });
    await watch;
    expect(paused).toMatchObject({ op: 'run', reason: '429 on /run' });
    const limitedAt = client.runSentAt[1]! + 10;
    // Nothing is sent while the pause lasts (Retry-After, never less).
    expect(client.runSentAt.filter((t) => t > limitedAt && t < limitedAt + 5000)).toEqual([]);
    expect(client.runSentAt.some((t) => t >= limitedAt + 5000)).toBe(true);
    expect(store.states()).toEqual({ COMPLETED: 20 });
    expect(scheduler.ops.run).toMatchObject({ rateLimited: 1, retries: 1 });
  });

  it('sends one request at a time until one has succeeded: a refused key costs a request or two, whatever the concurrency', async () => {
    const { store, client, run } = setup(30, { runs: [{ error: http(401) }, { error: http(401) }] }, { concurrency: 10 });
    const outcome = await run();
    expect(outcome.kind).toBe('fatal');
    expect(outcome.kind === 'fatal' && outcome.error.code).toBe('RPB_AUTH');
    // The next waiting request takes the probe before the first one's verdict stops the run (README: at most 3).
    expect(client.runSentAt).toEqual([0, 10]);
    expect(store.states()).toEqual({ PENDING: 30 });
  });

  it('the probe: no second request before the first one answers, then up to `concurrency` at once', async () => {
    const { client, run } = setup(30, { runs: [{ afterMs: 1000 }] }, { concurrency: 10 });
    expect(await run()).toEqual({ kind: 'done' });
    expect(client.runSentAt[0]).toBe(0);
    expect(client.runSentAt[1]).toBeGreaterThanOrEqual(1000);
    // Once the first answered, the rows waiting on it go out together, 8 at once (the /run bound); the first row holds its job.
    expect(client.runSentAt.filter((t) => t === 1000)).toHaveLength(8);
    expect(client.maxHeld).toBeLessThanOrEqual(10);
  });

  it('at most 8 /run requests in flight at once, whatever the in-flight target: a kill pays at most that many rows twice', async () => {
    const { client, run } = setup(
      200,
      { execMs: 5000, runs: [{ afterMs: 500 }, { afterMs: 500 }, { afterMs: 500 }] },
      { concurrency: 150 },
    );
    expect(await run()).toEqual({ kind: 'done' });
    expect(client.maxOpenRuns).toBe(8);
    // The in-flight target is still reached: jobs held, not /run requests, grow to it.
    expect(client.maxHeld).toBe(150);
  });

  it('more /run requests at once while /health shows idle workers and no queue: a quarter of them, and the peak says so', async () => {
    // 400 idle workers at the first read, /run answering in 50 ms: what feeds them in a second, 400 × 50 ms ÷ 1 s = 20
    // /run at once (a quarter of them at most: 100), falling as jobs take the idle workers.
    const { client, scheduler, run } = setup(600, { execMs: 60_000, runLatencyMs: 50, workers: 400 }, { concurrency: 5000, autoSize: {} });
    expect(await run()).toEqual({ kind: 'done' });
    expect(client.maxOpenRuns).toBeGreaterThan(8);
    // Never more open than the bound's peak (what a kill could pay twice), and that peak within a quarter of the idle.
    const { peak } = scheduler.progress().runSlots;
    expect(client.maxOpenRuns).toBeLessThanOrEqual(peak);
    expect(peak).toBeLessThanOrEqual(20);
  });

  it('no idle worker shown: the bound stays 8 with auto-sizing too', async () => {
    const { client, scheduler, run } = setup(300, { execMs: 60_000, runLatencyMs: 50, workers: 0 }, { concurrency: 5000, autoSize: {} });
    expect(await run()).toEqual({ kind: 'done' });
    expect(client.maxOpenRuns).toBe(8);
    expect(scheduler.progress().runSlots.peak).toBe(8);
  });

  // Jobs past the long-poll cap get planned polls; before any job has ended they are scouted. A scout poll still in
  // flight when the first job ended used to start a second chain of polls for its job: both ended it, the run counted
  // it twice and finished with other jobs still running (rows left SUBMITTED, outcome "done").
  it.each([
    [100, 10],
    [250, 10],
    [1000, 10],
    [1500, 50],
    [1500, 150],
  ])('jobs past the long-poll cap (%d ms jobs, %d ms /run): each ends once, and every row ends', async (execMs, runLatencyMs) => {
    const { store, run } = setup(600, { execMs, runLatencyMs }, { concurrency: 600, retries: 0, maxLongPolls: 4, runSlots: { min: 100 } });
    expect(await run()).toEqual({ kind: 'done' });
    expect(store.states()).toEqual({ COMPLETED: 600 });
  });

  it('a server that cannot be reached stops the run after `unreachableMs`, naming the URL and the error', async () => {
    const refused = () =>
      new NetworkError(
        'run',
        'POST',
        'http://127.0.0.1:9/v2/ep/run',
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      );
    const { clock, scheduler, client, run } = setup(50, { runError: refused }, { concurrency: 10, unreachableMs: 30_000 });
    let seen: ReturnType<Scheduler['progress']> | undefined;
    clock.setTimer(() => (seen = scheduler.progress()), 5000);
    const outcome = await run();
    expect(outcome.kind).toBe('fatal');
    expect(outcome.kind === 'fatal' && outcome.error.code).toBe('RPB_NETWORK');
    expect(outcome.kind === 'fatal' && outcome.error.message).toMatch(
      /cannot reach the server: POST http:\/\/127\.0\.0\.1:9\/v2\/ep\/run: ECONNREFUSED.*no answer in 30 s/,
    );
    // About 30 s after the first failure (the last wait is cut to the deadline), one request at a time.
    expect(clock.now()).toBeGreaterThanOrEqual(30_000);
    expect(clock.now()).toBeLessThan(30_100);
    expect(client.maxOpenRuns).toBe(1);
    // Meanwhile the progress says what is retried, and counts no job as in flight.
    expect(seen?.retrying).toMatchObject({ label: 'ECONNREFUSED', of: 25 });
    expect(seen?.inFlight).toBe(0);
  });

  it('once a request has succeeded, a server gone away is retried as a transient fault (25 in a row stop the run)', async () => {
    const refused = () => new NetworkError('run', 'POST', 'u', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const { client, run } = setup(10, { runs: [{}], runError: refused }, { concurrency: 1, unreachableMs: 1000 });
    const outcome = await run();
    expect(outcome.kind).toBe('gave-up');
    expect(outcome.kind === 'gave-up' && outcome.reason).toMatch(/25 transient failures in a row/);
    expect(client.runSentAt).toHaveLength(26);
  });

  it('an interrupt stops admitting, keeps the job ids that answer within the drain, and drops the rest', async () => {
    const ac = new AbortController();
    const { clock, store, client, scheduler } = setup(
      10,
      { runs: [{ afterMs: 5 }, { afterMs: 100 }, { afterMs: 500 }, { afterMs: 2000 }], runLatencyMs: 10 },
      { concurrency: 4, drainMs: 700 },
      ac.signal,
    );
    const done = scheduler.run();
    clock.setTimer(() => ac.abort(), 50); // after the probe answered (t=5) and the other three /run went out
    expect(await drive(clock, done)).toEqual({ kind: 'interrupted' });
    // r0 answered before the interrupt, r1 and r2 during the drain: committed. r3 would answer after it: aborted.
    expect(store.submits.map((s) => s.key).sort()).toEqual(['r0', 'r1', 'r2']);
    expect(store.row('r3').state).toBe('PENDING');
    expect(client.runSentAt).toHaveLength(4);
    // Nothing more is sent after the interrupt.
    expect(client.runSentAt.every((t) => t < 50)).toBe(true);
  });

  it('stops when a crash-looping worker fails every job with the same error', async () => {
    const { store, run } = setup(
      40,
      { outcome: () => 'FAILED' },
      { concurrency: 2, retries: 0, health: { crashLoopJobs: 5, maxFailureRate: 1, window: 50 } },
    );
    const outcome = await run();
    expect(outcome.kind).toBe('gave-up');
    expect(outcome.kind === 'gave-up' && outcome.reason).toMatch(/last 5 jobs all FAILED with the same error \(boom\)/);
    expect(store.states().PENDING).toBeGreaterThan(30);
  });

  it('--max-cost: stops admitting before spent plus in flight would pass the cap', async () => {
    // 100 ms jobs bill 1 s each at $1/s: a cap of $5.5 allows five jobs, and none is in flight when it stops.
    const { store, client, run } = setup(
      20,
      { execMs: 100 },
      {
        concurrency: 2,
        budget: { maxUsd: 5.5, pricePerSecond: 1, spentSeconds: 0, perJobSeconds: null },
      },
    );
    const outcome = await run();
    expect(outcome.kind).toBe('budget');
    expect(client.jobsCreated).toBe(5);
    expect(store.states()).toEqual({ COMPLETED: 5, PENDING: 15 });
  });
});
