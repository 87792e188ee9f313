/**
 * The cloud-dialect emulator over real HTTP (undici): protocol shapes from RUNPOD_API.md, workers,
 * cold starts, retention, faults. Tests wait for states, not for fixed times, and check no upper bound of
 * elapsed time; randomness is seeded.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { call, pollUntil, type Answer } from '../support/http.js';
import { waitFor } from '../support/wait.js';

const open: Emulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function emulator(o: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ port: 0, ...o });
  open.push(emu);
  return emu;
}

/** An execution time given by the job's own input, `{ms}`. */
const msOf = (input: unknown) => (input as { ms: number }).ms;
const ep = (emu: Emulator, path: string) => `${emu.baseUrl}/test-endpoint/${path}`;
const run = (emu: Emulator, input: unknown, extra: Record<string, unknown> = {}) =>
  call('POST', ep(emu, 'run'), { json: { input, ...extra } });
const status = (emu: Emulator, id: string) => call('GET', ep(emu, `status/${id}`));
const untilStatus = (emu: Emulator, id: string, want: (s: string) => boolean) =>
  pollUntil(
    () => status(emu, id),
    (a: Answer) => a.status === 200 && want(a.body.status),
    `job ${id} in the wanted status`,
  );
const untilGone = (emu: Emulator, id: string) =>
  pollUntil(
    () => status(emu, id),
    (a) => a.status === 404,
    `job ${id} answering 404`,
  );
const terminal = (s: string) => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(s);
async function runToEnd(emu: Emulator, input: unknown, extra?: Record<string, unknown>) {
  const r = await run(emu, input, extra);
  expect(r.status).toBe(200);
  return untilStatus(emu, r.body.id, terminal);
}

