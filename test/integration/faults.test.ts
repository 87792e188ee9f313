import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import type { Emulator, EmulatorOptions, FaultOptions } from '../../src/emulator/index.js';
import { readResults, readStats } from '../support/results.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { abortWhen, waitFor } from '../support/wait.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let n = 0;
const outDir = () => join(dir, `out-${++n}`);

async function run(e: Emulator, rows: number, extra: Partial<RunBatchOptions> = {}) {
  const input = writeJsonl(dir, `in-${++n}.jsonl`, rows);
  const out = outDir();
  const r = await runBatch({ input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, ...extra });
  return { r, out, input };
}

/** Every row exactly once, in order, COMPLETED with its own echoed input. */
function expectAllCompleted(out: string, rows: number) {
  const res = readResults(out);
  expect(res).toHaveLength(rows);
  expect(res.map((x) => x.id)).toEqual(Array.from({ length: rows }, (_, i) => `r${i + 1}`));
  for (const x of res) {
    expect(x.status).toBe('COMPLETED');
    expect(x.output).toEqual({ echo: x.input });
  }
}

const SCENARIOS: [string, FaultOptions, Partial<RunBatchOptions>][] = [
  ['10% HTTP 500', { http500: 0.1 }, {}],
  ['5% HTTP 502 with an HTML body', { http502: 0.05 }, {}],
  ['5% of sockets reset before any answer', { reset: 0.05 }, {}],
  ['answers slower than the client timeout', { slow: 0.03, slowMs: 1500 }, { timeoutMs: 400 }],
  ['2% of jobs lost (404 on /status)', { lostJobs: 0.02 }, {}],
  ['10% FAILED on the first attempt', { failFirstAttempt: 0.1 }, {}],
  ['some TIMED_OUT', { timedOut: 0.05 }, {}],
  ['10% COMPLETED with no output on the first attempt', { emptyOutput: 0.1 }, {}],
  ["5% COMPLETED with worker-vllm's error inside the output on the first attempt", { errorOutput: 0.05 }, {}],
  ['429 storm on /run with Retry-After', { rateLimits: { run: { limit: 80, windowMs: 1000, retryAfter: true } } }, {}],
  [
    '429 storm on /run and /status without Retry-After',
    { rateLimits: { run: { limit: 80, windowMs: 1000 }, status: { limit: 120, windowMs: 1000 } } },
    {},
  ],
  [
    'all of these at once',
    {
      http500: 0.1,
      http502: 0.05,
      reset: 0.05,
      slow: 0.02,
      slowMs: 1500,
      lostJobs: 0.02,
      failFirstAttempt: 0.1,
      timedOut: 0.03,
      emptyOutput: 0.05,
      errorOutput: 0.03,
      rateLimits: { run: { limit: 100, windowMs: 1000, retryAfter: true }, status: { limit: 150, windowMs: 1000 } },
    },
    { timeoutMs: 400 },
  ],
];

describe('faults from the endpoint: every row still ends COMPLETED, exactly once, with default settings', () => {
  it.each(SCENARIOS)('%s', async (_name, faults, extra) => {
    const e = await startEmulator({ workers: 16, executionMs: { min: 5, max: 40 }, faults, seed: 7 } satisfies EmulatorOptions);
    const rows = 200;
    const { r, out } = await run(e, rows, extra);
    expect(r.exitCode, r.message).toBe(0);
    expectAllCompleted(out, rows);
    const stats = readStats(out);
    expect(stats.rows.completed).toBe(rows);
    const injected =
      Object.values(e.stats.faults).reduce((a, b) => a + b, 0) + Object.values(e.stats.rateLimited).reduce((a, b) => a + b, 0);
    // Jobs that did not deliver: lost, not COMPLETED, or COMPLETED without the echo (an empty output, an error inside it).
    const lostOrFailed = [...e.jobs.values()].filter(
      (j) => j.lost || j.status !== 'COMPLETED' || j.output === undefined || Array.isArray(j.output),
    ).length;
    expect(injected + lostOrFailed).toBeGreaterThan(0); // the fault really happened
  });

  it('results that expired while the client was away run again and count as expired', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 300, retentionMs: 60_000 });
    const rows = 40;
    const input = writeJsonl(dir, 'expire.jsonl', rows);
    const out = outDir();
    const base = { input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, concurrency: 20 };
    const ac = new AbortController();
    // Interrupted once the endpoint has 20 jobs (the concurrency): most are still queued on its 4 workers.
    abortWhen(ac, () => e.stats.jobsCreated >= 20, '20 jobs on the endpoint');
    const first = await runBatch({ ...base, signal: ac.signal });
    expect(first.exitCode).toBe(130);
    const left = readResults(out).filter((x) => x.status !== 'COMPLETED');
    const inFlight = left.filter((x) => x.jobId !== null).length;
    expect(inFlight).toBeGreaterThan(0);
    // The jobs finish on the endpoint while nobody watches…
    await waitFor(() => [...e.jobs.values()].every((j) => j.status === 'COMPLETED'), 'every job on the endpoint COMPLETED');
    e.expireAllResults(); // …and their results pass the retention
    // A 404 for a job submitted longer ago than retentionMs is an expired result (younger: a lost job). The last jobs
    // may be under a second old here, so any age counts.
    const second = await runBatch({ ...base, retentionMs: 1 });
    expect(second.exitCode).toBe(0);
    expectAllCompleted(out, rows);
    const stats = readStats(out);
    expect(stats.rows.expired).toBe(inFlight);
    expect(readResults(out).filter((x) => x.expired === 1)).toHaveLength(inFlight);
  });
});

