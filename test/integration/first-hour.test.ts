/**
 * What a new user trips over in the first hour, against the emulator (real HTTP, real SQLite, real files).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateError, UsageError } from '../../src/core/errors.js';
import type { Emulator } from '../../src/emulator/index.js';
import { batchStatus, defaultOutDir, dryRun, runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { readResults } from '../support/results.js';
import { runCli, startCli } from '../support/cli.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { Store } from '../../src/store/store.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();

function opts(e: Emulator, input: string, extra: Partial<RunBatchOptions> = {}): RunBatchOptions {
  return { input, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, ...extra };
}

describe('two inputs never share one batch', () => {
  it('prompts.jsonl and prompts.csv get folders of their own by default', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 5 });
    const sub = join(dir, 'pair');
    const jsonl = writeJsonl(dir, 'pair.jsonl', 30);
    const csv = join(dir, 'pair.csv');
    writeFileSync(csv, `id,prompt\n${Array.from({ length: 20 }, (_, i) => `c${i},q${i}`).join('\n')}\n`);
    expect(defaultOutDir(jsonl)).toBe(`${sub}.jsonl.runpod`);
    expect(defaultOutDir(csv)).toBe(`${sub}.csv.runpod`);
    const a = await runBatch(opts(e, jsonl));
    const b = await runBatch(opts(e, csv));
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect(a.outDir).not.toBe(b.outDir);
    expect(readResults(a.outDir).map((r) => r.id)).toEqual(Array.from({ length: 30 }, (_, i) => `r${i + 1}`));
    expect(readResults(b.outDir).map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
  });

  it('a run whose input is another file than the batch in --out is refused, and nothing is touched', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 5 });
    const out = join(dir, 'shared.runpod');
    const first = writeJsonl(dir, 'first.jsonl', 10);
    const other = writeJsonl(dir, 'other.jsonl', 12, (i) => ({ id: `o${i}`, prompt: `x${i}` }));
    expect((await runBatch(opts(e, first, { out }))).exitCode).toBe(0);
    const before = readFileSync(join(out, 'results.jsonl'), 'utf8');
    const jobs = e.stats.jobsCreated;
    const err = await runBatch(opts(e, other, { out })).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toMatch(/holds the batch of .*first\.jsonl, not of .*other\.jsonl/);
    expect((err as Error).message).toMatch(/--replace-input/);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8')).toBe(before);
    expect(e.stats.jobsCreated).toBe(jobs);
    // Said explicitly, the other file becomes the batch's input.
    const r = await runBatch(opts(e, other, { out, replaceInput: true }));
    expect(r.exitCode).toBe(0);
    expect(readResults(out).map((x) => x.id)).toEqual(Array.from({ length: 12 }, (_, i) => `o${i + 1}`));
    // From then on it runs without the flag, and the first file is the stranger.
    expect((await runBatch(opts(e, other, { out }))).submitted).toBe(0);
    await expect(runBatch(opts(e, first, { out }))).rejects.toThrow(StateError);
  });

  it('the same file, moved: refused without --replace-input; with it, nothing runs again', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 5 });
    const out = join(dir, 'moved.runpod');
    const a = writeJsonl(dir, 'moved-a.jsonl', 10);
    const b = join(dir, 'moved-b.jsonl');
    copyFileSync(a, b);
    expect((await runBatch(opts(e, a, { out }))).exitCode).toBe(0);
    await expect(runBatch(opts(e, b, { out }))).rejects.toThrow(StateError);
    const r = await runBatch(opts(e, b, { out, replaceInput: true }));
    expect(r.submitted).toBe(0);
    expect((await runBatch(opts(e, b, { out }))).submitted).toBe(0);
  });

  it('an edited file at the same path still resumes: only its new and changed rows run', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 5 });
    const input = writeJsonl(dir, 'edited.jsonl', 10);
    expect((await runBatch(opts(e, input))).exitCode).toBe(0);
    writeJsonl(dir, 'edited.jsonl', 12, (i) => ({ id: `r${i}`, prompt: i === 3 ? 'changed' : `p${i}`, n: i }));
    const r = await runBatch(opts(e, input));
    expect(r.submitted).toBe(3);
    expect(r.ingest).toMatchObject({ added: 2, changed: 1, unchanged: 9 });
  });

  it("the folder an earlier version chose by default (no extension) is used when it holds this file's batch", async () => {
    const e = await startEmulator({ workers: 8, executionMs: 5 });
    const input = writeJsonl(dir, 'legacy.jsonl', 8);
    const legacy = join(dir, 'legacy.runpod');
    expect((await runBatch(opts(e, input, { out: legacy }))).exitCode).toBe(0);
    const logs: string[] = [];
    const r = await runBatch(opts(e, input, { log: (m) => logs.push(m) }));
    expect(r.outDir).toBe(legacy);
    expect(r.submitted).toBe(0);
    expect(logs.join('\n')).toMatch(/using .*legacy\.runpod, the folder earlier runs/);
    expect(existsSync(defaultOutDir(input))).toBe(false);
  });
});

/** A port nothing listens on: taken from the OS, then closed again. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('a server that is not there', () => {
  it('stops the run with exit 1 and a message naming the URL and the error, without submitting anything', async () => {
    const port = await closedPort();
    const input = writeJsonl(dir, 'nobody.jsonl', 20);
    const progress: { inFlight: number; retrying: unknown }[] = [];
    const r = await runBatch({
      input,
      out: join(dir, 'nobody.runpod'),
      endpoint: 'ep',
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${port}/v2`,
      unreachableMs: 1500,
      progressIntervalMs: 100,
      onProgress: (p) => progress.push({ inFlight: p.inFlight, retrying: p.retrying }),
    });
    expect(r.exitCode).toBe(1);
    expect(r.message).toMatch(new RegExp(`cannot reach the server: POST http://127\\.0\\.0\\.1:${port}/v2/ep/run: ECONNREFUSED`));
    expect(r.message).toMatch(/check --base-url/);
    expect(r.submitted).toBe(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.inFlight === 0)).toBe(true);
    expect(progress.some((p) => (p.retrying as { label?: string } | null)?.label === 'ECONNREFUSED')).toBe(true);
  });
});

describe('a dry run with a sample', () => {
  it('loads the whole file as the batch: the sample rows are its first done rows, and the next run resumes with the rest', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 5 });
    const input = writeJsonl(dir, 'sampled.jsonl', 100);
    const out = join(dir, 'sampled.runpod');
    const est = await dryRun({ ...opts(e, input, { out }), sample: 20 });
    expect(est).toMatchObject({ rows: 100, basis: 'sample', sample: { rows: 20 } });
    expect(e.stats.jobsCreated).toBe(20);
    const st = batchStatus(out);
    expect(st.total).toBe(100);
    expect(st.byState).toEqual({ COMPLETED: 20, PENDING: 80 });
    expect(
      readResults(out)
        .slice(0, 20)
        .every((r) => r.status === 'COMPLETED'),
    ).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).not.toMatch(/All 20 rows completed/);
    const logs: string[] = [];
    const r = await runBatch(opts(e, input, { out, log: (m) => logs.push(m) }));
    expect(logs.join('\n')).toMatch(/resuming: .* is unchanged since the last run/);
    expect(logs.join('\n')).not.toMatch(/input changed/);
    expect(r.submitted).toBe(80);
    expect(r.exitCode).toBe(0);
    expect(e.stats.jobsCreated).toBe(100);
  });
});

describe('the next step is the real one, and errors.jsonl holds only rows that failed', () => {
  it('a refused key: the state keeps why the run stopped, the next step says to fix the key, errors.jsonl is empty', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 5 });
    const input = writeJsonl(dir, 'badkey.jsonl', 30);
    const r = await runBatch(opts(e, input, { apiKey: 'not-the-key' }));
    expect(r.exitCode).toBe(1);
    expect(r.next.action).toBe('fix-key');
    expect(r.next.text).toMatch(/set a valid RUNPOD_API_KEY/);
    expect(r.stats.rows).toMatchObject({ total: 30, failed: 0, unfinished: 30 });
    expect(readFileSync(join(r.outDir, 'errors.jsonl'), 'utf8')).toBe('');
    const md = readFileSync(join(r.outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/\*\*Next:\*\* RunPod refused the API key .*set a valid RUNPOD_API_KEY/);
    expect(md).not.toMatch(/the run was interrupted/);
    // `status` says the same, not "rerun the same command to resume".
    expect(batchStatus(r.outDir).next).toMatchObject({ action: 'fix-key' });
    const store = Store.open(r.outDir, { readonly: true });
    try {
      expect(store.lastStop()).toMatchObject({ kind: 'fatal', code: 'RPB_AUTH' });
    } finally {
      store.close();
    }
  });

  it('after Ctrl-C: errors.jsonl lists the FAILED rows only, the unfinished ones are counted apart', async () => {
    const e = await startEmulator({
      workers: 2,
      executionMs: 10,
      handler: (input) => {
        if ((input as { n: number }).n % 5 === 0) throw new Error('bad row');
        return input;
      },
    });
    const input = writeJsonl(dir, 'ctrlc.jsonl', 300);
    const ac = new AbortController();
    const r = await runBatch(
      opts(e, input, {
        concurrency: 2,
        retries: 0,
        signal: ac.signal,
        progressIntervalMs: 20,
        onProgress: (p) => {
          if (p.failed >= 3) ac.abort();
        },
      }),
    );
    expect(r.exitCode).toBe(130);
    const errors = readFileSync(join(r.outDir, 'errors.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string; error: unknown });
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(errors.map((x) => x.status))).toEqual(new Set(['FAILED']));
    for (const x of errors) expect(x.error).not.toBeNull();
    expect(r.stats.rows.failed).toBe(errors.length);
    expect(r.stats.rows.unfinished).toBeGreaterThan(0);
    expect(r.stats.rows.completed + r.stats.rows.failed + r.stats.rows.unfinished).toBe(300);
    expect(r.next.action).toBe('resume');
  });
});

describe('a closed pipe ends the command quietly', () => {
  // The reader of stdout is gone before the command writes anything: every write meets EPIPE.
  async function withStdoutClosed(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const { child, done } = startCli(args, env);
    child.stdout!.destroy();
    const r = await done;
    return { code: r.code, stderr: r.stderr };
  }

  it('`export … | head` and `run … | head`: no EPIPE stack, the exit code of the command', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 1 });
    const input = writeJsonl(dir, 'pipe.jsonl', 400, (i) => ({ id: `r${i}`, prompt: 'x'.repeat(2000) }));
    const env = { RUNPOD_API_KEY: 'test-key' };
    const run = await withStdoutClosed(['run', input, '--endpoint', 'test-endpoint', '--base-url', e.baseUrl, '--no-progress'], env);
    expect(run.stderr).not.toMatch(/EPIPE|Error:|at /);
    expect(run.code).toBe(0);
    expect(readResults(defaultOutDir(input))).toHaveLength(400);
    for (const format of ['jsonl', 'csv']) {
      const ex = await withStdoutClosed(['export', defaultOutDir(input), '--format', format], env);
      expect(ex.stderr).not.toMatch(/EPIPE|Error:|at /);
      expect(ex.code).toBe(0);
    }
  });
});

describe('rough edges of a first run', () => {
  it('invalid input leaves no empty folder behind; a folder that existed stays', async () => {
    const e = await startEmulator({ workers: 2, executionMs: 1 });
    const bad = join(dir, 'broken.jsonl');
    writeFileSync(bad, '{"id":"a","prompt":"x"}\n{not json\n');
    await expect(runBatch(opts(e, bad))).rejects.toThrow(/broken\.jsonl:2/);
    expect(existsSync(defaultOutDir(bad))).toBe(false);
    const out = join(dir, 'kept.out');
    mkdirSync(out);
    await expect(runBatch(opts(e, bad, { out }))).rejects.toThrow(/broken\.jsonl:2/);
    expect(existsSync(out)).toBe(true);
    expect(e.stats.jobsCreated).toBe(0);
  });

  it('--out naming a file: a sentence, not EEXIST', async () => {
    const e = await startEmulator({ workers: 2, executionMs: 1 });
    const input = writeJsonl(dir, 'outfile.jsonl', 3);
    const file = join(dir, 'not-a-folder.txt');
    writeFileSync(file, 'x');
    const err = await runBatch(opts(e, input, { out: file })).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`--out ${file}: is a file, not a folder; name a folder (it is created if missing)`);
  });

  it('a resume with --max-cost and no price flags uses the price the batch was run with', async () => {
    const e = await startEmulator({ workers: 2, executionMs: 1 });
    const input = writeJsonl(dir, 'priced.jsonl', 10);
    const ac = new AbortController();
    const first = await runBatch(
      opts(e, input, {
        pricePerSecond: 0.001,
        concurrency: 1,
        signal: ac.signal,
        progressIntervalMs: 10,
        onProgress: (p) => p.completed >= 2 && ac.abort(),
      }),
    );
    expect(first.exitCode).toBe(130);
    const r = await runBatch(opts(e, input, { maxCost: 100 }));
    expect(r.exitCode).toBe(0);
    expect(r.stats.estimatedCostUsd).toBeCloseTo(r.stats.billedSeconds * 0.001, 9);
    // Without --max-cost too: the cost figures keep the price.
    const again = await runBatch(opts(e, input));
    expect(again.stats.estimatedCostUsd).not.toBeNull();
  });
});

describe('mistyped flags and config keys', () => {
  it('--concurency suggests --concurrency; an unknown key in --config names the file; a broken config names it too', async () => {
    const input = writeJsonl(dir, 'typo.jsonl', 2);
    const flag = await runCli(['run', input, '--concurency', '5']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/unknown flag --concurency \(did you mean --concurrency\?\)/);
    const cfg = join(dir, 'typo.json');
    writeFileSync(cfg, JSON.stringify({ endpoint: 'e', retires: 3 }));
    const key = await runCli(['run', input, '--config', cfg]);
    expect(key.code).toBe(1);
    expect(key.stderr).toContain(`${cfg}: unknown key "retires" (did you mean "retries"?)`);
    writeFileSync(cfg, '{"endpoint": ');
    const broken = await runCli(['run', input, '--config', cfg]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`--config ${cfg}: not valid JSON`);
    expect(broken.stderr).not.toMatch(/unexpected error/);
  });
});

describe('partial results during the night', () => {
  it('report and export work read-only while a run holds the batch; the run then ends as usual', async () => {
    // Rows after the 5th end only when the test lets them: the run is surely still going while report and export read.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const e = await startEmulator({
      workers: 2,
      executionMs: 10,
      handler: async (input) => {
        if ((input as { n: number }).n > 5) await gate;
        return input;
      },
    });
    const input = writeJsonl(dir, 'night.jsonl', 40);
    const out = defaultOutDir(input);
    const env = { RUNPOD_API_KEY: 'test-key' };
    const running = startCli(
      ['run', input, '--endpoint', 'test-endpoint', '--base-url', e.baseUrl, '--no-progress', '--concurrency', '2'],
      env,
    );
    // Wait until the run has finished some rows (a condition, not a time).
    for (;;) {
      const s = existsSync(join(out, 'state.sqlite')) ? await runCli(['status', out, '--log-format', 'json']) : null;
      if (s?.code === 0 && (JSON.parse(s.stdout) as { byState: Record<string, number> }).byState.COMPLETED! >= 3) break;
      await new Promise((r) => setImmediate(r));
    }
    const report = await runCli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/a snapshot: a run \(pid \d+\) is in progress/);
    const snapshot = readResults(out);
    expect(snapshot).toHaveLength(40);
    expect(snapshot.filter((r) => r.status === 'COMPLETED').length).toBeGreaterThanOrEqual(3);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\*\*Next:\*\* A run is in progress: this is a snapshot/);
    const exported = await runCli(['export', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.trim().split('\n')).toHaveLength(40);
    release();
    const done = await running.done;
    expect(done.code, done.stderr).toBe(0);
    expect(readResults(out).every((r) => r.status === 'COMPLETED')).toBe(true);
  });
});

describe('jobs in flight across a Ctrl-C', () => {
  it('are not measured end to end (the gap is not latency), so they are not the slowest rows', async () => {
    const e = await startEmulator({ workers: 2, executionMs: 300 });
    const input = writeJsonl(dir, 'across.jsonl', 12);
    const ac = new AbortController();
    const first = await runBatch(
      opts(e, input, {
        concurrency: 4,
        signal: ac.signal,
        progressIntervalMs: 10,
        onProgress: (p) => p.completed >= 2 && p.inFlight >= 2 && ac.abort(),
      }),
    );
    expect(first.exitCode).toBe(130);
    const inFlight = new Map(
      readResults(first.outDir)
        .filter((r) => r.status === 'IN_QUEUE' || r.status === 'IN_PROGRESS' || r.status === 'SUBMITTED')
        .map((r) => [r.id, r.jobId]),
    );
    expect(inFlight.size).toBeGreaterThanOrEqual(1);
    const second = await runBatch(opts(e, input));
    expect(second.exitCode).toBe(0);
    const after = readResults(second.outDir);
    for (const r of after) {
      if (inFlight.has(r.id as string) && r.jobId === inFlight.get(r.id as string)) expect(r.endToEndMs, String(r.id)).toBeNull();
      else expect(r.endToEndMs, String(r.id)).toBeGreaterThan(0);
    }
    const md = readFileSync(join(second.outDir, 'report.md'), 'utf8');
    const at = md.indexOf('## Slowest rows');
    expect(at).toBeGreaterThan(0);
    const listed = [...md.slice(at).matchAll(/^\| *\d+ *\| *([^ |]+) *\|/gm)].map((m) => m[1]!.replaceAll('\\', ''));
    expect(listed.length).toBeGreaterThan(0);
    for (const id of inFlight.keys()) expect(listed).not.toContain(id);
  });
});

describe('cold starts in the report', () => {
  it('every worker’s cold start is counted, though the queue wait dwarfs it', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 60, coldStartMs: 800 });
    const input = writeJsonl(dir, 'cold.jsonl', 80);
    const r = await runBatch(opts(e, input, { concurrency: 40 }));
    expect(r.exitCode).toBe(0);
    const md = readFileSync(join(r.outDir, 'report.md'), 'utf8');
    expect(md.slice(md.indexOf('## Cold starts'), md.indexOf('## Cold starts') + 600)).toMatch(/4 of 4 workers had a cold start/);
    const estimate = Number(/Estimated billed cold-start time: ([\d.]+) s \(each as long/.exec(md)![1]);
    expect(estimate).toBeGreaterThanOrEqual(4 * 0.7); // ≈ 4 × 0.8 s
    const store = Store.open(r.outDir, { readonly: true });
    try {
      const workers = new Set([...store.jobTimeline()].map((j) => j.workerId));
      expect(workers.size).toBe(4);
      expect([...workers].every((w) => typeof w === 'string')).toBe(true);
    } finally {
      store.close();
    }
  });
});
