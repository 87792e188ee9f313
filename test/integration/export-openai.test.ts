import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchProgress, exportBatch, exportHf, exportParquet, runBatch } from '../../src/batch/index.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { OpenAiBatchLine } from '../../src/output/openai.js';
import { readParquetFile } from '../support/parquet-read.js';
import { readResults } from '../support/results.js';
import { splitIntoShards } from '../support/shards.js';
import { Store } from '../../src/store/store.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const dir = tempDir();
const ROWS = 40;
/** Rows after this one never end (their jobs wait on a gate): the run is interrupted with them unfinished. */
const ENDING = 32;

let emu: Emulator;
let release = () => {};
const gate = new Promise<void>((r) => {
  release = r;
});

type Kind = 'failed' | 'openai-error' | 'worker-error' | 'streamed' | 'completed' | 'not-finished';

/** What the handler does with row i (its prompt is `q<i>`). */
function kindOf(i: number): Kind {
  if (i > ENDING && i <= ROWS) return 'not-finished';
  if (i % 5 === 0) return 'failed';
  if (i % 7 === 0) return 'openai-error';
  if (i % 11 === 0) return 'worker-error';
  if (i % 4 === 0) return 'streamed';
  return 'completed';
}

function chunk(i: number, delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: `chatcmpl-${i}`,
    object: 'chat.completion.chunk',
    created: 1700000000 + i,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** worker-vllm's answers to the OpenAI passthrough (RUNPOD_API.md, "What real workers return"). */
async function vllm(input: unknown): Promise<unknown> {
  const body = (input as { openai_input: { messages: { content: string }[] } }).openai_input;
  const i = Number(body.messages[0]!.content.slice(1));
  const usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };
  switch (kindOf(i)) {
    case 'not-finished':
      await gate;
      return [];
    case 'failed':
      throw new Error(`CUDA out of memory at q${i}`);
    case 'openai-error':
      return [{ object: 'error', message: `q${i} is longer than the model's context`, type: 'BadRequestError', param: null, code: 400 }];
    case 'worker-error':
      return [{ error: { message: `engine died at q${i}`, type: 'worker_error' } }];
    case 'streamed':
      // stream: true — batches of Server-Sent-Events lines, as worker-vllm yields them, aggregated into the output.
      return [
        [
          `data: ${JSON.stringify(chunk(i, { role: 'assistant', content: '' }))}\n\n`,
          `data: ${JSON.stringify(chunk(i, { content: 'answer ' }))}\n\n`,
        ],
        [
          `data: ${JSON.stringify(chunk(i, { content: `to q${i}` }, 'stop'))}\n\n`,
          `data: ${JSON.stringify({ ...chunk(i, {}), choices: [], usage })}\n\n`,
        ],
        ['data: [DONE]\n\n'],
      ];
    default:
      return [
        {
          id: `chatcmpl-${i}`,
          object: 'chat.completion',
          created: 1700000000 + i,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content: `answer to q${i}` }, logprobs: null, finish_reason: 'stop' }],
          usage,
        },
      ];
  }
}

/** An OpenAI Batch input line made into a request row: custom_id → id, url and body → the passthrough input. */
function request(i: number) {
  return {
    id: `request-${i}`,
    input: {
      openai_route: '/v1/chat/completions',
      openai_input: { model: 'm', messages: [{ role: 'user', content: `q${i}` }], ...(kindOf(i) === 'streamed' ? { stream: true } : {}) },
    },
  };
}

let out: string;

beforeAll(async () => {
  // Eight workers: the four jobs held at the gate leave four for the other batch of the refusal test.
  emu = await startEmulator({ workers: 8, executionMs: 1, handler: vllm });
  out = join(dir, 'openai.runpod');
  const input = writeJsonl(dir, 'openai.jsonl', ROWS, request);
  const stop = new AbortController();
  let last: BatchProgress | undefined;
  const run = runBatch({
    input,
    out,
    endpoint: 'test-endpoint',
    apiKey: 'test-key',
    baseUrl: emu.baseUrl,
    retries: 0,
    concurrency: 4,
    signal: stop.signal,
    progressIntervalMs: 5,
    onProgress: (p) => {
      last = p;
    },
  });
  // Every row up to ENDING has ended in the state; the four after it are in flight, the rest wait: interrupt.
  await waitFor(() => last?.done === ENDING, `${ENDING} rows ended`);
  stop.abort();
  expect((await run).exitCode).toBe(130);
});
afterAll(async () => {
  release();
  await emu.close();
});

