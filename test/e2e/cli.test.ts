import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { readResults } from '../support/results.js';
import { runCli, runArgs, startCli } from '../support/cli.js';
import { emulatorsClosedAfterEach, ENV } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let emu: Emulator | undefined;

describe('the runpod-batch bin', () => {
  it('--help lists the run flags', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--endpoint',
      '--out',
      '--base-url',
      '--concurrency',
      '--retries',
      '--id-field',
      '--csv-cast',
      '--price-per-second',
      '--no-progress',
      '--limit',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('exit 1 and file:line for malformed input, nothing submitted', async () => {
    emu = await startEmulator();
    const r = await runCli(
      [
        'run',
        join(import.meta.dirname, '..', '..', 'fixtures', 'bad', 'malformed.jsonl'),
        '--endpoint',
        'test-endpoint',
        '--base-url',
        emu.baseUrl,
        '--out',
        join(dir, 'bad'),
      ],
      ENV,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/malformed\.jsonl:\d+: invalid JSON/);
    expect(emu.stats.requests.run ?? 0).toBe(0);
  });

  it('exit 1 without an API key, naming the variable', async () => {
    const input = writeJsonl(dir, 'nokey.jsonl', 2);
    const r = await runCli(['run', input, '--endpoint', 'e', '--base-url', 'http://127.0.0.1:9/v2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('RUNPOD_API_KEY');
  });

  it('exit 1 for a --base-url that is not a URL, naming the flag', async () => {
    const input = writeJsonl(dir, 'badurl.jsonl', 2);
    for (const url of ['127.0.0.1:8000', 'http://exa mple.com/v2']) {
      const r = await runCli(['run', input, '--endpoint', 'e', '--base-url', url], { RUNPOD_API_KEY: 'k' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('--base-url: must be an http(s) URL');
    }
  });

  it('exit 1 on a bad key, without printing it', async () => {
    emu = await startEmulator();
    const input = writeJsonl(dir, 'badkey.jsonl', 5);
    const r = await runCli(['run', input, '--endpoint', 'test-endpoint', '--base-url', emu.baseUrl, '--no-progress'], {
      RUNPOD_API_KEY: 'sk-secret-xyz',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401/);
    expect(r.stdout + r.stderr).not.toContain('sk-secret-xyz');
  });

  it('exit 2 when some rows fail, with the endpoint from RUNPOD_ENDPOINT_ID', async () => {
    emu = await startEmulator({
      handler: (i) => {
        if ((i as { n: number }).n === 3) throw new Error('bad row');
        return 1;
      },
    });
    const input = writeJsonl(dir, 'some-fail.jsonl', 5);
    const out = join(dir, 'some-fail');
    const r = await runCli(['run', input, '--base-url', emu.baseUrl, '--out', out, '--retries', '0'], {
      ...ENV,
      RUNPOD_ENDPOINT_ID: 'test-endpoint',
    });
    expect(r.code).toBe(2);
    expect(readResults(out).map((x) => x.status)).toEqual(['COMPLETED', 'COMPLETED', 'FAILED', 'COMPLETED', 'COMPLETED']);
    expect(r.stdout).toContain('results.jsonl');
  });

  it('emulate --empty-output-rate 1: run exits 2 with RPB_EMPTY_OUTPUT rows; run --accept-empty-output exits 0', async () => {
    const emulate = startCli(['emulate', '--port', '0', '--exec-ms', '5', '--empty-output-rate', '1']);
    try {
      await waitFor(() => /listening on (http:\S+)/.test(emulate.stdout()) || emulate.exited(), 'the emulator listening');
      const url = /listening on (http:\S+)/.exec(emulate.stdout())?.[1];
      expect(url, emulate.stderr()).toBeDefined();
      // Every first attempt is empty: with --retries 0 every row fails, its error naming the way out.
      const input = writeJsonl(dir, 'empty.jsonl', 4);
      const out = join(dir, 'empty');
      const failed = await runCli([...runArgs(input, `${url}/v2`, out, 4), '--retries', '0'], ENV);
      expect(failed.code, failed.stderr).toBe(2);
      const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n');
      expect(errors).toHaveLength(4);
      for (const l of errors) expect(JSON.parse(l)).toMatchObject({ status: 'FAILED', errorCode: 'RPB_EMPTY_OUTPUT' });
      // Other inputs (first attempts again), taken as they come.
      const input2 = writeJsonl(dir, 'empty-ok.jsonl', 4, (i) => ({ id: `e${i}`, n: 100 + i }));
      const out2 = join(dir, 'empty-ok');
      const ok = await runCli([...runArgs(input2, `${url}/v2`, out2, 4), '--retries', '0', '--accept-empty-output'], ENV);
      expect(ok.code, ok.stderr).toBe(0);
      expect(readResults(out2).map((x) => x.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    } finally {
      emulate.child.kill('SIGINT');
      await emulate.done;
    }
  });

  it('SIGKILL mid-run several times, then rerun: every row exactly once; only /run answers lost in a kill ran twice', async () => {
    emu = await startEmulator({ workers: 8, executionMs: { min: 50, max: 150 } });
    const rows = 600;
    const concurrency = 24;
    const input = writeJsonl(dir, 'kill.jsonl', rows);
    const out = join(dir, 'kill');
    const args = runArgs(input, emu.baseUrl, out, concurrency);
    const kills = 4;
    const e = emu;
    for (let k = 0; k < kills; k++) {
      const cli = startCli(args, ENV);
      // Each run is killed once the emulator has made another fifth of the rows' jobs: 120, 240, 360, 480.
      const target = ((k + 1) * rows) / (kills + 1);
      await waitFor(() => e.stats.jobsCreated >= target || cli.exited(), `the emulator has created ${target} jobs`);
      cli.child.kill('SIGKILL');
      const r = await cli.done;
      expect(r.signal, `run ${k} ended before its kill: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
    }
    // The kills landed mid-run: work was left for the last run.
    const before = new Database(join(out, 'state.sqlite'), { readonly: true });
    const completedBefore = (before.prepare(`SELECT count(*) AS n FROM rows WHERE state = 'COMPLETED'`).get() as { n: number }).n;
    before.close();
    expect(completedBefore).toBeGreaterThan(0);
    expect(completedBefore).toBeLessThan(rows);
    const r = await runCli(args, ENV);
    expect(r.code, r.stderr).toBe(0);
    const res = readResults(out);
    expect(res).toHaveLength(rows);
    expect(new Set(res.map((x) => x.id)).size).toBe(rows);
    expect(res.every((x) => x.status === 'COMPLETED')).toBe(true);
    expect(res.every((x) => JSON.stringify(x.output) === JSON.stringify({ echo: x.input }))).toBe(true);
    // The state knows one job per row: no row was submitted twice knowingly.
    const db = new Database(join(out, 'state.sqlite'), { readonly: true });
    const known = new Set((db.prepare('SELECT job_id FROM jobs').all() as { job_id: string }[]).map((j) => j.job_id));
    db.close();
    expect(known.size).toBe(rows);
    // Each job the state knows is a job the emulator made, and ran to its end.
    expect([...known].filter((id) => emu?.jobs.get(id)?.status !== 'COMPLETED')).toEqual([]);
    // Jobs the emulator made that the state never heard of: /run answers lost in a kill, at most those in flight.
    const unknown = [...emu.jobs.keys()].filter((id) => !known.has(id)).length;
    expect(unknown).toBe(emu.stats.jobsCreated - rows);
    expect(unknown).toBeLessThanOrEqual(kills * concurrency);
    let twice = 0;
    for (const c of emu.stats.submissionsByInput.values()) if (c > 1) twice += c - 1;
    expect(twice).toBe(unknown);
  });

  it('SIGINT stops admitting, saves state, exits 130; the rerun finishes without resubmitting', async () => {
    emu = await startEmulator({ workers: 4, executionMs: 100 });
    const rows = 200;
    const input = writeJsonl(dir, 'int.jsonl', rows);
    const out = join(dir, 'int');
    const args = runArgs(input, emu.baseUrl, out, 8);
    const cli = startCli(args, ENV);
    const e = emu;
    await waitFor(() => e.stats.jobsCreated >= 40 || cli.exited(), 'the emulator has created 40 jobs');
    const createdAtSignal = e.stats.jobsCreated;
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping, saving state/);
    // It stopped admitting: after the signal, only the /run requests already sent (at most --concurrency) made jobs.
    const createdAtInterrupt = emu.stats.jobsCreated;
    expect(createdAtInterrupt - createdAtSignal).toBeLessThanOrEqual(8);
    expect(createdAtInterrupt).toBeLessThan(rows);
    // It did not wait for the jobs in flight to end: they are saved as SUBMITTED, for the rerun to follow.
    const st = new Database(join(out, 'state.sqlite'), { readonly: true });
    const submitted = (st.prepare(`SELECT count(*) AS n FROM rows WHERE state = 'SUBMITTED'`).get() as { n: number }).n;
    st.close();
    expect(submitted).toBeGreaterThan(0);
    const partial = readResults(out);
    expect(partial).toHaveLength(rows);
    const r2 = await runCli(args, ENV);
    expect(r2.code).toBe(0);
    expect(emu.stats.jobsCreated).toBe(rows);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(rows);
  });
});
