import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { readParquetFile } from '../support/parquet-read.js';
import { readJsonl, readResults } from '../support/results.js';
import { cliStatus, runCli, startCli } from '../support/cli.js';
import { splitIntoShards } from '../support/shards.js';
import { emulatorsClosedAfterEach, ENV } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let emu: Emulator | undefined;
let n = 0;
function batch(rows: number) {
  const input = writeJsonl(dir, `c${++n}.jsonl`, rows);
  const out = join(dir, `c${n}.out`);
  return {
    input,
    out,
    run: (...extra: string[]) => [
      'run',
      input,
      '--endpoint',
      'test-endpoint',
      '--base-url',
      emu!.baseUrl,
      '--out',
      out,
      '--no-progress',
      ...extra,
    ],
  };
}

describe('commands around a batch', () => {
  it('status reads a running batch, then a finished one (--log-format json)', async () => {
    // The jobs end only when the test lets them: the run is still going while `status` reads it.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const e = await startEmulator({
      workers: 2,
      executionMs: 10,
      handler: async (i) => {
        await gate;
        return { echo: i };
      },
    });
    emu = e;
    const b = batch(30);
    const running = startCli(b.run(), ENV);
    const inProgress = () => [...e.jobs.values()].filter((j) => j.status === 'IN_PROGRESS').length;
    await waitFor(() => inProgress() === 2 || running.exited(), 'both workers running a job');
    // Until the state has caught up with every job the emulator made (the run commits job ids in batches).
    await waitFor(
      async () => (await cliStatus(b.out))?.byState.SUBMITTED === e.stats.jobsCreated || running.exited(),
      'state.sqlite shows every job as SUBMITTED',
    );
    const live = await runCli(['status', b.out, '--log-format', 'json']);
    expect(live.code).toBe(0);
    const s = JSON.parse(live.stdout.trim());
    expect(s.event).toBe('status');
    expect(s.total).toBe(30);
    expect(s.runningPid).toBe(running.child.pid);
    // None can end while the gate is shut: every row is either submitted (as many as auto-sizing put in flight) or pending.
    const submitted = s.byState.SUBMITTED as number;
    expect(submitted).toBeGreaterThanOrEqual(2);
    expect(submitted + (s.byState.PENDING ?? 0)).toBe(30);
    expect(Object.keys(s.byState).filter((k) => k !== 'SUBMITTED' && k !== 'PENDING')).toEqual([]);
    expect(s.inFlight).toBe(submitted);
    release();
    expect((await running.done).code).toBe(0);
    const after = await runCli(['status', b.out]);
    expect(after.stdout).toMatch(/30\/30 rows done \(100\.0%\)/);
    expect(after.stdout).toMatch(/not running/);
    expect(after.stdout).toMatch(/in-flight target \d+ — (starting|growing|holding|probing|shrinking): .+ \(when the last run stopped\)/);
  });

  it('report regenerates every view from the state; export writes JSONL and flattened CSV', async () => {
    emu = await startEmulator();
    const b = batch(5);
    expect((await runCli(b.run(), ENV)).code).toBe(0);
    const results = readFileSync(join(b.out, 'results.jsonl'), 'utf8');
    for (const f of ['results.jsonl', 'errors.jsonl', 'stats.json', 'report.md', 'report.html']) rmSync(join(b.out, f));
    const r = await runCli(['report', b.out]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(b.out, 'results.jsonl'), 'utf8')).toBe(results);
    expect(readFileSync(join(b.out, 'report.md'), 'utf8')).toMatch(/#/);
    expect(readFileSync(join(b.out, 'report.html'), 'utf8')).toMatch(/<svg/);

    const jsonl = await runCli(['export', b.out]);
    expect(jsonl.stdout).toBe(results);
    const csvPath = join(dir, 'export.csv');
    expect((await runCli(['export', b.out, '--format', 'csv', '-o', csvPath])).code).toBe(0);
    const [header, first] = readFileSync(csvPath, 'utf8').split('\r\n');
    const cols = header!.split(',');
    expect(cols).toEqual(
      expect.arrayContaining(['id', 'status', 'input.id', 'input.prompt', 'input.n', 'output.echo.prompt', 'jobId', 'executionTime']),
    );
    const cells = first!.split(',');
    expect(cells[cols.indexOf('output.echo.prompt')]).toBe('p1');
    expect(cells[cols.indexOf('status')]).toBe('COMPLETED');
  });

  it('export writes Parquet that another reader reads back, and a Hugging Face dataset folder', async () => {
    emu = await startEmulator();
    const b = batch(7);
    expect((await runCli(b.run(), ENV)).code).toBe(0);
    const results = readJsonl(join(b.out, 'results.jsonl'));

    const noFile = await runCli(['export', b.out, '--format', 'parquet']);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toMatch(/-o <file\.parquet>/);

    const file = join(dir, 'e2e.parquet');
    const pq = await runCli(['export', b.out, '--format', 'parquet', '-o', file, '--log-format', 'json']);
    expect(pq.code).toBe(0);
    expect(JSON.parse(pq.stdout.trim())).toMatchObject({ event: 'export', format: 'parquet', rows: 7 });
    const { types, rows } = readParquetFile(file);
    expect(types.input).toBe('Struct<{id:Utf8, prompt:Utf8, n:Int64}>');
    expect(rows.map((r) => r.id)).toEqual(results.map((r) => r.id));
    expect(rows.map((r) => (r.output as { echo: { n: bigint } }).echo.n)).toEqual(results.map((_, i) => BigInt(i + 1)));

    const ds = join(dir, 'e2e-dataset');
    const hf = await runCli(['export', b.out, '--format', 'hf', '-o', ds]);
    expect(hf.code).toBe(0);
    expect(hf.stdout).toMatch(/wrote a parquet dataset of 7 rows to .*e2e-dataset/);
    expect(readParquetFile(join(ds, 'data', 'train-00000-of-00001.parquet')).rows).toHaveLength(7);
    expect(readFileSync(join(ds, 'README.md'), 'utf8')).toMatch(/^---\npretty_name: "c\d+\.jsonl"\n[\s\S]*\| rows \| 7 \|/);
    const again = await runCli(['export', b.out, '--format', 'hf', '-o', ds]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists and is not empty/);
  });

  it("export takes the folders of an input's shards and writes one file in input order (--format openai)", async () => {
    emu = await startEmulator();
    const b = batch(9);
    expect((await runCli(b.run(), ENV)).code).toBe(0);
    const whole = await runCli(['export', b.out, '--format', 'openai']);
    expect(whole.code).toBe(0);
    const lines = whole.stdout
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id)).toEqual(Array.from({ length: 9 }, (_, i) => `r${i + 1}`));
    expect(lines[0]).toMatchObject({ response: { status_code: 200, body: { echo: { id: 'r1', prompt: 'p1', n: 1 } } }, error: null });

    const [s1, s2, s3] = splitIntoShards(b.out, 3, join(dir, `c${n}-shards`));
    const merged = await runCli(['export', s3!, s1!, s2!, '--format', 'openai']);
    expect(merged.code).toBe(0);
    expect(merged.stdout).toBe(whole.stdout);
    expect(merged.stderr).toBe('');

    const file = join(dir, 'merged-two.jsonl');
    const two = await runCli(['export', s1!, s3!, '-o', file]);
    expect(two.code).toBe(0);
    expect(two.stderr).toMatch(/^runpod-batch: warning: shard 1\/3 of .*c\d+\.jsonl is not among the folders given/);
    expect(readJsonl(file).map((r) => r.id)).toEqual(['r1', 'r3', 'r4', 'r6', 'r7', 'r9']);

    const mixed = await runCli(['export', b.out, s1!]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/is not a shard \(its batch was not run with --shard k\/n\)/);
  });

  it('retry runs the rows that failed again', async () => {
    emu = await startEmulator({ faults: { failFirstAttempt: 0.3 }, seed: 5 });
    const b = batch(40);
    const first = await runCli(b.run('--retries', '0'), ENV);
    expect(first.code).toBe(2);
    const failed = readResults(b.out).filter((x) => x.status === 'FAILED').length;
    expect(failed).toBeGreaterThan(3);
    const r = await runCli(['retry', b.out, '--no-progress'], ENV);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`${failed} rows that had not completed were queued again`));
    expect(readResults(b.out).every((x) => x.status === 'COMPLETED')).toBe(true);
    expect(emu.stats.jobsCreated).toBe(40 + failed);
  });

  it('cancel stops the jobs a killed run left on RunPod; the next run runs them again', async () => {
    emu = await startEmulator({ workers: 2, executionMs: 20_000 });
    const b = batch(6);
    const cli = startCli(b.run(), ENV);
    // Until the state holds all 6 jobs (each 20 s long, so none ends before the kill).
    await waitFor(async () => (await cliStatus(b.out))?.byState.SUBMITTED === 6 || cli.exited(), 'state.sqlite shows 6 SUBMITTED rows');
    cli.child.kill('SIGKILL');
    expect((await cli.done).signal).toBe('SIGKILL');
    expect(emu.stats.jobsCreated).toBe(6);
    const c = await runCli(['cancel', b.out], ENV);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/cancelled 6 jobs/);
    expect([...emu.jobs.values()].every((j) => j.status === 'CANCELLED')).toBe(true);
    const s = JSON.parse((await runCli(['status', b.out, '--log-format', 'json'])).stdout);
    expect(s.inFlight).toBe(0);
    expect(s.byState.PENDING).toBe(6);
  });

  it('--max-cost stops admitting before the cap, exit 2; a higher cap continues', async () => {
    emu = await startEmulator({ workers: 4, executionMs: 1500 }); // billed 2 s per job
    const b = batch(30);
    // $0.01/s → $0.02 per job: a $0.21 cap holds 10 jobs.
    const r = await runCli(b.run('--price-per-second', '0.01', '--max-cost', '0.21', '--concurrency', '4'), ENV);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-cost \$0\.21 reached/);
    expect(r.stdout).toMatch(/^next: The run stopped at its cost cap .*raise --max-cost/m);
    expect(readFileSync(join(b.out, 'report.md'), 'utf8')).toMatch(/\*\*Next:\*\* The run stopped at its cost cap/);
    const stats = JSON.parse(readFileSync(join(b.out, 'stats.json'), 'utf8'));
    expect(stats.estimatedCostUsd).toBeLessThanOrEqual(0.21);
    expect(stats.rows.completed).toBeGreaterThanOrEqual(8);
    expect(emu.stats.jobsCreated).toBeLessThanOrEqual(10);
    const r2 = await runCli(b.run('--price-per-second', '0.01', '--max-cost', '1', '--concurrency', '8'), ENV);
    expect(r2.code, r2.stderr).toBe(0);
    expect(emu.stats.jobsCreated).toBe(30);
  });

  it('--dry-run validates and estimates without a request; --sample runs N rows for real', async () => {
    emu = await startEmulator({ workers: 4, executionMs: 2500 });
    const b = batch(200);
    const d = await runCli(b.run('--dry-run', '--expected-seconds', '2.5', '--gpu', '24gb'), ENV);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/200 valid rows/);
    expect(d.stdout).toMatch(/billed: ~600 s/); // 200 × ceil(2.5)
    expect(d.stdout).toMatch(/cost: {3}~\$0\.1140/); // 600 × 0.00019
    expect(Object.values(emu.stats.requests).reduce((a, x) => a + x, 0)).toBe(0);
    const s = await runCli(b.run('--dry-run', '--sample', '4', '--gpu', '24gb', '--log-format', 'json'), ENV);
    expect(s.code, s.stderr).toBe(0);
    const est = JSON.parse(s.stdout.trim().split('\n').pop()!);
    expect(est).toMatchObject({ event: 'estimate', rows: 200, basis: 'sample', billedSeconds: 588 }); // 196 left × 3 s
    expect(emu.stats.jobsCreated).toBe(4);
  });

  it('--quiet prints nothing on success; --log-format json prints one result object; --config supplies options', async () => {
    emu = await startEmulator();
    const b = batch(3);
    const q = await runCli(b.run('--quiet'), ENV);
    expect(q.code).toBe(0);
    expect(q.stdout).toBe('');
    expect(q.stderr).toBe('');
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ endpoint: 'test-endpoint', 'base-url': emu.baseUrl, concurrency: 2 }));
    const out = join(dir, 'cfg.out');
    const j = await runCli(['run', b.input, '--config', cfg, '--out', out, '--log-format', 'json'], ENV);
    expect(j.code, j.stderr).toBe(0);
    const lines = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'result', exitCode: 0, rows: { completed: 3 } });
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readJsonl(join(out, 'results.jsonl'))).toHaveLength(3);
  });

  it('every command has --help with examples', async () => {
    for (const cmd of ['run', 'status', 'report', 'export', 'retry', 'cancel', 'emulate']) {
      const h = await runCli([cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout, cmd).toMatch(/Examples:/);
    }
  });
});