describe('emulator (cloud dialect): run and status', () => {
  it('runs a job through IN_QUEUE → IN_PROGRESS → COMPLETED with echoed output and plausible times', async () => {
    const emu = await emulator({ workers: 1, executionMs: 300 });
    expect(emu.baseUrl).toBe(`${emu.url}/v2`);
    const a = await run(emu, { prompt: 'a' });
    const b = await run(emu, { prompt: 'b' });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}-u1$/), status: 'IN_QUEUE' });
    // One worker: b waits; not started yet, so no delayTime.
    const queued = await status(emu, b.body.id);
    expect(queued.body).toEqual({ id: b.body.id, status: 'IN_QUEUE' });
    const running = await untilStatus(emu, a.body.id, (s) => s === 'IN_PROGRESS');
    // a found the worker idle: its delayTime is its own queue wait, as the emulator recorded it.
    expect(running.body.delayTime).toBe(emu.jobs.get(a.body.id)?.delayTime);
    expect(running.body.executionTime).toBeUndefined();
    expect(running.body.workerId).toBe('emu-worker-1');

    const done = await untilStatus(emu, b.body.id, terminal);
    expect(done.body).toMatchObject({ id: b.body.id, status: 'COMPLETED', output: { echo: { prompt: 'b' } }, workerId: 'emu-worker-1' });
    expect(done.body.executionTime).toBe(300);
    // b waited for a's 300 ms execution: delayTime is its time from submission to start.
    const ja = emu.jobs.get(a.body.id)!;
    const jb = emu.jobs.get(b.body.id)!;
    expect(jb).toMatchObject({ status: 'COMPLETED', attempt: 1, lost: false });
    expect(jb.startedAt).toBeGreaterThanOrEqual(ja.finishedAt!);
    expect(Math.abs(done.body.delayTime - (jb.startedAt! - jb.createdAt))).toBeLessThanOrEqual(2);
    expect(done.body.delayTime).toBeGreaterThanOrEqual(100);
    expect(done.body.delayTime).toBeGreaterThan(running.body.delayTime); // b waited behind a
  });

  it('answers POST /status like GET, and /stream with the output once', async () => {
    const emu = await emulator({ executionMs: 10 });
    const done = await runToEnd(emu, { n: 1 });
    const viaPost = await call('POST', ep(emu, `status/${done.body.id}`));
    expect(viaPost.status).toBe(200);
    expect(viaPost.body).toEqual(done.body);
    const s1 = await call('GET', ep(emu, `stream/${done.body.id}`));
    expect(s1.body).toEqual({ status: 'COMPLETED', stream: [{ output: { echo: { n: 1 } } }] });
    const s2 = await call('GET', ep(emu, `stream/${done.body.id}`));
    expect(s2.body).toEqual({ status: 'COMPLETED', stream: [] });
  });

  it('a generator handler: /stream serves the chunks since the last call, in order; the job ends with no output', async () => {
    const steps: Array<() => void> = [];
    const step = () => new Promise<void>((r) => steps.push(r));
    const emu = await emulator({
      executionMs: 0,
      handler: async function* (input) {
        yield { part: 1, input };
        await step();
        yield { part: 2 };
        yield { part: 3 };
        await step();
      },
    });
    const r = await run(emu, { n: 1 });
    const stream = () => call('GET', ep(emu, `stream/${r.body.id}`));
    await waitFor(() => steps.length === 1, 'the first chunk yielded');
    expect((await stream()).body).toEqual({ status: 'IN_PROGRESS', stream: [{ output: { part: 1, input: { n: 1 } } }] });
    expect((await stream()).body).toEqual({ status: 'IN_PROGRESS', stream: [] });
    steps.shift()!();
    await waitFor(() => steps.length === 1, 'chunks 2 and 3 yielded');
    expect((await stream()).body.stream).toEqual([{ output: { part: 2 } }, { output: { part: 3 } }]);
    steps.shift()!();
    const end = await untilStatus(emu, r.body.id, terminal);
    expect(end.body.status).toBe('COMPLETED');
    expect(end.body).not.toHaveProperty('output');
    expect((await stream()).body).toEqual({ status: 'COMPLETED', stream: [] });
  });

  it('streamChunks with returnAggregateStream: the chunks on /stream, and the job output is their list', async () => {
    const emu = await emulator({ executionMs: 0, streamChunks: 3, returnAggregateStream: true });
    const end = await runToEnd(emu, { n: 7 });
    const chunks = [1, 2, 3].map((k) => ({ chunk: k, of: 3, echo: { n: 7 } }));
    expect(end.body.output).toEqual(chunks);
    expect((await call('GET', ep(emu, `stream/${end.body.id}`))).body).toEqual({
      status: 'COMPLETED',
      stream: chunks.map((output) => ({ output })),
    });
  });

  it('maps handler results like runpod-python: throw, {error}, null', async () => {
    const attempts: number[] = [];
    const emu = await emulator({
      executionMs: 5,
      handler: async (input, ctx) => {
        const { kind } = input as { kind: string };
        attempts.push(ctx.attempt);
        if (kind === 'throw') throw new TypeError('boom');
        if (kind === 'error') return { error: 'bad input' };
        if (kind === 'null') return null;
        return { ok: kind };
      },
    });
    const thrown = await runToEnd(emu, { kind: 'throw' });
    expect(thrown.body.status).toBe('FAILED');
    expect(thrown.body.output).toBeUndefined();
    const err = JSON.parse(thrown.body.error);
    expect(err).toMatchObject({ error_type: 'TypeError', error_message: 'boom' });
    expect(err.error_traceback).toContain('TypeError: boom');
    const errored = await runToEnd(emu, { kind: 'error' });
    expect(errored.body).toMatchObject({ status: 'FAILED', error: 'bad input' });
    const nothing = await runToEnd(emu, { kind: 'null' });
    expect(nothing.body.status).toBe('COMPLETED');
    expect('output' in nothing.body).toBe(false);
    const fine = await runToEnd(emu, { kind: 'x' });
    expect(fine.body.output).toEqual({ ok: 'x' });
    expect(attempts).toEqual([1, 1, 1, 1]);
  });

  it('runsync answers the finished job, or the running {id, status} when wait elapses', async () => {
    const emu = await emulator({ executionMs: msOf });
    const quick = await call('POST', ep(emu, 'runsync'), { json: { input: { ms: 50 } } });
    expect(quick.status).toBe(200);
    expect(quick.body).toMatchObject({ status: 'COMPLETED', output: { echo: { ms: 50 } }, executionTime: 50 });
    const t0 = Date.now();
    const slow = await call('POST', `${ep(emu, 'runsync')}?wait=1000`, { json: { input: { ms: 5000 } } });
    const waited = Date.now() - t0;
    expect(slow.body).toEqual({ id: expect.any(String), status: 'IN_PROGRESS' });
    expect(waited).toBeGreaterThanOrEqual(900); // it did wait…
    expect(emu.jobs.get(slow.body.id)?.finishedAt).toBeUndefined(); // …and answered because the wait ran out, not the job
  });

  it('timeScale: a 10 s job with timeScale 100 finishes in ~100 ms and reports executionTime ≈ 10000', async () => {
    const emu = await emulator({ executionMs: 10_000, timeScale: 100 });
    const t0 = Date.now();
    const r = await run(emu, { big: true });
    // A status-sync that waits at most 5 s of real time sees the 10 s job end: the job was scaled down.
    const done = await call('GET', `${ep(emu, `status-sync/${r.body.id}`)}?wait=5000`);
    const elapsed = Date.now() - t0;
    expect(done.body.status).toBe('COMPLETED');
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(done.body.executionTime).toBeGreaterThanOrEqual(10_000);
    expect(done.body.executionTime).toBeLessThan(10_500);
  });

  it('policy.executionTimeout ends a long job TIMED_OUT', async () => {
    const emu = await emulator({ executionMs: 2000 });
    const done = await runToEnd(emu, { x: 1 }, { policy: { executionTimeout: 100 } });
    expect(done.body).toMatchObject({ status: 'TIMED_OUT', executionTime: 100 });
    expect(done.body.output).toBeUndefined();
  });

  it('exposes counters at GET /_emulator/stats without auth', async () => {
    const emu = await emulator({ executionMs: 1 });
    await runToEnd(emu, { q: 1 });
    await runToEnd(emu, { q: 1 });
    const s = await call('GET', `${emu.url}/_emulator/stats`, { key: null });
    expect(s.status).toBe(200);
    expect(s.body.jobsCreated).toBe(2);
    expect(s.body.submissionsByInput).toEqual({ '{"q":1}': 2 });
    expect(s.body.requests.run).toBe(2);
    expect(emu.stats.submissionsByInput.get('{"q":1}')).toBe(2);
  });
});