function lines(dirs: string | string[], format: 'jsonl' | 'openai', warn?: (m: string) => void): string[] {
  const chunks: string[] = [];
  exportBatch(dirs, format, { write: (c) => chunks.push(c) }, { warn });
  return chunks.join('').split('\n').slice(0, -1);
}

describe('export --format openai', () => {
  it('every custom_id once, in input order, with its response or its error', () => {
    const got = lines(out, 'openai').map((l) => JSON.parse(l) as OpenAiBatchLine);
    const results = readResults(out);
    expect(got.map((l) => l.custom_id)).toEqual(Array.from({ length: ROWS }, (_, k) => `request-${k + 1}`));
    expect(new Set(got.map((l) => l.id)).size).toBe(ROWS);
    const kinds: Record<string, number> = {};
    got.forEach((l, k) => {
      const i = k + 1;
      const r = results[k]!;
      const kind = kindOf(i);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      expect(l.id).toMatch(/^batch_req_[0-9a-f]{32}$/);
      if (kind === 'completed' || kind === 'streamed') {
        expect(r.status).toBe('COMPLETED');
        expect(l.error).toBeNull();
        expect(l.response).toEqual({
          status_code: 200,
          request_id: r.jobId,
          body: {
            id: `chatcmpl-${i}`,
            object: 'chat.completion',
            created: 1700000000 + i,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: `answer to q${i}` }, logprobs: null, finish_reason: 'stop' }],
            usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
          },
        });
        return;
      }
      expect(l.response).toBeNull();
      const want = {
        failed: { code: 'job_failed', message: `CUDA out of memory at q${i}` },
        'openai-error': { code: 'worker_error', message: `q${i} is longer than the model's context` },
        'worker-error': { code: 'worker_error', message: `engine died at q${i}` },
        'not-finished': { code: 'not_finished', message: expect.stringMatching(/^the request did not run to the end: /) },
      }[kind];
      expect(l.error).toEqual(want);
      if (kind === 'not-finished') expect(['PENDING', 'IN_QUEUE', 'IN_PROGRESS']).toContain(r.status);
      else expect(r.status).toBe('FAILED');
    });
    // Every kind of row is in the batch: the test covers what it claims to.
    expect(kinds).toEqual({ completed: 14, streamed: 6, failed: 6, 'openai-error': 4, 'worker-error': 2, 'not-finished': 8 });
    // The four rows in flight when the run stopped name their job; the rest never had one.
    expect(got.filter((l) => /its job \S+ was IN_(QUEUE|PROGRESS)/.test(l.error?.message ?? ''))).toHaveLength(4);
  });

  it('writes a file whole (-o)', () => {
    const file = join(dir, 'openai-output.jsonl');
    expect(exportBatch(out, 'openai', { output: file })).toBe(ROWS);
  });
});