describe('stop instead of burning the file', () => {
  it('401 stops after at most 3 requests, even with concurrency 100', async () => {
    const e = await startEmulator();
    const { r } = await run(e, 500, { apiKey: 'wrong', concurrency: 100 });
    expect(r.exitCode).toBe(1);
    expect(r.message).toMatch(/HTTP 401.*RUNPOD_API_KEY/);
    const total = Object.values(e.stats.requests).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(3);
  });

  it('a crash-looping worker: stop admitting, exit 2 with a diagnosis, most of the file untouched', async () => {
    const e = await startEmulator({
      workers: 4,
      handler: () => {
        throw new Error('CUDA error: no kernel image is available');
      },
    });
    const rows = 1000;
    const { r, out } = await run(e, rows, { concurrency: 8 });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/last 10 jobs all FAILED with the same error \(Error: CUDA error: no kernel image/);
    expect(e.stats.jobsCreated).toBeLessThan(50);
    const res = readResults(out);
    expect(res).toHaveLength(rows);
    expect(res.filter((x) => x.status === 'PENDING').length).toBeGreaterThan(900);
  });

  it('the thresholds are configurable: --crash-loop 3 stops sooner, 0 never stops', async () => {
    const boom = () => {
      throw new Error('same every time');
    };
    const e = await startEmulator({ workers: 1, executionMs: 1, handler: boom });
    const early = await run(e, 200, { concurrency: 1, retries: 0, crashLoopJobs: 3, maxFailureRate: 1 });
    expect(early.r.exitCode).toBe(2);
    expect(early.r.message).toMatch(/last 3 jobs all FAILED/);
    expect(e.stats.jobsCreated).toBe(3);
    const never = await run(e, 60, { concurrency: 4, retries: 0, crashLoopJobs: 0, maxFailureRate: 1 });
    expect(never.r.exitCode).toBe(2);
    expect(never.r.message).toBeUndefined();
    expect(never.r.stats.rows.byStatus).toEqual({ FAILED: 60 });
  });

  it('a sustained failure rate after retries: exit 2', async () => {
    const e = await startEmulator({
      workers: 8,
      handler: (input) => {
        const k = (input as { n: number }).n;
        if (k % 4 !== 0) throw new Error(`row ${k} is bad`); // 75% fail, each with its own message
        return k;
      },
    });
    const { r } = await run(e, 2000, { concurrency: 16, retries: 0 });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/of the last 50 rows did not complete after retries/);
    expect(e.stats.jobsCreated).toBeLessThan(200);
  });

  it('--cancel-on-exit cancels the jobs in flight; the next run runs them again', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 5000 });
    const rows = 12;
    const input = writeJsonl(dir, 'cancel.jsonl', rows);
    const out = outDir();
    const base = { input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl };
    const ac = new AbortController();
    abortWhen(ac, () => e.stats.jobsCreated === rows, `all ${rows} jobs on the endpoint`);
    const logs: string[] = [];
    const first = await runBatch({ ...base, signal: ac.signal, cancelOnExit: true, log: (m) => logs.push(m) });
    expect(first.exitCode).toBe(130);
    expect(logs.join('\n')).toMatch(/cancelled 12, already ended 0/);
    expect([...e.jobs.values()].every((j) => j.status === 'CANCELLED')).toBe(true);
    expect(readResults(out).every((x) => x.status === 'PENDING')).toBe(true);
    await e.close();
    const fresh = await startEmulator({ workers: 12, executionMs: 10 });
    const second = await runBatch({ ...base, baseUrl: fresh.baseUrl });
    expect(second.exitCode).toBe(0);
    expect(second.submitted).toBe(rows);
  });
});