describe('emulator (cloud dialect): auth, routing, validation', () => {
  it('401 without or with a wrong key, checked before the endpoint; 404 for an unknown endpoint', async () => {
    const emu = await emulator({ endpoints: ['ep-a', 'ep-b'] });
    const none = await call('POST', `${emu.baseUrl}/ep-a/run`, { key: null, json: { input: {} } });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'Unauthorized' });
    expect((await call('POST', `${emu.baseUrl}/ep-a/run`, { key: 'nope', json: { input: {} } })).status).toBe(401);
    expect((await call('GET', `${emu.baseUrl}/ghost/health`, { key: null })).status).toBe(401);
    const ghost = await call('GET', `${emu.baseUrl}/ghost/health`);
    expect(ghost.status).toBe(404);
    expect(ghost.body).toEqual({ error: 'endpoint not found' });
    expect((await call('GET', `${emu.baseUrl}/ep-b/health`)).status).toBe(200);
    expect(emu.stats.jobsCreated).toBe(0);
  });

  it('apiKey null accepts requests without Authorization', async () => {
    const emu = await emulator({ apiKey: null });
    expect((await call('GET', ep(emu, 'health'), { key: null })).status).toBe(200);
  });

  it('404 for unknown routes and ids, 405 for wrong methods', async () => {
    const emu = await emulator();
    expect((await call('GET', ep(emu, 'nope'))).status).toBe(404);
    expect((await call('GET', `${emu.url}/somewhere`)).status).toBe(404);
    expect((await call('POST', ep(emu, 'health'))).status).toBe(405);
    expect((await call('GET', ep(emu, 'run'))).status).toBe(405);
    expect((await call('GET', ep(emu, 'cancel/x'))).status).toBe(405);
    const missing = await status(emu, 'no-such-job-u1');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'job not found' });
  });

  it('400 for a body that is not JSON or has no input; 413 over 10 MB', async () => {
    const emu = await emulator();
    const bad = await call('POST', ep(emu, 'run'), { raw: '{not json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual(expect.any(String));
    expect((await call('POST', ep(emu, 'run'), { json: { prompt: 'no input key' } })).status).toBe(400);
    expect((await call('POST', ep(emu, 'run'), { json: { input: 1, policy: { ttl: 'soon' } } })).status).toBe(400);
    const big = JSON.stringify({ input: { blob: 'x'.repeat(10 * 1024 * 1024) } });
    const tooBig = await call('POST', ep(emu, 'run'), { raw: big });
    expect(tooBig.status).toBe(413);
    expect(emu.stats.jobsCreated).toBe(0);
  });
});

