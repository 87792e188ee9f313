/**
 * #13 on the input side: --map (JSONata), OpenAI Batch lines, --shard. Real files read by the real readers.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateError, UsageError, type InputIssue } from '../../src/core/errors.js';
import { parseShard, planInput } from '../../src/batch/input-plan.js';
import { readInput, shardOf, type InputOptions, type InputRow } from '../../src/input/index.js';
import { compileMapping, mappedProblem, mappingText } from '../../src/input/map.js';
import type { SavedInput } from '../../src/store/meta.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir('rpb-map-');
let n = 0;
function file(ext: string, text: string): string {
  const path = join(dir, `f${++n}.${ext}`);
  writeFileSync(path, text);
  return path;
}
async function read(path: string, opts?: InputOptions): Promise<{ rows: InputRow[]; issues: InputIssue[] }> {
  const rows: InputRow[] = [];
  const issues: InputIssue[] = [];
  for await (const item of readInput(path, opts)) {
    if (item.kind === 'row') rows.push(item.row);
    else issues.push(item.issue);
  }
  return { rows, issues };
}
const bodies = (rows: InputRow[]) => rows.map((r) => r.body);

const VLLM = '{"messages": [{"role": "user", "content": question}], "sampling_params": {"max_tokens": 512}}';
const IMAGE = '{"prompt": "a photo of " & subject, "seed": $number(seed)}';

describe("--map: the issue's two examples", () => {
  it('a CSV of questions becomes worker-vllm requests', async () => {
    const path = file('csv', 'id,question\nq1,What is 2+2?\nq2,"Say ""hi"""\n');
    const { rows, issues } = await read(path, { map: VLLM });
    expect(issues).toEqual([]);
    expect(rows.map((r) => r.id)).toEqual(['q1', 'q2']);
    expect(bodies(rows)).toEqual([
      { input: { messages: [{ role: 'user', content: 'What is 2+2?' }], sampling_params: { max_tokens: 512 } } },
      { input: { messages: [{ role: 'user', content: 'Say "hi"' }], sampling_params: { max_tokens: 512 } } },
    ]);
    // The hash is of the body sent.
    expect(rows[0]!.bodyJson).toBe(JSON.stringify(rows[0]!.body));
  });

  it('string concatenation and $number on CSV cells (strings without --csv-cast)', async () => {
    const path = file('csv', 'subject,seed\ncat,42\ndog,7\n');
    const { rows } = await read(path, { map: IMAGE });
    expect(bodies(rows)).toEqual([{ input: { prompt: 'a photo of cat', seed: 42 } }, { input: { prompt: 'a photo of dog', seed: 7 } }]);
    expect(rows.map((r) => r.key)).toEqual(['1', '2']);
  });

  it('on JSONL objects, with --csv-cast types irrelevant; the id comes from the row, not the mapping', async () => {
    const path = file('jsonl', '{"id":"a","subject":"owl","seed":"3"}\n{"id":"b","subject":"fox","seed":5}\n');
    const { rows } = await read(path, { map: IMAGE });
    expect(rows.map((r) => [r.key, r.body])).toEqual([
      ['a', { input: { prompt: 'a photo of owl', seed: 3 } }],
      ['b', { input: { prompt: 'a photo of fox', seed: 5 } }],
    ]);
  });

  it('a mapped object with "input" is a whole body (webhook, policy kept; other keys dropped)', async () => {
    const path = file('csv', 'p,hook\nx,https://example.invalid/h\n');
    const { rows } = await read(path, { map: '{"input": {"prompt": p}, "webhook": hook, "policy": {"ttl": 60000}, "note": 1}' });
    expect(bodies(rows)).toEqual([{ input: { prompt: 'x' }, webhook: 'https://example.invalid/h', policy: { ttl: 60000 } }]);
  });

  it('rows it fails on, or gives nothing or no object for, are file:line issues; the others still read', async () => {
    const path = file('csv', 'subject,seed\ncat,42\ndog,many\nemu,1\n');
    const { rows, issues } = await read(path, { map: IMAGE });
    expect(rows.map((r) => r.line)).toEqual([2, 4]);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: path, line: 3 });
    expect(issues[0]!.message).toMatch(/^--map failed: .*number/);
    const some = await read(file('jsonl', '{"a":1}\n{"b":2}\n'), { map: 'a' });
    expect(some.issues.map((i) => [i.line, i.message])).toEqual([
      [1, '--map must give a JSON object (the input, or a body with "input"), got a number'],
      [2, '--map gave nothing for this row (a field it reads is missing?)'],
    ]);
    const nullInput = await read(file('jsonl', '{"a":1}\n'), { map: '{"input": null}' });
    expect(nullInput.issues.map((i) => i.message)).toEqual(['--map gave input must not be null']);
  });

  it('an expression that does not parse, or that is unstable, is refused before any row is read', () => {
    const path = file('jsonl', '{"a":1}\n');
    expect(() => readInput(path, { map: '{"a": ' })).toThrow(UsageError);
    expect(() => readInput(path, { map: '{"a": ' })).toThrow(/does not parse.*character/);
    expect(() => readInput(path, { map: '{"seed": $random()}' })).toThrow(/\$random\(\) gives another value/);
    expect(() => readInput(path, { map: '{"t": $string($millis())}' })).toThrow(/\$millis/);
    expect(() => compileMapping('  ')).toThrow(/empty/);
  });

  it('mappingText reads @file; mappedProblem names what is not an object', () => {
    const expr = file('jsonata', IMAGE);
    expect(mappingText(`@${expr}`)).toBe(IMAGE);
    expect(mappingText(IMAGE)).toBe(IMAGE);
    expect(() => mappingText('@/no/such/file')).toThrow(/cannot read/);
    expect(mappedProblem({})).toBeUndefined();
    expect(mappedProblem([1])).toMatch(/an array/);
    expect(mappedProblem(null)).toMatch(/null/);
    expect(mappedProblem('s')).toMatch(/a string/);
  });
});

describe('OpenAI Batch input', () => {
  const line = (id: string, content: string) =>
    JSON.stringify({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: [{ role: 'user', content }] },
    });

  it("is recognised by its first line: custom_id is the id, the body is worker-vllm's passthrough form", async () => {
    const path = file('jsonl', `${line('request-1', 'hi')}\n${line('request-2', 'yo')}\n`);
    const { rows, issues } = await read(path);
    expect(issues).toEqual([]);
    expect(rows.map((r) => r.key)).toEqual(['request-1', 'request-2']);
    expect(rows[0]!.body).toEqual({
      input: { openai_route: '/v1/chat/completions', openai_input: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } },
    });
  });

  it('every line of such a file must be one; problems are file:line', async () => {
    const bad = [
      line('a', 'x'),
      JSON.stringify({ custom_id: 'b', method: 'GET', url: '/v1/chat/completions', body: {} }),
      JSON.stringify({ custom_id: '', method: 'POST', url: '/v1/chat/completions', body: {} }),
      JSON.stringify({ custom_id: 'd', method: 'POST', url: 'chat', body: {} }),
      JSON.stringify({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body: 'text' }),
      JSON.stringify({ custom_id: 'f', prompt: 'p' }),
    ];
    const { rows, issues } = await read(file('jsonl', `${bad.join('\n')}\n`));
    expect(rows.map((r) => r.key)).toEqual(['a']);
    expect(issues.map((i) => [i.line, i.message])).toEqual([
      [2, 'method must be "POST", got "GET"'],
      [3, 'custom_id must be a non-empty string, got empty string'],
      [4, 'url must be an OpenAI route such as "/v1/chat/completions", got "chat"'],
      [5, 'body must be a JSON object, got string'],
      [6, 'OpenAI Batch line without method, url, body (each line needs custom_id, method, url and body)'],
    ]);
  });

  it('--format openai-batch insists from the first line; --format jsonl reads such lines as plain inputs', async () => {
    const plain = file('txt', '{"prompt":"p"}\n');
    const named = await read(plain, { format: 'openai-batch' });
    expect(named.issues[0]!.message).toMatch(/OpenAI Batch line without custom_id/);
    const path = file('txt', `${line('x', 'hi')}\n`);
    const asJsonl = await read(path, { format: 'jsonl' });
    expect(asJsonl.rows[0]!.key).toBe('1');
    expect((asJsonl.rows[0]!.body.input as Record<string, unknown>).custom_id).toBe('x');
  });

  it('a mapping sees the OpenAI line itself', async () => {
    const path = file('jsonl', `${line('r1', 'hello')}\n`);
    const { rows } = await read(path, { map: '{"prompt": body.messages[0].content}' });
    expect(rows.map((r) => [r.key, r.body])).toEqual([['r1', { input: { prompt: 'hello' } }]]);
  });
});

describe('--shard k/n', () => {
  it("shardOf is the first 32 bits of the key's SHA-1 modulo n: fixed values, the same on every machine", () => {
    const pinned = ['r1', 'r2', 'r3', 'request-7', '42'].map((k) => shardOf(k, 7));
    expect(pinned).toEqual(['r1', 'r2', 'r3', 'request-7', '42'].map((k) => Number(BigInt(`0x${sha1(k).slice(0, 8)}`) % 7n)));
    expect(shardOf('anything', 1)).toBe(0);
    // Values taken once and pinned: shards written by one release must be read the same by the next.
    expect(['r1', 'request-7', '42'].map((k) => shardOf(k, 7))).toEqual([6, 6, 2]);
    expect(['r1', 'request-7', '42'].map((k) => shardOf(k, 1000))).toEqual([267, 414, 403]);
  });

  it("the shards of a file are disjoint, cover every row, and keep each row's place in the whole file", async () => {
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ id: `r${i}`, p: i }));
    const path = file('jsonl', `${lines.join('\n')}\n`);
    const all = await read(path);
    const shards = await Promise.all([0, 1, 2].map((k) => read(path, { shard: { k, n: 3 } })));
    const keys = shards.flatMap((s) => s.rows.map((r) => r.key));
    expect(new Set(keys).size).toBe(60);
    expect(keys.sort()).toEqual(all.rows.map((r) => r.key).sort());
    for (const s of shards) {
      expect(s.rows.length).toBeGreaterThan(5);
      for (const r of s.rows) expect(r.seq).toBe(all.rows.find((a) => a.key === r.key)!.seq);
    }
  });

  it("rows of other shards are still checked for JSON and ids; the mapping runs on this shard's rows only", async () => {
    const path = file('jsonl', '{"id":"a","x":1}\n{not json\n{"id":"b"}\n');
    const { issues } = await read(path, { shard: { k: shardOf('a', 2) === 0 ? 1 : 0, n: 2 } });
    expect(issues.map((i) => i.line)).toEqual([2]);
  });

  it('parseShard', () => {
    expect(parseShard('0/4')).toEqual({ k: 0, n: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ k: 3, n: 4 });
    expect(() => parseShard('4/4')).toThrow(/below n/);
    expect(() => parseShard('1/0')).toThrow(/at least 1/);
    expect(() => parseShard('a/b')).toThrow(/must be k\/n/);
    expect(() => parseShard('/4')).toThrow(UsageError);
  });
});

describe('planInput: what a rerun keeps', () => {
  const saved = (extra: Partial<SavedInput>): SavedInput => ({
    path: 'in.csv',
    fingerprint: { size: 1, sha256: 'x' },
    format: null,
    idField: 'id',
    csvCast: false,
    limit: null,
    rows: 3,
    ...extra,
  });
  it.each([
    ['a first run with a mapping', { map: 'a' }, undefined, 'a', 0],
    ["a rerun without --map keeps the batch's mapping (and says so)", {}, saved({ map: 'a' }), 'a', 1],
    ['a rerun with another mapping uses it', { map: 'b' }, saved({ map: 'a' }), 'b', 0],
    ['--no-map drops it', { map: false as const }, saved({ map: 'a' }), undefined, 0],
    ['a state from before --map: none', {}, saved({}), undefined, 0],
  ])('%s', (_name, o, s, map, notes) => {
    const plan = planInput(o, s, 'out');
    expect(plan.map).toBe(map);
    expect(plan.notes).toHaveLength(notes);
  });

  it('a folder keeps its shard; another shard, or a shard of a whole batch, is refused', () => {
    expect(planInput({}, saved({ shard: { k: 1, n: 4 } }), 'o').shard).toEqual({ k: 1, n: 4 });
    expect(planInput({ shard: '1/4' }, saved({ shard: { k: 1, n: 4 } }), 'o').notes).toEqual([]);
    expect(() => planInput({ shard: '2/4' }, saved({ shard: { k: 1, n: 4 } }), 'o')).toThrow(StateError);
    expect(() => planInput({ shard: '2/4' }, saved({}), 'o')).toThrow(/holds all rows of its input/);
    expect(planInput({ shard: '0/1' }, undefined, 'o').shard).toBeUndefined();
    // … and a rerun of it resumes (a one-completion Indexed Job restarted) instead of being refused.
    expect(planInput({ shard: '0/1' }, saved({ shard: null }), 'o').shard).toBeUndefined();
    expect(planInput({ shard: { k: 0, n: 1 } }, saved({}), 'o').notes).toEqual([]);
  });
});

/** The rule written out again with createHash: the check does not call the code under test. */
function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}
