import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { retryBatch } from '../../src/batch/index.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { readJsonl, readResults, readStats } from '../support/results.js';
import { rowRunner } from '../support/run-rows.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
const run = rowRunner(dir);

interface ErrorLine {
  id: string;
  status: string;
  error: unknown;
  errorCode?: string;
  attempts: number;
}
const readErrors = (out: string) => readJsonl<ErrorLine>(join(out, 'errors.jsonl'));

/** The jobs table as the state holds it: each attempt's status and error. */
function jobsOf(out: string): { status: string; error: string | null }[] {
  const db = new Database(join(out, 'state.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT status, error FROM jobs').all() as { status: string; error: string | null }[];
  } finally {
    db.close();
  }
}

const fast = { workers: 8, executionMs: { min: 2, max: 10 } } satisfies EmulatorOptions;

describe('outputs checked: a COMPLETED job without its output is not a success', () => {
  it('10% of first attempts COMPLETED with no output, --retries 2: every row COMPLETED with its output, the caught attempts counted', async () => {
    const e = await startEmulator({ ...fast, seed: 3, faults: { emptyOutput: 0.1 } });
    const rows = 200;
    const { r, out } = await run(e, rows, { retries: 2 });
    expect(r.exitCode, r.message).toBe(0);
    const res = readResults(out);
    expect(res).toHaveLength(rows);
    for (const x of res) {
      expect(x.status).toBe('COMPLETED');
      expect(x.output).toEqual({ echo: x.input });
    }
    // The emulator's empty first attempts: jobs it ended COMPLETED without an output.
    const empties = [...e.jobs.values()].filter((j) => j.status === 'COMPLETED' && j.output === undefined).length;
    expect(empties).toBeGreaterThan(5);
    expect(r.stats.outputChecks).toEqual({ emptyOutput: empties, outputError: 0 });
    expect(readStats(out).outputChecks).toEqual({ emptyOutput: empties, outputError: 0 });
    expect(r.stats.rows.attempts).toBe(rows + empties);
    expect(jobsOf(out).filter((j) => j.status === 'EMPTY_OUTPUT')).toHaveLength(empties);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(`EMPTY_OUTPUT ${empties}`);
    // Recovered by a retry: grouped apart, not as failures of the batch.
    expect(md).toMatch(/Recovered by a retry[\s\S]*empty output: the job COMPLETED with no output/);
  });

  it('a handler that always returns nothing: rows end FAILED with RPB_EMPTY_OUTPUT after their retries, exit 2', async () => {
    const e = await startEmulator({ ...fast, handler: () => null });
    const rows = 4;
    const { r, out } = await run(e, rows, { retries: 1 });
    expect(r.exitCode).toBe(2);
    expect(r.stats.rows.byStatus).toEqual({ FAILED: rows });
    expect(r.stats.outputChecks).toEqual({ emptyOutput: 2 * rows, outputError: 0 });
    const errors = readErrors(out);
    expect(errors).toHaveLength(rows);
    for (const x of errors) {
      expect(x).toMatchObject({ status: 'FAILED', errorCode: 'RPB_EMPTY_OUTPUT', attempts: 2 });
      expect(x.error).toMatch(/^empty output: the job COMPLETED with no output\..*return_aggregate_stream.*--accept-empty-output/);
    }
    expect(readResults(out).every((x) => x.output === undefined)).toBe(true);
    expect(r.next.text).toMatch(/retry/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/8 jobs COMPLETED with an empty output.*--accept-empty-output/);
  });

  it('always empty on a larger file: the crash-loop guard stops the run instead of burning it', async () => {
    const e = await startEmulator({ ...fast, handler: () => [] });
    const { r } = await run(e, 300, { retries: 2, concurrency: 4 });
    expect(r.exitCode).toBe(2);
    expect(r.message).toMatch(/last 10 jobs all FAILED with the same error \(empty output: the job COMPLETED with output \[\]/);
    expect(e.stats.jobsCreated).toBeLessThan(30);
  });

  it('--accept-empty-output: the same handler COMPLETES every row, exit 0', async () => {
    const e = await startEmulator({ ...fast, handler: () => null });
    const { r, out } = await run(e, 20, { retries: 1, acceptEmptyOutput: true });
    expect(r.exitCode, r.message).toBe(0);
    expect(r.stats.rows.byStatus).toEqual({ COMPLETED: 20 });
    expect(r.stats.rows.attempts).toBe(20);
    expect(r.stats.outputChecks).toEqual({ emptyOutput: 0, outputError: 0 });
    expect(readResults(out).every((x) => x.output === undefined && x.error === undefined)).toBe(true);
  });

  it("`retry` keeps the batch's --accept-empty-output, and can be given it", async () => {
    let broken = true;
    const e = await startEmulator({
      ...fast,
      handler: () => {
        if (broken) throw new Error('worker not ready');
        return {};
      },
    });
    // Run with --accept-empty-output; the rows fail for another reason, then `retry` (no flag) keeps the setting.
    const kept = await run(e, 5, { retries: 0, acceptEmptyOutput: true });
    expect(kept.r.stats.rows.byStatus).toEqual({ FAILED: 5 });
    broken = false;
    const again = await retryBatch(kept.out, { apiKey: 'test-key' });
    expect(again.exitCode, again.message).toBe(0);
    expect(again.stats.rows.byStatus).toEqual({ COMPLETED: 5 });
    // Run without it: every row FAILED with an empty output; `retry --accept-empty-output` completes them.
    const given = await run(e, 5, { retries: 0 });
    expect(given.r.stats.rows.byStatus).toEqual({ FAILED: 5 });
    const accepted = await retryBatch(given.out, { apiKey: 'test-key', acceptEmptyOutput: true });
    expect(accepted.exitCode, accepted.message).toBe(0);
    expect(accepted.stats.rows.byStatus).toEqual({ COMPLETED: 5 });
    expect(readErrors(given.out)).toHaveLength(0);
    // The first run's caught attempts stay counted.
    expect(accepted.stats.outputChecks.emptyOutput).toBe(5);
  });
});

describe('outputs checked: an error inside a COMPLETED output fails the job, with the error extracted', () => {
  it("worker-vllm's yielded error: FAILED after its retries with the message extracted, grouped in the report", async () => {
    const e = await startEmulator({
      ...fast,
      handler: () => [{ error: { message: 'prompt is longer than the model context', type: 'worker_error' } }],
    });
    const rows = 3;
    const { r, out } = await run(e, rows, { retries: 1 });
    expect(r.exitCode).toBe(2);
    expect(r.stats.rows.byStatus).toEqual({ FAILED: rows });
    expect(r.stats.outputChecks).toEqual({ emptyOutput: 0, outputError: 2 * rows });
    for (const x of readErrors(out)) {
      expect(x).toMatchObject({
        status: 'FAILED',
        errorCode: 'RPB_OUTPUT_ERROR',
        attempts: 2,
        error: { message: 'prompt is longer than the model context', type: 'worker_error' },
      });
    }
    // No output is kept for a FAILED row.
    expect(readResults(out).every((x) => x.output === undefined)).toBe(true);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\*\*worker\\_error\*\*: prompt is longer than the model context \| 3 \| 6 \| FAILED 3/);
    expect(md).toContain('OUTPUT_ERROR 6');
  });

  it('infinity\'s {"object": "error", "code": 400}: FAILED at once (a 4xx from the worker is not retried)', async () => {
    const e = await startEmulator({ ...fast, handler: () => ({ object: 'error', message: 'input is too long', code: 400 }) });
    const { r, out } = await run(e, 4, { retries: 2 });
    expect(r.exitCode).toBe(2);
    expect(e.stats.jobsCreated).toBe(4);
    for (const x of readErrors(out)) {
      expect(x).toMatchObject({ errorCode: 'RPB_OUTPUT_ERROR', attempts: 1, error: { object: 'error', message: 'input is too long' } });
    }
  });

  it('10% of first attempts with an error inside the output: retried, every row COMPLETED, the caught attempts counted', async () => {
    const e = await startEmulator({ ...fast, seed: 5, faults: { errorOutput: 0.1 } });
    const rows = 200;
    const { r } = await run(e, rows);
    expect(r.exitCode, r.message).toBe(0);
    expect(r.stats.rows.completed).toBe(rows);
    const faulted = [...e.jobs.values()].filter((j) => Array.isArray(j.output)).length;
    expect(faulted).toBeGreaterThan(5);
    expect(r.stats.outputChecks).toEqual({ emptyOutput: 0, outputError: faulted });
  });

  it('data that merely holds a field named error is a success', async () => {
    const e = await startEmulator({
      ...fast,
      handler: () => ({ data: [{ embedding: [0.5], error: 'clipped to 512 tokens' }], error: null }),
    });
    const { r } = await run(e, 5);
    expect(r.exitCode, r.message).toBe(0);
    expect(r.stats.outputChecks).toEqual({ emptyOutput: 0, outputError: 0 });
  });
});
