/**
 * `--stream`: a generator handler without return_aggregate_stream ends COMPLETED with no output; its data is only on
 * /stream/{id}. Against the emulator's generator handlers over real HTTP, with the real store.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { retryBatch } from '../../src/batch/index.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { readJsonl, readResults, readStats } from '../support/results.js';
import { rowRunner } from '../support/run-rows.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
const run = rowRunner(dir);

const chunksOf = (input: unknown, n: number) => Array.from({ length: n }, (_, k) => ({ chunk: k + 1, of: n, echo: input }));

describe('--stream (generator handlers)', () => {
  it("stores each job's chunks, in order, as its output", async () => {
    const e = await startEmulator({ workers: 4, executionMs: 20, streamChunks: 3 });
    const { r, out } = await run(e, 30, { stream: true });
    expect(r.exitCode).toBe(0);
    const results = readResults(out);
    expect(results).toHaveLength(30);
    for (const row of results) {
      expect(row.status).toBe('COMPLETED');
      expect(row.output).toEqual(chunksOf(row.input, 3));
    }
    // At least two /stream calls a job: one with its chunks, one that finds none left.
    const requests = readStats(out).requests as Record<string, { requests: number }>;
    expect(requests.stream!.requests).toBeGreaterThanOrEqual(60);
    expect(e.stats.requests.stream).toBe(requests.stream!.requests);
  });

  it('chunks yielded over time, across several /stream answers, come out whole and in order', async () => {
    const e = await startEmulator({
      workers: 2,
      executionMs: 0,
      handler: async function* (input) {
        for (let k = 0; k < 50; k++) {
          if (k % 10 === 0) await new Promise<void>((r) => setTimeout(r, 5));
          yield `${(input as { prompt: string }).prompt.slice(0, 4)}-${k}`;
        }
      },
    });
    const { r, out } = await run(e, 6, { stream: true });
    expect(r.exitCode).toBe(0);
    for (const row of readResults(out)) {
      const head = (row.input as { prompt: string }).prompt.slice(0, 4);
      expect(row.output).toEqual(Array.from({ length: 50 }, (_, k) => `${head}-${k}`));
    }
  });

  it('without --stream the same rows fail as empty outputs, and the error names --stream', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 20, streamChunks: 3 });
    const { r, out } = await run(e, 5, { retries: 0 });
    expect(r.exitCode).toBe(2);
    const errors = readJsonl<{ errorCode?: string; error: unknown }>(join(out, 'errors.jsonl'));
    expect(errors).toHaveLength(5);
    expect(errors.every((x) => x.errorCode === 'RPB_EMPTY_OUTPUT')).toBe(true);
    expect(String(errors[0]!.error)).toContain('--stream');
    expect(e.stats.requests.stream ?? 0).toBe(0);
    // retry keeps the batch's settings unless told otherwise: with --stream now, the rows complete.
    const again = await retryBatch(out, { apiKey: 'test-key', stream: true });
    expect(again.exitCode).toBe(0);
    expect(readResults(out).every((row) => Array.isArray(row.output) && row.output.length === 3)).toBe(true);
  });

  it('an output that came with the job (return_aggregate_stream) is kept, and /stream is not read', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 20, streamChunks: 2, returnAggregateStream: true });
    const { r, out } = await run(e, 10, { stream: true });
    expect(r.exitCode).toBe(0);
    for (const row of readResults(out)) expect(row.output).toEqual(chunksOf(row.input, 2));
    expect(e.stats.requests.stream ?? 0).toBe(0);
  });
});
