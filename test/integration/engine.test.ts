import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.js';
import { InputError } from '../../src/core/errors.js';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';
import { readJsonl, readResults, readStats } from '../support/results.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let emu: Emulator | undefined;

async function emulator(o: EmulatorOptions = {}): Promise<Emulator> {
  emu = await startEmulator({ workers: 8, executionMs: { min: 5, max: 30 }, ...o });
  return emu;
}

let n = 0;
function outDir(): string {
  return join(dir, `out-${++n}`);
}

function opts(e: Emulator, input: string, out: string, extra: Partial<RunBatchOptions> = {}): RunBatchOptions {
  return { input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, ...extra };
}

describe('runBatch against the emulator', () => {
  it('runs a JSONL file: one result per row, in input order, outputs matching inputs', async () => {
    const e = await emulator({ executionMs: (input) => ((input as { n: number }).n % 7) * 10 });
    const input = writeJsonl(dir, 'order.jsonl', 200);
    const out = outDir();
    const r = await runBatch(opts(e, input, out, { concurrency: 16 }));
    expect(r.exitCode).toBe(0);
    const res = readResults(out);
    expect(res.map((x) => x.id)).toEqual(Array.from({ length: 200 }, (_, i) => `r${i + 1}`));
    for (const x of res) {
      expect(x.status).toBe('COMPLETED');
      expect(x.output).toEqual({ echo: x.input });
      expect(typeof x.jobId).toBe('string');
      expect(x.executionTime).toBeTypeOf('number');
      expect(x.attempts).toBe(1);
    }
    expect(readFileSync(join(out, 'errors.jsonl'), 'utf8')).toBe('');
    const stats = readStats(out);
    expect(stats.rows.byStatus).toEqual({ COMPLETED: 200 });
    expect(stats.latencyMs.execution?.count).toBe(200);
    expect(stats.requests.run?.requests).toBe(200);
    expect(stats.estimatedCostUsd).toBeNull();
    expect(e.stats.jobsCreated).toBe(200);
  });

  it('runs a CSV file with quotes, embedded newlines, CRLF and a BOM', async () => {
    const e = await emulator();
    const csv = '\ufeffid,prompt,temperature\r\nA,"hello, world",0.5\r\nB,"two\r\nlines",1\r\nC,plain,2\r\n';
    const input = join(dir, 'rows.csv');
    writeFileSync(input, csv);
    const out = outDir();
    const r = await runBatch(opts(e, input, out, { csvCast: true }));
    expect(r.exitCode).toBe(0);
    const res = readResults(out);
    expect(res.map((x) => x.id)).toEqual(['A', 'B', 'C']);
    expect(res[0]!.input).toEqual({ id: 'A', prompt: 'hello, world', temperature: 0.5 });
    expect(res[1]!.input.prompt).toBe('two\r\nlines');
    expect(res[1]!.output).toEqual({ echo: res[1]!.input });
  });

  it('a rerun of a finished batch submits nothing and changes nothing', async () => {
    const e = await emulator();
    const input = writeJsonl(dir, 'rerun.jsonl', 50);
    const out = outDir();
    await runBatch(opts(e, input, out));
    const before = readFileSync(join(out, 'results.jsonl'), 'utf8');
    const created = e.stats.jobsCreated;
    const r = await runBatch(opts(e, input, out));
    expect(r.exitCode).toBe(0);
    expect(r.submitted).toBe(0);
    expect(r.ingest.skipped).toBe(true);
    expect(e.stats.jobsCreated).toBe(created);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8')).toBe(before);
  });

  it('a rerun after a run killed before writing its views rewrites them; a rerun after a clean one keeps them', async () => {
    const e = await emulator();
    const input = writeJsonl(dir, 'views.jsonl', 5);
    const out = outDir();
    await runBatch(opts(e, input, out));
    // A run that changed the state and was killed before writing results, as kill -9 leaves it.
    const store = Store.open(out);
    store.startRun(Date.now());
    store.close();
    const db = new Database(join(out, 'state.sqlite'));
    db.prepare(`UPDATE rows SET output = '{"changed":1}' WHERE key = 'r1'`).run();
    db.close();
    const logs: string[] = [];
    const r = await runBatch(opts(e, input, out, { log: (m) => logs.push(m) }));
    expect(r.submitted).toBe(0);
    expect(readResults(out)[0]!.output).toEqual({ changed: 1 });
    expect(logs.join('\n')).not.toMatch(/output files are current/);
    const again: string[] = [];
    await runBatch(opts(e, input, out, { log: (m) => again.push(m) }));
    expect(again.join('\n')).toMatch(/output files are current/);
  });

  it('input edited between runs: only new and changed rows run, removed rows leave the results', async () => {
    const e = await emulator();
    const input = writeJsonl(dir, 'edit.jsonl', 30);
    const out = outDir();
    await runBatch(opts(e, input, out));
    // change r2, drop r3, add r31 and r32
    writeJsonl(dir, 'edit.jsonl', 32, (i) => (i === 2 ? { id: 'r2', prompt: 'edited' } : { id: `r${i}`, prompt: `p${i}`, n: i }));
    const lines = readFileSync(input, 'utf8')
      .split('\n')
      .filter((l) => !l.includes('"r3"'));
    writeFileSync(input, lines.join('\n'));
    const logs: string[] = [];
    const r = await runBatch(opts(e, input, out, { log: (m) => logs.push(m) }));
    expect(r.exitCode).toBe(0);
    expect(r.submitted).toBe(3);
    expect(r.ingest).toMatchObject({ added: 2, changed: 1, removed: 1, unchanged: 28 });
    expect(logs.join('\n')).toMatch(/2 new, 1 changed, 1 removed/);
    const res = readResults(out);
    expect(res).toHaveLength(31);
    expect(res.find((x) => x.id === 'r3')).toBeUndefined();
    expect(res.find((x) => x.id === 'r2')!.output).toEqual({ echo: { id: 'r2', prompt: 'edited' } });
    expect(res.map((x) => x.id).slice(-2)).toEqual(['r31', 'r32']);
  });

  it('a wrong API key stops at once with exit 1 and never leaks the key', async () => {
    const e = await emulator();
    const input = writeJsonl(dir, 'auth.jsonl', 100);
    const out = outDir();
    const r = await runBatch(opts(e, input, out, { apiKey: 'sk-wrong-secret-123' }));
    expect(r.exitCode).toBe(1);
    expect(r.message).toMatch(/401/);
    expect(r.message).not.toContain('sk-wrong-secret-123');
    // At once: not one /run per row (100 at concurrency 100), but a few requests in all.
    expect(Object.values(e.stats.requests).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3);
    expect(e.stats.jobsCreated).toBe(0);
    for (const f of ['state.sqlite', 'results.jsonl', 'errors.jsonl', 'stats.json']) {
      expect(readFileSync(join(out, f)).includes('sk-wrong-secret-123')).toBe(false);
    }
  });

  it('a wrong endpoint (404 on /run) stops with exit 1', async () => {
    const e = await emulator();
    const input = writeJsonl(dir, 'ep.jsonl', 20);
    const r = await runBatch(opts(e, input, outDir(), { endpoint: 'nope' }));
    expect(r.exitCode).toBe(1);
    expect(r.message).toMatch(/404.*endpoint/);
  });

  it('429 with Retry-After pauses /run as a whole and every row still completes', async () => {
    const e = await emulator({ faults: { rateLimits: { run: { limit: 20, windowMs: 1000, retryAfter: true } } } });
    const input = writeJsonl(dir, 'rl.jsonl', 60);
    const out = outDir();
    const t0 = Date.now();
    const r = await runBatch(opts(e, input, out, { concurrency: 60 }));
    expect(r.exitCode).toBe(0);
    expect(e.stats.jobsCreated).toBe(60);
    expect(e.stats.rateLimited.run).toBeGreaterThan(0);
    // 60 rows at 20 per second need at least two more windows.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    const stats = readStats(out);
    expect(stats.requests.run?.rateLimited).toBe(e.stats.rateLimited.run);
    // A 429 pauses the whole operation: far fewer 429s than a per-request retry storm would draw.
    expect(stats.requests.run?.rateLimited).toBeLessThan(60);
  });

  it('FAILED jobs are retried up to --retries; rows failing every time end FAILED in errors.jsonl', async () => {
    const e = await emulator({
      handler: (input) => {
        const n = (input as { n: number }).n;
        if (n % 10 === 0) throw new Error(`boom ${n}`);
        return { ok: n };
      },
    });
    const input = writeJsonl(dir, 'fail.jsonl', 30);
    const out = outDir();
    const r = await runBatch(opts(e, input, out, { retries: 1 }));
    expect(r.exitCode).toBe(2);
    const res = readResults(out);
    const failed = res.filter((x) => x.status === 'FAILED');
    expect(failed.map((x) => x.id)).toEqual(['r10', 'r20', 'r30']);
    expect(failed.every((x) => x.attempts === 2)).toBe(true);
    expect(failed[0]!.error).toMatchObject({ error_message: 'boom 10' });
    const errors = readJsonl<Record<string, unknown>>(join(out, 'errors.jsonl'));
    expect(errors.map((x) => x.id)).toEqual(['r10', 'r20', 'r30']);
    expect(errors[0]).toMatchObject({ input: { id: 'r10', prompt: 'p10', n: 10 }, status: 'FAILED' });
    expect(e.stats.jobsCreated).toBe(33);
  });

  it('first-attempt failures and lost jobs are run again and complete', async () => {
    const e = await emulator({ faults: { failFirstAttempt: 0.2, lostJobs: 0.1 } });
    const input = writeJsonl(dir, 'flaky.jsonl', 100);
    const out = outDir();
    const r = await runBatch(opts(e, input, out));
    expect(r.exitCode).toBe(0);
    const stats = readStats(out);
    expect(stats.rows.completed).toBe(100);
    expect(stats.rows.lost).toBeGreaterThan(0);
    expect(stats.rows.resubmitted).toBeGreaterThan(10);
    expect(readResults(out)).toHaveLength(100);
  });

  it('bad input: file:line errors, exit before anything is submitted, no state written', async () => {
    const e = await emulator();
    const input = join(dir, 'bad.jsonl');
    writeFileSync(input, '{"id":1}\n{"id":2\n[1,2]\n{"id":1}\n');
    const out = outDir();
    const err = await runBatch(opts(e, input, out)).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    expect(msg).toContain(`${input}:2:`);
    expect(msg).toContain(`${input}:3:`);
    expect(msg).toMatch(new RegExp(`${input}:4: duplicate id 1`));
    expect(e.stats.requests.run ?? 0).toBe(0);
  });

  it('state files are private (mode 0600)', async () => {
    const e = await emulator();
    const input = writeJsonl(dir, 'mode.jsonl', 3);
    const out = outDir();
    await runBatch(opts(e, input, out));
    for (const f of ['state.sqlite', 'results.jsonl', 'errors.jsonl', 'stats.json']) {
      expect(existsSync(join(out, f))).toBe(true);
      expect(statSync(join(out, f)).mode & 0o777).toBe(0o600);
    }
  });
});
