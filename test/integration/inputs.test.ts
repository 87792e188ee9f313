/**
 * #13's inputs against the emulator (real HTTP on 127.0.0.1, real SQLite, real files): a mapped CSV, a rerun whose
 * mapping changed, an OpenAI Batch file, and shards run into folders of their own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun, exportBatch, runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import { StateError } from '../../src/core/errors.js';
import type { Emulator } from '../../src/emulator/index.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { readResults } from '../support/results.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir('rpb-inputs-');
const startEmulator = emulatorsClosedAfterEach();

function opts(e: Emulator, input: string, extra: Partial<RunBatchOptions> = {}): RunBatchOptions {
  return { input, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, ...extra };
}

const VLLM = '{"messages": [{"role": "user", "content": question}], "sampling_params": {"max_tokens": max}}';

describe('--map against the emulator', () => {
  it('sends the mapped requests; a rerun with another mapping reruns only the rows whose request changed', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 2 });
    const csv = join(dir, 'questions.csv');
    const lines = Array.from({ length: 12 }, (_, i) => `q${i},question ${i},${i < 4 ? 64 : 512}`);
    writeFileSync(csv, `id,question,max\n${lines.join('\n')}\n`);
    const out = join(dir, 'questions.runpod');
    const logs: string[] = [];
    const first = await runBatch(opts(e, csv, { out, map: VLLM, csvCast: true }));
    expect(first.exitCode).toBe(0);
    const results = readResults(out);
    expect(results.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => `q${i}`));
    expect(results[0]!.input).toEqual({ messages: [{ role: 'user', content: 'question 0' }], sampling_params: { max_tokens: 64 } });
    expect(results[0]!.output).toEqual({ echo: results[0]!.input });
    const jobs = e.stats.jobsCreated;
    expect(jobs).toBe(12);

    // The same mapping again: nothing runs. A rerun without --map keeps the batch's mapping.
    const again = await runBatch(opts(e, csv, { out, csvCast: true, log: (m) => logs.push(m) }));
    expect(again.submitted).toBe(0);
    expect(logs.join('\n')).toMatch(/mapping rows with the batch's --map/);

    // max_tokens capped at 256: the 8 rows with 512 change, the 4 with 64 do not.
    const capped = '{"messages": [{"role": "user", "content": question}], "sampling_params": {"max_tokens": max > 256 ? 256 : max}}';
    const est = await dryRun(opts(e, csv, { out, map: capped, csvCast: true }));
    expect(est.changes).toEqual({ added: 0, changed: 8, unchanged: 4, removed: 0, mapChanged: true });
    expect(est.preview).toHaveLength(3);
    expect(JSON.parse(est.preview[0]!)).toEqual({
      input: { messages: [{ role: 'user', content: 'question 0' }], sampling_params: { max_tokens: 64 } },
    });
    expect(e.stats.jobsCreated).toBe(jobs); // the dry run submitted nothing
    logs.length = 0;
    const rerun = await runBatch(opts(e, csv, { out, map: capped, csvCast: true, log: (m) => logs.push(m) }));
    expect(rerun.exitCode).toBe(0);
    expect(rerun.submitted).toBe(8);
    expect(e.stats.jobsCreated).toBe(jobs + 8);
    expect(logs.join('\n')).toMatch(/the mapping \(--map\) changed since the last run: 8 rows get another request and run again, 4 keep/);
    expect(readResults(out).map((r) => (r.input as { sampling_params: { max_tokens: number } }).sampling_params.max_tokens)).toEqual([
      64, 64, 64, 64, 256, 256, 256, 256, 256, 256, 256, 256,
    ]);
  });

  it('a dry run against a folder holding another input is refused, as the run would be; one of the same input counts as a run would', async () => {
    const e = await startEmulator({ workers: 2, executionMs: 1 });
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    writeFileSync(a, 'id,q\n1,x\n2,y\n3,z\n');
    writeFileSync(b, 'id,q\n1,x\n');
    const out = join(dir, 'ab.runpod');
    expect((await runBatch(opts(e, a, { out, map: '{"text": q}' }))).exitCode).toBe(0);
    await expect(dryRun(opts(e, b, { out }))).rejects.toThrow(StateError);
    // Row 3 edited out of the file, then back in: a run keeps its result (same request), and so does the dry run's count.
    writeFileSync(a, 'id,q\n1,x\n2,y\n');
    expect((await runBatch(opts(e, a, { out }))).submitted).toBe(0);
    writeFileSync(a, 'id,q\n1,x\n2,y\n3,z\n');
    const est = await dryRun(opts(e, a, { out }));
    expect(est.changes).toEqual({ added: 0, changed: 0, unchanged: 3, removed: 0, mapChanged: false });
    expect(est.notes.join('\n')).toMatch(/mapping rows with the batch's --map/);
    expect((await runBatch(opts(e, a, { out }))).submitted).toBe(0);
  });

  it('a row the mapping fails on stops the run before anything is submitted, with file:line', async () => {
    const e = await startEmulator({ workers: 2, executionMs: 1 });
    const csv = join(dir, 'seeds.csv');
    writeFileSync(csv, 'subject,seed\ncat,1\ndog,two\n');
    const err = await runBatch(opts(e, csv, { map: '{"prompt": "a photo of " & subject, "seed": $number(seed)}' })).catch((x) => x);
    expect((err as Error).message).toMatch(/seeds\.csv:3: --map failed/);
    expect(e.stats.jobsCreated).toBe(0);
  });
});

describe('OpenAI Batch input', () => {
  it("round-trips: each line runs as worker-vllm's passthrough request keyed by custom_id, and export --format openai gives every custom_id once, in input order, with the response or an error", async () => {
    const e = await startEmulator({
      workers: 3,
      executionMs: 1,
      handler: (input) => {
        const i = input as { openai_route: string; openai_input: { messages: { content: string }[] } };
        const content = i.openai_input.messages[0]!.content;
        if (content.endsWith('-4')) throw new Error('CUDA out of memory');
        if (content.endsWith('-6')) return [{ object: 'error', message: 'max_tokens is too large', code: 400 }];
        return [{ id: `chatcmpl-${content}`, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content } }] }];
      },
    });
    const path = join(dir, 'openai.jsonl');
    const ids = Array.from({ length: 9 }, (_, i) => `request-${9 - i}`);
    const line = (id: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm', messages: [{ role: 'user', content: id }] },
      });
    writeFileSync(path, `${ids.map(line).join('\n')}\n`);
    const r = await runBatch(opts(e, path, { retries: 0 }));
    expect(r.exitCode).toBe(2);
    const results = readResults(r.outDir);
    expect(results.map((x) => x.id)).toEqual(ids);
    expect(results[0]!.input).toEqual({
      openai_route: '/v1/chat/completions',
      openai_input: { model: 'm', messages: [{ role: 'user', content: 'request-9' }] },
    });

    let text = '';
    expect(exportBatch(r.outDir, 'openai', { write: (c) => (text += c) })).toBe(9);
    const out = text
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            custom_id: string;
            response: { status_code: number; request_id: string; body: { id: string } } | null;
            error: { code: string; message: string } | null;
          },
      );
    expect(out.map((o) => o.custom_id)).toEqual(ids);
    const byId = new Map(out.map((o) => [o.custom_id, o]));
    expect(byId.get('request-9')!.response).toMatchObject({
      status_code: 200,
      body: { id: 'chatcmpl-request-9', object: 'chat.completion' },
    });
    expect(byId.get('request-9')!.response!.request_id).toBe(results[0]!.jobId);
    expect(byId.get('request-9')!.error).toBeNull();
    expect(byId.get('request-4')).toMatchObject({
      response: null,
      error: { code: 'job_failed', message: expect.stringContaining('CUDA out of memory') },
    });
    expect(byId.get('request-6')).toMatchObject({
      response: null,
      error: { code: 'worker_error', message: expect.stringContaining('max_tokens is too large') },
    });
    expect(out.filter((o) => o.error === null)).toHaveLength(7);
  });
});

describe('--shard k/n', () => {
  it('n runs into n folders cover every row once; a folder keeps its shard', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 1 });
    const path = join(dir, 'sharded.jsonl');
    writeFileSync(path, Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `s${i}`, prompt: `p${i}` })).join('\n') + '\n');
    const seen: string[] = [];
    for (const k of [0, 1, 2]) {
      const out = join(dir, `shard${k}`);
      const r = await runBatch(opts(e, path, { out, shard: `${k}/3` }));
      expect(r.exitCode).toBe(0);
      const ids = readResults(out).map((x) => String(x.id));
      expect(ids.length).toBeGreaterThan(0);
      // Each shard's results keep the input's order.
      expect(ids).toEqual([...ids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
      seen.push(...ids);
    }
    expect(seen.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `s${i}`).sort());
    expect(e.stats.jobsCreated).toBe(40);
    // One export of the three folders, in any order: every row once, in the input's order.
    let text = '';
    const folders = [2, 0, 1].map((k) => join(dir, `shard${k}`));
    expect(exportBatch(folders, 'jsonl', { write: (c) => (text += c) })).toBe(40);
    const merged = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; input: { prompt: string } });
    expect(merged.map((m) => m.id)).toEqual(Array.from({ length: 40 }, (_, i) => `s${i}`));
    expect(merged[39]!.input.prompt).toBe('p39');
    // Rerun without --shard: the folder's shard; with another: refused.
    const again = await runBatch(opts(e, path, { out: join(dir, 'shard1') }));
    expect(again.submitted).toBe(0);
    expect(again.ingest.rows).toBeLessThan(40);
    await expect(runBatch(opts(e, path, { out: join(dir, 'shard1'), shard: '2/3' }))).rejects.toThrow(StateError);
  });
});
