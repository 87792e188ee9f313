import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { readResults } from '../support/results.js';
import { cliStatus, runCli, runArgs, startCli } from '../support/cli.js';
import { emulatorsClosedAfterEach, ENV } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let emu: Emulator | undefined;

/** Deterministic pseudo-random kill points. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('crash safety', () => {
  // 21 process starts and a 2,000-row batch with faults: on a loaded 2-core machine this takes 40 to 70 s.
  it('SIGKILL at random moments 20 times over a 2,000-row batch with faults on, then rerun: every row exactly once', {
    timeout: 150_000,
  }, async () => {
    // Faults that do not create jobs behind the client's back (a "slow" answer would: its /run was served).
    emu = await startEmulator({
      workers: 12,
      executionMs: { min: 50, max: 150 },
      faults: {
        http500: 0.05,
        http502: 0.02,
        reset: 0.02,
        lostJobs: 0.01,
        failFirstAttempt: 0.05,
        rateLimits: { status: { limit: 2000, windowMs: 1000 } },
      },
      seed: 3,
    });
    const rows = 2000;
    const concurrency = 64;
    const input = writeJsonl(dir, 'kill20.jsonl', rows);
    const out = join(dir, 'kill20');
    const args = runArgs(input, emu.baseUrl, out, concurrency);
    const random = rng(42);
    const kills = 20;
    const e = emu;
    for (let k = 0; k < kills; k++) {
      const cli = startCli(args, ENV);
      // Killed at a random point of its progress: once the emulator has answered 0 to 199 more requests of any
      // kind (0: before or at its first request), whatever the machine's speed.
      const target = Object.values(e.stats.requests).reduce((a, b) => a + b, 0) + Math.floor(random() * 200);
      await waitFor(
        () => Object.values(e.stats.requests).reduce((a, b) => a + b, 0) >= target || cli.exited(),
        `the emulator has had ${target} requests`,
      );
      cli.child.kill('SIGKILL');
      const r = await cli.done;
      expect(r.signal, `run ${k} ended before its kill: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
    }
    const db = new Database(join(out, 'state.sqlite'), { readonly: true });
    const doneBefore = (db.prepare(`SELECT count(*) AS n FROM rows WHERE state = 'COMPLETED'`).get() as { n: number }).n;
    db.close();
    expect(doneBefore).toBeGreaterThan(0);
    expect(doneBefore).toBeLessThan(rows);
    console.log(`kill test: ${doneBefore} of ${rows} rows completed across the 20 killed runs`);

    const r = await runCli(args, ENV);
    expect(r.code, r.stderr).toBe(0);
    const res = readResults(out);
    expect(res).toHaveLength(rows);
    expect(res.map((x) => x.id)).toEqual(Array.from({ length: rows }, (_, i) => `r${i + 1}`));
    expect(res.every((x) => x.status === 'COMPLETED' && JSON.stringify(x.output) === JSON.stringify({ echo: x.input }))).toBe(true);

    // Every job the emulator made is either known to the state, or was a /run in flight at one of the kills.
    const state = new Database(join(out, 'state.sqlite'), { readonly: true });
    const known = new Set((state.prepare('SELECT job_id FROM jobs').all() as { job_id: string }[]).map((j) => j.job_id));
    state.close();
    const unknown = [...emu.jobs.keys()].filter((id) => !known.has(id)).length;
    expect(unknown).toBeLessThanOrEqual(kills * concurrency);
    // Known jobs beyond one per row are the engine's own reruns (first-attempt failures, lost jobs) — each accounted for.
    const reruns = res.reduce((a, x) => a + x.attempts - 1, 0);
    expect(known.size).toBe(rows + reruns);
  });

  it('two Ctrl-C: the second exits at once; the state stays consistent and the rerun completes', async () => {
    emu = await startEmulator({ workers: 4, executionMs: 200 });
    const rows = 100;
    const input = writeJsonl(dir, 'twice.jsonl', rows);
    const out = join(dir, 'twice');
    const args = runArgs(input, emu.baseUrl, out, 16);
    const cli = startCli(args, ENV);
    const e = emu;
    // Until jobs are in flight (16 submitted, 4 workers: most of them queued on the endpoint).
    await waitFor(() => e.stats.jobsCreated >= 16 || cli.exited(), 'the emulator has created 16 jobs');
    cli.child.kill('SIGINT');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(e.stats.jobsCreated).toBeLessThan(rows);
    const r2 = await runCli(args, ENV);
    expect(r2.code, r2.stderr).toBe(0);
    const res = readResults(out);
    expect(res).toHaveLength(rows);
    expect(res.every((x) => x.status === 'COMPLETED')).toBe(true);
  });

  it('a second process on the same --out refuses to start while the first runs', async () => {
    // The jobs end only when the test lets them: the first run cannot finish before the second has tried.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    emu = await startEmulator({
      workers: 2,
      executionMs: 10,
      handler: async (i) => {
        await gate;
        return { echo: i };
      },
    });
    const input = writeJsonl(dir, 'lock.jsonl', 20);
    const out = join(dir, 'lock');
    const args = ['run', input, '--endpoint', 'test-endpoint', '--base-url', emu.baseUrl, '--out', out, '--no-progress'];
    const first = startCli(args, ENV);
    // Until the first run holds the batch, as `status` sees it.
    await waitFor(
      async () => (await cliStatus(out))?.runningPid === first.child.pid || first.exited(),
      'status shows the first run holding the batch',
    );
    const second = await runCli(args, ENV);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another runpod-batch \(pid \d+\) is running this batch/);
    expect(first.exited()).toBe(false);
    release();
    expect((await first.done).code).toBe(0);
    expect(emu.stats.jobsCreated).toBe(20);
  });
});