describe('emulator (cloud dialect): workers', () => {
  it('cold start shows in delayTime, on first use and again after idleTimeoutMs', async () => {
    // Scaled: cold start 200 ms real, idle timeout 300 ms real.
    const emu = await emulator({ workers: 1, executionMs: 100, coldStartMs: 2000, idleTimeoutMs: 3000, timeScale: 10 });
    const first = await run(emu, { n: 1 });
    const booting = await call('GET', ep(emu, 'health'));
    expect(booting.body.workers.initializing).toBe(1);
    expect((await status(emu, first.body.id)).body.status).toBe('IN_QUEUE'); // waiting for the worker to boot
    const d1 = (await untilStatus(emu, first.body.id, terminal)).body.delayTime;
    expect(d1).toBeGreaterThanOrEqual(2000);
    // The warm worker takes the next job at once: no boot, and no cold start in its delayTime.
    const second = await run(emu, { n: 2 });
    expect((await call('GET', ep(emu, 'health'))).body.workers).toMatchObject({ initializing: 0 }); // (it may be done already)
    const warm = (await untilStatus(emu, second.body.id, terminal)).body.delayTime;
    expect(warm).toBeLessThan(2000);
    // Until the worker has been idle longer than idleTimeoutMs (300 ms real): it went cold.
    const idleSince = emu.jobs.get(second.body.id)?.finishedAt ?? 0;
    await waitFor(() => Date.now() - idleSince > 300, 'the worker idle for more than 300 ms');
    const third = await run(emu, { n: 3 });
    expect((await call('GET', ep(emu, 'health'))).body.workers.initializing).toBe(1);
    const cold = (await untilStatus(emu, third.body.id, terminal)).body.delayTime;
    expect(cold).toBeGreaterThanOrEqual(2000);
  });

  it('never runs more jobs at once than there are workers', async () => {
    const emu = await emulator({ workers: 3, executionMs: 40 });
    const ids = await Promise.all(Array.from({ length: 24 }, (_, i) => run(emu, { i }).then((a) => a.body.id as string)));
    const mid = await call('GET', ep(emu, 'health'));
    expect(mid.body.workers.running).toBeLessThanOrEqual(3);
    expect(mid.body.workers.idle + mid.body.workers.running + mid.body.workers.initializing).toBe(3);
    for (const id of ids) await untilStatus(emu, id, terminal);
    expect(emu.stats.maxConcurrentRunning).toBe(3);
    expect(emu.stats.busyMs).toBeGreaterThanOrEqual(24 * 40 * 0.9);
    const workerIds = new Set(ids.map((id) => emu.jobs.get(id)?.workerId));
    expect(workerIds).toEqual(new Set(['emu-worker-1', 'emu-worker-2', 'emu-worker-3']));
  });

  it('workerConcurrency: a worker runs that many jobs at once, boots once for all of them, and counts as one', async () => {
    // Scaled: cold start 200 ms real; each job runs until the test lets it go.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const emu = await emulator({
      workers: 2,
      workerConcurrency: 5,
      executionMs: 0,
      coldStartMs: 2000,
      timeScale: 10,
      handler: async (input) => {
        await gate;
        return input;
      },
    });
    const ids = await Promise.all(Array.from({ length: 14 }, (_, i) => run(emu, { i }).then((a) => a.body.id as string)));
    const booting = await pollUntil(
      () => call('GET', ep(emu, 'health')),
      (h) => h.body.workers.initializing > 0 || h.body.jobs.inProgress > 0,
      'the workers booting',
    );
    expect(booting.body.workers).toMatchObject({ initializing: 2, running: 0, idle: 0 });
    const busy = await pollUntil(
      () => call('GET', ep(emu, 'health')),
      (h) => h.body.jobs.inProgress === 10,
      'ten jobs running on two workers',
    );
    expect(busy.body.jobs.inQueue).toBe(4);
    expect(busy.body.workers).toMatchObject({ idle: 0, running: 2, initializing: 0 });
    release();
    for (const id of ids) await untilStatus(emu, id, terminal);
    expect(emu.stats.maxConcurrentRunning).toBe(10);
    const jobs = ids.map((id) => emu.jobs.get(id)!);
    expect(new Set(jobs.map((j) => j.workerId))).toEqual(new Set(['emu-worker-1', 'emu-worker-2']));
    // The cold start shows in the delay of the jobs that waited for the boot.
    expect(Math.max(...jobs.map((j) => j.delayTime!))).toBeGreaterThanOrEqual(2000);
  });

  it('health counts jobs by state and workers by activity', async () => {
    const emu = await emulator({
      workers: 1,
      executionMs: 300,
      handler: (input) => {
        if ((input as { fail?: boolean }).fail) throw new Error('nope');
        return input;
      },
    });
    await Promise.all([run(emu, { a: 1 }), run(emu, { a: 2 }), run(emu, { a: 3 })]);
    const busy = await pollUntil(
      () => call('GET', ep(emu, 'health')),
      (h) => h.body.jobs.inProgress === 1,
    );
    expect(busy.body).toEqual({
      jobs: { completed: 0, failed: 0, inProgress: 1, inQueue: 2, retried: 0 },
      workers: expect.objectContaining({ idle: 0, running: 1 }),
    });
    const fail = await run(emu, { fail: true });
    await untilStatus(emu, fail.body.id, terminal);
    const after = await call('GET', ep(emu, 'health'));
    expect(after.body.jobs).toEqual({ completed: 3, failed: 1, inProgress: 0, inQueue: 0, retried: 0 });
    expect(after.body.workers).toMatchObject({ idle: 1, running: 0 });
  });

  it('health() answers what /health would, out of band: no request counted', async () => {
    const emu = await emulator({ workers: 1, executionMs: 60_000 });
    await Promise.all([run(emu, { a: 1 }), run(emu, { a: 2 })]);
    await waitFor(() => emu.health()?.jobs.inProgress === 1, 'one job running');
    const before = emu.stats.requests.health ?? 0;
    expect(emu.health()).toEqual({
      jobs: { completed: 0, failed: 0, inProgress: 1, inQueue: 1, retried: 0 },
      workers: expect.objectContaining({ idle: 0, running: 1, initializing: 0 }),
    });
    expect(emu.stats.requests.health).toBe(before);
    expect((await call('GET', ep(emu, 'health'))).body).toEqual(emu.health());
    expect(emu.stats.requests.health).toBe(before + 1);
    const local = await emulator({ dialect: 'local' });
    expect(local.health()).toBeUndefined();
  });

  it('status-sync returns as soon as the job finishes, or when wait elapses', async () => {
    const emu = await emulator({ executionMs: msOf });
    const r = await run(emu, { ms: 300 });
    let t0 = Date.now();
    // COMPLETED from a 10 s wait on a 300 ms job: it answered when the job ended, not when the wait did.
    const done = await call('GET', `${ep(emu, `status-sync/${r.body.id}`)}?wait=10000`);
    let elapsed = Date.now() - t0;
    expect(done.body.status).toBe('COMPLETED');
    expect(elapsed).toBeGreaterThanOrEqual(200);

    const long = await run(emu, { ms: 60_000 });
    t0 = Date.now();
    const timedOut = await call('GET', `${ep(emu, `status-sync/${long.body.id}`)}?wait=10`); // clamped to 1000
    elapsed = Date.now() - t0;
    expect(timedOut.body).toMatchObject({ id: long.body.id, status: 'IN_PROGRESS' });
    expect(elapsed).toBeGreaterThanOrEqual(900);
  });
});

