/**
 * `--concurrency auto` (the default) against the emulator: the in-flight target is learned from /health.
 * Counted facts only (workers busy, jobs held, /health calls), no timings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchStatus, type BatchProgress, runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();

function opts(e: Emulator, input: string, extra: Partial<RunBatchOptions> = {}): RunBatchOptions {
  return { input, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, ...extra };
}

describe('auto-sizing (the default)', () => {
  it('grows past its start to keep 40 workers busy, and says why', async () => {
    const e = await startEmulator({ workers: 40, executionMs: 150 });
    const seen: BatchProgress[] = [];
    const r = await runBatch(opts(e, writeJsonl(dir, 'forty.jsonl', 1500), { progressIntervalMs: 50, onProgress: (p) => seen.push(p) }));
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBe(40);
    const reasons = seen.map((p) => p.sizing?.reason ?? '');
    expect(reasons.some((x) => /^growing: \d+ idle workers?$/.test(x))).toBe(true);
    expect(Math.max(...seen.map((p) => p.sizing?.target ?? 0))).toBeGreaterThan(40);
    // /health is read sparingly and counted with the other requests.
    const stats = JSON.parse(readFileSync(join(r.outDir, 'stats.json'), 'utf8')) as {
      requests: Record<string, { requests: number }>;
      wallSeconds: number;
    };
    expect(stats.requests.health!.requests).toBeGreaterThanOrEqual(1);
    expect(stats.requests.health!.requests).toBeLessThanOrEqual(Math.ceil(stats.wallSeconds / 3) + 2);
    // status and the report say the target and why, from the state.
    const st = batchStatus(r.outDir);
    const last = seen.findLast((p) => p.sizing !== null)!.sizing!;
    expect(st.sizing).toMatchObject({ target: last.target, reason: last.reason });
    const md = readFileSync(r.files.reportMd, 'utf8');
    expect(md).toContain(`**In-flight target** (\`--concurrency auto\`): ${last.target} at `);
    expect(readFileSync(r.files.reportHtml, 'utf8')).toContain('<b>In-flight target</b>');
  });

  it('on 3 workers, holds a short queue instead of 100 jobs waiting', async () => {
    const e = await startEmulator({ workers: 3, executionMs: 40 });
    const seen: BatchProgress[] = [];
    const r = await runBatch(opts(e, writeJsonl(dir, 'three.jsonl', 600), { progressIntervalMs: 20, onProgress: (p) => seen.push(p) }));
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBe(3);
    // Once settled (the last 40 % of the run, after two looks at /health): 3 running + a queue of at most max(10, 2 × 3).
    const settled = seen.slice(Math.floor(seen.length * 0.6));
    expect(settled.length).toBeGreaterThan(10);
    expect(Math.max(...settled.map((p) => p.inFlight))).toBeLessThanOrEqual(13);
    expect(seen.some((p) => p.sizing?.mode === 'holding' || p.sizing?.mode === 'probing')).toBe(true);
  });

  it('fills workers that run 30 jobs each (worker-vllm) though none is ever idle', async () => {
    const e = await startEmulator({ workers: 3, workerConcurrency: 30, executionMs: 400 });
    const seen: BatchProgress[] = [];
    const r = await runBatch(
      opts(e, writeJsonl(dir, 'vllm.jsonl', 1200), { healthEveryMs: 300, progressIntervalMs: 50, onProgress: (p) => seen.push(p) }),
    );
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBe(90);
    expect(seen.some((p) => /^growing: \d+ jobs running on 3 workers, none queued$/.test(p.sizing?.reason ?? ''))).toBe(true);
  });

  it('maxQueue bounds the jobs left waiting on the endpoint; a bad value is refused before anything runs', async () => {
    const e = await startEmulator({ workers: 3, executionMs: 40 });
    const seen: BatchProgress[] = [];
    const input = writeJsonl(dir, 'maxq.jsonl', 400);
    const r = await runBatch(opts(e, input, { maxQueue: 2, healthEveryMs: 200, progressIntervalMs: 20, onProgress: (p) => seen.push(p) }));
    expect(r.exitCode).toBe(0);
    const settled = seen.slice(Math.floor(seen.length * 0.6));
    expect(settled.length).toBeGreaterThan(10);
    expect(Math.max(...settled.map((p) => p.inFlight))).toBeLessThanOrEqual(3 + 2);
    const created = e.stats.jobsCreated;
    await expect(runBatch(opts(e, input, { maxQueue: -1, out: join(dir, 'maxq-bad') }))).rejects.toThrow(
      /--max-queue: must be a whole number/,
    );
    expect(e.stats.jobsCreated).toBe(created);
  });

  it('a number is a hard cap on the learned target', async () => {
    const e = await startEmulator({ workers: 40, executionMs: 100 });
    const seen: BatchProgress[] = [];
    const r = await runBatch(
      opts(e, writeJsonl(dir, 'capped.jsonl', 400), { concurrency: 12, progressIntervalMs: 20, onProgress: (p) => seen.push(p) }),
    );
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBeLessThanOrEqual(12);
    expect(Math.max(...seen.map((p) => p.inFlight))).toBeLessThanOrEqual(12);
    expect(seen.every((p) => p.sizing === null || p.sizing.target <= 12)).toBe(true);
  });

  it('autoSize: false keeps exactly the number in flight, and reads no /health', async () => {
    const e = await startEmulator({ workers: 40, executionMs: 100 });
    const seen: BatchProgress[] = [];
    const r = await runBatch(
      opts(e, writeJsonl(dir, 'fixed.jsonl', 400), {
        concurrency: 12,
        autoSize: false,
        progressIntervalMs: 20,
        onProgress: (p) => seen.push(p),
      }),
    );
    expect(r.exitCode).toBe(0);
    expect(seen.every((p) => p.sizing === null)).toBe(true);
    expect(e.stats.requests.health ?? 0).toBe(0);
    expect(batchStatus(r.outDir).sizing).toBeNull();
    expect(readFileSync(r.files.reportMd, 'utf8')).not.toContain('In-flight target');
  });
});

describe('against an autoscaling endpoint (the emulator scales as RunPod does)', () => {
  it('queue delay: the endpoint grows to its max on the queue auto-sizing keeps, then stops its idle workers', async () => {
    // 0 → 12 workers, a worker per job waiting > 300 ms, 200 ms cold starts, stop after 400 ms idle. Jobs of 100 ms:
    // the growth queue (4 jobs a worker) makes a job wait ~400 ms, past the scaler's 300 — as 4 × 1–2 s jobs pass
    // RunPod's 4 s. (With 60 ms jobs, 4 a worker is 240 ms: the endpoint stopped at 10 workers on a slow machine.)
    const e = await startEmulator({
      workers: 12,
      minWorkers: 0,
      scaler: 'queue-delay',
      scalerValue: 300,
      coldStartMs: 200,
      idleTimeoutMs: 400,
      executionMs: 100,
    });
    const r = await runBatch(opts(e, writeJsonl(dir, 'scaling.jsonl', 720), { healthEveryMs: 300 }));
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBe(12);
    expect(e.stats.workersStarted).toBeGreaterThanOrEqual(12);
    // Each worker's first job waited for its cold start: the report counts them.
    const md = readFileSync(join(r.outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/(\d+) of \1 workers had a cold start|of \d+ workers had a cold start/);
    // Idle workers stop: /health ends at zero workers, and the billed worker time is counted.
    const health = async () =>
      (await (await fetch(`${e.baseUrl}/test-endpoint/health`, { headers: { authorization: 'Bearer test-key' } })).json()) as {
        workers: { idle: number; running: number };
      };
    for (;;) {
      const h = await health();
      if (h.workers.idle + h.workers.running === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(e.stats.workerMs).toBeGreaterThan(0);
  });

  it('a fixed 3 in flight never lets it grow past a few workers: the client’s queue is the scaling signal', async () => {
    const e = await startEmulator({
      workers: 12,
      minWorkers: 0,
      scaler: 'request-count',
      scalerValue: 1,
      coldStartMs: 100,
      idleTimeoutMs: 400,
      executionMs: 40,
    });
    const r = await runBatch(opts(e, writeJsonl(dir, 'starved.jsonl', 200), { concurrency: 3, autoSize: false }));
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBeLessThanOrEqual(3);
  });

  it('the report estimates the cold starts from the workers /health showed starting, not from the first jobs’ waits', async () => {
    // 0 → 6 workers added once jobs waited 300 ms, each booting 1 s, /health read every 100 ms: every boot is seen.
    const e = await startEmulator({
      workers: 6,
      minWorkers: 0,
      scaler: 'queue-delay',
      scalerValue: 300,
      coldStartMs: 1000,
      idleTimeoutMs: 400,
      executionMs: 60,
    });
    const r = await runBatch(opts(e, writeJsonl(dir, 'cold.jsonl', 300), { healthEveryMs: 100 }));
    expect(r.exitCode).toBe(0);
    const md = readFileSync(r.files.reportMd, 'utf8');
    const m =
      /Estimated billed cold-start time: ([\d.,]+) s — the worker time RunPod's \/health showed starting \(`initializing`\), summed over (\d+) reads/.exec(
        md,
      );
    expect(m, md.slice(md.indexOf('## Cold starts'), md.indexOf('## Cold starts') + 800)).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(1);
    expect(md).toMatch(/Those first jobs waited [\d.,]+ s in all/);
    // A later `runpod-batch report` redraws it from the state alike.
    expect(readFileSync(r.files.reportHtml, 'utf8')).toMatch(/workers starting in \d+ \/health reads/);
    // A later run with a fixed --concurrency: no /health read watches its workers boot, so the batch's estimate goes
    // back to the jobs' (which cover every run).
    const more = await runBatch(opts(e, writeJsonl(dir, 'cold.jsonl', 360), { concurrency: 4, autoSize: false }));
    expect(more.submitted).toBe(60);
    const md2 = readFileSync(more.files.reportMd, 'utf8');
    expect(md2).toMatch(/## Cold starts/);
    expect(md2).not.toMatch(/the worker time RunPod's \/health showed starting/);
  });

  it('request count: auto-sizing grows it to its max', async () => {
    const e = await startEmulator({
      workers: 16,
      minWorkers: 0,
      scaler: 'request-count',
      scalerValue: 2,
      coldStartMs: 150,
      idleTimeoutMs: 400,
      executionMs: 60,
    });
    const r = await runBatch(opts(e, writeJsonl(dir, 'rc.jsonl', 1200), { healthEveryMs: 300 }));
    expect(r.exitCode).toBe(0);
    expect(e.stats.maxConcurrentRunning).toBe(16);
  });
});