describe('export of several shard folders', () => {
  let shards: string[];
  beforeAll(() => {
    shards = splitIntoShards(out, 3, join(dir, 'three'));
  });

  it('merges them into input order: the same file as the unsharded batch, in any order of the folders', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const whole = lines(out, 'jsonl');
    expect(whole).toHaveLength(ROWS);
    expect(lines(shards, 'jsonl', warn)).toEqual(whole);
    expect(lines([shards[2]!, shards[0]!, shards[1]!], 'jsonl', warn)).toEqual(whole);
    expect(lines([shards[1]!, shards[2]!, shards[0]!], 'openai', warn)).toEqual(lines(out, 'openai'));
    expect(warnings).toEqual([]);
    // Each shard holds only its rows, so the merge had work to do.
    expect(lines(shards[1]!, 'jsonl').map((l) => JSON.parse(l).id)).toEqual(
      ['request-2', 'request-5', 'request-8', 'request-11'].concat(Array.from({ length: 9 }, (_, k) => `request-${14 + 3 * k}`)),
    );
  });

  it('Parquet and the Hugging Face folder read the merge twice (schema, then rows)', () => {
    const whole = join(dir, 'whole.parquet');
    const merged = join(dir, 'merged.parquet');
    expect(exportParquet(out, whole)).toBe(ROWS);
    expect(exportParquet([shards[2]!, shards[1]!, shards[0]!], merged)).toBe(ROWS);
    expect(readParquetFile(merged)).toEqual(readParquetFile(whole));

    const hfWhole = exportHf(out, join(dir, 'hf-whole'), { now: () => 0 });
    const hfMerged = exportHf(shards, join(dir, 'hf-merged'), { now: () => 0 });
    expect(hfMerged.rows).toBe(20);
    expect(hfMerged.rows).toBe(hfWhole.rows);
    const data = (d: string) => readParquetFile(join(dir, d, 'data', 'train-00000-of-00001.parquet'));
    expect(data('hf-merged')).toEqual(data('hf-whole'));
  });

  it('a missing shard: the rows that are there, and a warning naming it', () => {
    const warnings: string[] = [];
    const got = lines([shards[0]!, shards[2]!], 'openai', (m) => warnings.push(m));
    expect(warnings).toEqual([
      expect.stringMatching(/^shard 1\/3 of .*openai\.jsonl is not among the folders given: its rows are not in the export$/),
    ]);
    const want = lines(out, 'openai').filter((_, seq) => seq % 3 !== 1);
    expect(got).toEqual(want);
    // One shard's folder alone (`export out/shard-*` matching one): the others are named too.
    warnings.length = 0;
    lines(shards[0]!, 'jsonl', (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/^shards 1\/3, 2\/3 of .*openai\.jsonl are not among the folders given/)]);
  });

  it('refuses folders that are not distinct shards of one input', async () => {
    expect(() => lines([shards[0]!, shards[0]!], 'jsonl')).toThrow(
      /shard 0\/3 is given twice \(.*shard-0-of-3\.runpod and .*shard-0-of-3\.runpod\)/,
    );
    expect(() => lines([out, shards[0]!], 'jsonl')).toThrow(/openai\.runpod is not a shard \(its batch was not run with --shard k\/n\)/);
    const halves = splitIntoShards(out, 2, join(dir, 'two'));
    expect(() => lines([shards[0]!, halves[1]!], 'openai')).toThrow(/shard 1\/2, .* one of 3: the input was not split alike/);
    expect(() => exportParquet([shards[0]!, halves[1]!], join(dir, 'x.parquet'))).toThrow(/not split alike/);

    // Shards of another input.
    const other = join(dir, 'other.runpod');
    await runBatch({
      input: writeJsonl(dir, 'other.jsonl', 4, (i) => request(i + 100)),
      out: other,
      endpoint: 'test-endpoint',
      apiKey: 'test-key',
      baseUrl: emu.baseUrl,
      retries: 0,
    });
    const otherShards = splitIntoShards(other, 3, join(dir, 'other'));
    expect(() => lines([shards[0]!, otherShards[1]!], 'jsonl')).toThrow(
      /other\/shard-1-of-3\.runpod and .*shard-0-of-3\.runpod are not shards of the same input: .*other\.jsonl/,
    );

    // Shards of the same file read with another mapping: other requests, not one batch.
    const remapped = splitIntoShards(out, 3, join(dir, 'remapped'));
    const st = Store.open(remapped[1]!);
    st.setMeta('input', { ...st.getMeta('input')!, map: '{"text": prompt}' });
    st.close();
    expect(() => lines([shards[0]!, remapped[1]!], 'jsonl')).toThrow(/read .*openai\.jsonl with another --map .*not shards of one batch/);

    // Shards cut differently (the same k/n labels, overlapping rows): found while merging.
    const cut = splitIntoShards(out, 3, join(dir, 'cut'), (seq) => (seq < 10 ? 0 : seq < 20 ? 1 : 2));
    expect(() => lines([shards[0]!, cut[1]!], 'jsonl')).toThrow(
      /both hold row 13 of the input .*: they are not disjoint shards of one input/,
    );
  });
});