describe('emulator (cloud dialect): retention, ttl, lost jobs', () => {
  it('a finished result answers 404 once retentionMs has passed', async () => {
    const emu = await emulator({ executionMs: 5, retentionMs: 300 });
    const done = await runToEnd(emu, { r: 1 });
    expect(done.body.status).toBe('COMPLETED');
    const gone = await untilGone(emu, done.body.id);
    expect(Date.now() - (emu.jobs.get(done.body.id)?.finishedAt ?? Date.now())).toBeGreaterThanOrEqual(300); // not before retentionMs
    expect(gone.body).toEqual({ error: 'job not found' });
    const job = emu.jobs.get(done.body.id);
    expect(job?.expired).toBe(true);
    expect(job?.output).toBeUndefined(); // payload pruned
  });

  it('expireAllResults() expires every finished job now; queued ones stay', async () => {
    const emu = await emulator({ workers: 1, executionMs: msOf });
    const done = await runToEnd(emu, { ms: 5 });
    const longRun = await run(emu, { ms: 60_000 });
    emu.expireAllResults();
    expect((await status(emu, done.body.id)).status).toBe(404);
    expect((await status(emu, longRun.body.id)).status).toBe(200);
  });

  it('runsync results are kept 1 minute, /run results retentionMs (scaled)', async () => {
    // timeScale 1000: runsync retention 60 ms real, /run retention 1800 ms real.
    const emu = await emulator({ executionMs: 0, timeScale: 1000 });
    const sync = await call('POST', ep(emu, 'runsync'), { json: { input: { s: 1 } } });
    expect(sync.body.status).toBe('COMPLETED');
    const viaRun = await runToEnd(emu, { s: 2 });
    // The runsync result expires first; the /run result (30 times longer kept) is still there then.
    await untilGone(emu, sync.body.id);
    expect((await status(emu, viaRun.body.id)).status).toBe(200);
  });

  it('policy.ttl removes a job still waiting in the queue', async () => {
    const emu = await emulator({ workers: 1, executionMs: msOf });
    const long = await run(emu, { ms: 1000 });
    const short = await run(emu, { ms: 10 }, { policy: { ttl: 200 } });
    expect((await status(emu, short.body.id)).body.status).toBe('IN_QUEUE');
    await untilGone(emu, short.body.id);
    expect(emu.jobs.get(long.body.id)?.status).toBe('IN_PROGRESS'); // gone while still waiting for the worker
    // Once the worker is free again, the removed job still never runs.
    await untilStatus(emu, long.body.id, terminal);
    expect((await call('GET', ep(emu, 'health'))).body.jobs).toMatchObject({ inQueue: 0, inProgress: 0, completed: 1 });
    expect(emu.jobs.get(short.body.id)?.startedAt).toBeUndefined();
  });

  it('lostJobs: /run answers an id that /status never knows', async () => {
    const emu = await emulator({ executionMs: 5, faults: { lostJobs: 1 } });
    const r = await run(emu, { l: 1 });
    expect(r.body).toEqual({ id: expect.any(String), status: 'IN_QUEUE' });
    expect((await status(emu, r.body.id)).status).toBe(404);
    // After a later (5 ms) job has run to its end, the lost one is still unknown.
    emu.setFaults({});
    await runToEnd(emu, { l: 2 });
    expect((await status(emu, r.body.id)).status).toBe(404);
    expect((await call('POST', ep(emu, `cancel/${r.body.id}`))).status).toBe(404);
    expect(emu.jobs.get(r.body.id)?.lost).toBe(true);
    expect(emu.stats.submissionsByInput.get('{"l":1}')).toBe(1);
    expect((await call('GET', ep(emu, 'health'))).body.jobs.inQueue).toBe(0);
  });

  it('lostJobs at a fraction loses roughly that share, deterministically per seed', async () => {
    const lostWith = async (seed: number) => {
      const emu = await emulator({ seed, executionMs: 0, faults: { lostJobs: 0.3 } });
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) ids.push((await run(emu, { i })).body.id);
      return ids.map((id) => emu.jobs.get(id)?.lost);
    };
    const a = await lostWith(7);
    const lost = a.filter(Boolean).length;
    expect(lost).toBeGreaterThan(15);
    expect(lost).toBeLessThan(45);
    expect(await lostWith(7)).toEqual(a);
  });
});

describe('emulator (cloud dialect): cancel, retry, purge', () => {
  it('cancel removes a queued job and stops a running one', async () => {
    const emu = await emulator({ workers: 1, executionMs: 400 });
    const a = await run(emu, { c: 'a' });
    const b = await run(emu, { c: 'b' });
    await untilStatus(emu, a.body.id, (s) => s === 'IN_PROGRESS');
    const cb = await call('POST', ep(emu, `cancel/${b.body.id}`));
    expect(cb.status).toBe(200);
    expect(cb.body).toEqual({ id: b.body.id, status: 'CANCELLED' });
    const ca = await call('POST', ep(emu, `cancel/${a.body.id}`));
    expect(ca.body).toEqual({ id: a.body.id, status: 'CANCELLED' });
    // The worker is free at once: a new job starts without waiting for a's 400 ms.
    const c = await run(emu, { c: 'c' });
    await untilStatus(emu, c.body.id, (s) => s === 'IN_PROGRESS');
    const ja = emu.jobs.get(a.body.id);
    const jc = emu.jobs.get(c.body.id);
    expect(jc?.workerId).toBe(ja?.workerId);
    expect(jc?.startedAt).toBeLessThan((ja?.startedAt ?? 0) + 400);
    // c runs 400 ms too, started after a: once c has ended, a's 400 ms have passed as well.
    const cc = await untilStatus(emu, c.body.id, terminal);
    expect(cc.body.status).toBe('COMPLETED');
    expect((await status(emu, a.body.id)).body.status).toBe('CANCELLED'); // a's late result is discarded
    expect(emu.jobs.get(a.body.id)?.output).toBeUndefined();
    expect(emu.jobs.get(b.body.id)?.startedAt).toBeUndefined(); // b never ran
    const again = await call('POST', ep(emu, `cancel/${c.body.id}`));
    expect(again.body).toEqual({ id: c.body.id, status: 'COMPLETED' }); // terminal jobs stay as they were
    expect((await call('POST', ep(emu, 'cancel/unknown-u1'))).status).toBe(404);
  });

  it('failFirstAttempt: first attempt FAILED, a resubmission of the same input COMPLETED', async () => {
    const emu = await emulator({ executionMs: 5, faults: { failFirstAttempt: 1 } });
    const first = await runToEnd(emu, { row: 1 });
    expect(first.body.status).toBe('FAILED');
    expect(JSON.parse(first.body.error).error_type).toBe('EmulatedFault');
    const second = await runToEnd(emu, { row: 1 });
    expect(second.body).toMatchObject({ status: 'COMPLETED', output: { echo: { row: 1 } } });
    expect((await runToEnd(emu, { row: 2 })).body.status).toBe('FAILED'); // another input: its own first attempt
    expect(emu.stats.submissionsByInput.get('{"row":1}')).toBe(2);
  });

  it('timedOut fault: first attempt TIMED_OUT, then fine', async () => {
    const emu = await emulator({ executionMs: 5, faults: { timedOut: 1 } });
    expect((await runToEnd(emu, { t: 1 })).body.status).toBe('TIMED_OUT');
    expect((await runToEnd(emu, { t: 1 })).body.status).toBe('COMPLETED');
  });

  it('failFirstAttempt at a fraction fails roughly that share of distinct inputs', async () => {
    const emu = await emulator({ executionMs: 0, workers: 8, faults: { failFirstAttempt: 0.25 } });
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => run(emu, { i }).then((a) => a.body.id as string)));
    const ends = await Promise.all(ids.map((id) => untilStatus(emu, id, terminal)));
    const failed = ends.filter((e) => e.body.status === 'FAILED').length;
    expect(failed).toBeGreaterThan(25);
    expect(failed).toBeLessThan(75);
  });

  it('/retry requeues a FAILED job with the same id and input, attempt + 1', async () => {
    const attempts: number[] = [];
    const emu = await emulator({
      executionMs: 5,
      handler: (input, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('flaky');
        return { echo: input };
      },
    });
    const failed = await runToEnd(emu, { r: 'x' });
    expect(failed.body.status).toBe('FAILED');
    const retried = await call('POST', ep(emu, `retry/${failed.body.id}`));
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ id: failed.body.id, status: 'IN_QUEUE' });
    const done = await untilStatus(emu, failed.body.id, terminal);
    expect(done.body).toMatchObject({ status: 'COMPLETED', output: { echo: { r: 'x' } } });
    expect(done.body.error).toBeUndefined();
    expect(attempts).toEqual([1, 2]);
    expect(emu.jobs.get(failed.body.id)?.attempt).toBe(2);
    expect(emu.stats.submissionsByInput.get('{"r":"x"}')).toBe(1); // a retry is not a new submission
    expect((await call('GET', ep(emu, 'health'))).body.jobs.retried).toBe(1);
    expect((await call('POST', ep(emu, `retry/${failed.body.id}`))).status).toBe(400); // COMPLETED now
    expect((await call('POST', ep(emu, 'retry/unknown-u1'))).status).toBe(404);
  });

  it('/retry of an expired FAILED job answers 400', async () => {
    const emu = await emulator({ executionMs: 5, faults: { failFirstAttempt: 1 } });
    const failed = await runToEnd(emu, { e: 1 });
    emu.expireAllResults();
    expect((await call('POST', ep(emu, `retry/${failed.body.id}`))).status).toBe(400);
  });

  it('/purge-queue removes queued jobs only', async () => {
    const emu = await emulator({ workers: 1, executionMs: 300 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await run(emu, { p: i })).body.id);
    await untilStatus(emu, ids[0]!, (s) => s === 'IN_PROGRESS');
    const purged = await call('POST', ep(emu, 'purge-queue'));
    expect(purged.body).toEqual({ removed: 4, status: 'completed' });
    for (const id of ids.slice(1)) expect((await status(emu, id)).status).toBe(404);
    expect((await untilStatus(emu, ids[0]!, terminal)).body.status).toBe('COMPLETED');
    expect((await call('GET', ep(emu, 'health'))).body.jobs).toMatchObject({ inQueue: 0, completed: 1 });
  });
});

describe('emulator (cloud dialect): HTTP faults and rate limits', () => {
  it('429 over a rate limit, with Retry-After when asked, without otherwise; a 429 /run creates nothing', async () => {
    const emu = await emulator({
      faults: {
        rateLimits: { status: { limit: 3, windowMs: 60_000, retryAfter: true }, run: { limit: 1, windowMs: 60_000 } },
      },
    });
    const answers: Answer[] = [];
    for (let i = 0; i < 5; i++) answers.push(await status(emu, 'whatever-u1'));
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 429, 429]);
    expect(answers[3]!.headers['retry-after']).toBe('60');
    expect(answers[3]!.body).toEqual({ error: expect.any(String) });
    // status-sync shares the /status limit (RUNPOD_API.md).
    expect((await call('GET', ep(emu, 'status-sync/x'))).status).toBe(429);

    expect((await run(emu, { a: 1 })).status).toBe(200);
    const limited = await run(emu, { a: 2 });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(emu.stats.jobsCreated).toBe(1);
    expect(emu.stats.rateLimited).toMatchObject({ status: 2, 'status-sync': 1, run: 1 });

    emu.setFaults({});
    expect((await run(emu, { a: 3 })).status).toBe(200);
  });

  it('the rate-limit window frees after windowMs', async () => {
    const emu = await emulator({ faults: { rateLimits: { health: { limit: 1, windowMs: 300, retryAfter: true } } } });
    const t0 = Date.now(); // the window opens at the first request, at or after t0
    expect((await call('GET', ep(emu, 'health'))).status).toBe(200);
    const limited = await call('GET', ep(emu, 'health'));
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    // Polling does not hold the window shut (a 429 does not count): the next window lets one request through.
    await pollUntil(
      () => call('GET', ep(emu, 'health')),
      (a) => a.status === 200,
      'health answering 200 again',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300); // not before the window ended
  });

  it('500, 502 and resets appear at roughly the configured rates', async () => {
    const emu = await emulator({ seed: 42, faults: { http500: 0.2, http502: 0.1, reset: 0.1 } });
    const seen = { ok: 0, http500: 0, http502: 0, reset: 0 };
    const n = 400;
    for (let i = 0; i < n; i++) {
      try {
        const a = await call('GET', ep(emu, 'health'));
        if (a.status === 200) seen.ok++;
        else if (a.status === 500) {
          seen.http500++;
          expect(a.body).toEqual({ error: expect.any(String) });
        } else if (a.status === 502) {
          seen.http502++;
          expect(a.headers['content-type']).toContain('text/html');
          expect(a.text).toContain('502 Bad Gateway');
        } else throw new Error(`unexpected ${a.status}`);
      } catch (err) {
        if ((err as Error).message.startsWith('unexpected')) throw err;
        seen.reset++;
      }
    }
    // Order: reset 10 %; then 500 on 20 % of the rest (18 %); then 502 on 10 % of the rest (7.2 %).
    expect(seen.reset).toBeGreaterThan(n * 0.1 * 0.5);
    expect(seen.reset).toBeLessThan(n * 0.1 * 1.5);
    expect(seen.http500).toBeGreaterThan(n * 0.18 * 0.6);
    expect(seen.http500).toBeLessThan(n * 0.18 * 1.4);
    expect(seen.http502).toBeGreaterThan(n * 0.072 * 0.5);
    expect(seen.http502).toBeLessThan(n * 0.072 * 1.6);
    expect(emu.stats.faults).toMatchObject({ http500: seen.http500, http502: seen.http502, reset: seen.reset });
    expect(emu.stats.requests.health).toBe(n);
  });

  it('slow answers exceed a client timeout, yet the /run behind them happened', async () => {
    const emu = await emulator({ executionMs: 5, faults: { slow: 1, slowMs: 400 } });
    await expect(call('POST', ep(emu, 'run'), { json: { input: { s: 1 } }, timeoutMs: 100 })).rejects.toThrow();
    expect(emu.stats.jobsCreated).toBe(1); // RUNPOD_API.md: a lost /run answer may have created a job
    const t0 = Date.now();
    const patient = await call('GET', ep(emu, 'health'));
    expect(patient.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    expect(emu.stats.faults.slow).toBe(2);
  });
});

describe('emulator: close()', () => {
  // The bound is this test's timeout: a poll close() did not release would wait its 60 s, past 15 s.
  it('releases a pending long poll promptly', { timeout: 15_000 }, async () => {
    const emu = await startEmulator({ port: 0, executionMs: 60_000 });
    const r = await run(emu, { forever: true });
    const poll = call('GET', `${ep(emu, `status-sync/${r.body.id}`)}?wait=60000`).then(
      (a) => a.status,
      () => 'error' as const,
    );
    await waitFor(() => emu.stats.requests['status-sync'] === 1, 'the long poll reaching the emulator');
    await emu.close();
    // Released: the poll ends with an answer or a closed connection, not with the job's end (it never ran out).
    expect([200, 'error']).toContain(await poll);
    expect(emu.jobs.get(r.body.id)?.finishedAt).toBeUndefined();
  });

  // The bound is this test's timeout: the child's timers and polls would hold it for 30 s to 60 s.
  it('leaves nothing behind: a process with running jobs, slow answers and long polls exits after close()', {
    timeout: 25_000,
  }, async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        fileURLToPath(new URL('../support/ts-loader.mjs', import.meta.url)),
        fileURLToPath(new URL('../support/emulator-close-child.mjs', import.meta.url)),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // A child that hangs is killed when the test ends (by its timeout).
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toContain('closed');
  });
});
