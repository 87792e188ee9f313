import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, type InputIssue } from '../../src/core/errors.js';
import { castCell } from '../../src/input/csv.js';
import { detectFormat, hashBody, readInput, type InputOptions, type InputRow, type ReadItem } from '../../src/input/index.js';
import { readJsonl } from '../../src/input/jsonl.js';
import { LineSplitter, type LineProblem } from '../../src/input/lines.js';
import { readContext } from '../../src/input/row.js';

const FIX = join(import.meta.dirname, '../../fixtures');
const fx = (name: string) => join(FIX, name);

const tmp = mkdtempSync(join(tmpdir(), 'rpb-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
function tmpFile(ext: string, data: string | Buffer): string {
  const path = join(tmp, `f${++fileNo}.${ext}`);
  writeFileSync(path, data);
  return path;
}

async function collect(path: string, opts?: InputOptions): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const item of readInput(path, opts)) out.push(item);
  return out;
}
async function read(path: string, opts?: InputOptions): Promise<{ rows: InputRow[]; issues: InputIssue[] }> {
  const items = await collect(path, opts);
  return {
    rows: items.flatMap((i) => (i.kind === 'row' ? [i.row] : [])),
    issues: items.flatMap((i) => (i.kind === 'issue' ? [i.issue] : [])),
  };
}
const lineMsgs = (issues: InputIssue[]) => issues.map((i) => [i.line, i.message] as const);

describe('detectFormat', () => {
  it.each([
    ['a.jsonl', 'jsonl'],
    ['dir/a.NDJSON', 'jsonl'],
    ['a.json', 'jsonl'],
    ['a.csv', 'csv'],
    ['A.CSV', 'csv'],
    ['data/train-00000-of-00004.PARQUET', 'parquet'],
  ] as const)('%s → %s', (path, format) => {
    expect(detectFormat(path)).toBe(format);
  });

  it('an explicit format wins over the extension', () => {
    expect(detectFormat('a.txt', 'csv')).toBe('csv');
    expect(detectFormat('a.csv', 'jsonl')).toBe('jsonl');
  });

  it.each(['a.txt', 'noext', 'a.jsonl.gz'])('throws InputError for %s', (path) => {
    expect(() => detectFormat(path)).toThrow(InputError);
    expect(() => detectFormat(path)).toThrow(/cannot tell the input format/);
  });
});

describe('hashBody', () => {
  it('is the sha1 hex of the JSON text', () => {
    const json = '{"input":{"prompt":"hi"}}';
    expect(hashBody(json)).toBe(createHash('sha1').update(json).digest('hex'));
    expect(hashBody(json)).toMatch(/^[0-9a-f]{40}$/);
  });
  it('is stable and differs for different bodies', () => {
    expect(hashBody('{"input":{"a":1}}')).toBe(hashBody('{"input":{"a":1}}'));
    expect(hashBody('{"input":{"a":1}}')).not.toBe(hashBody('{"input":{"a":2}}'));
  });
  it('rows carry the hash of their bodyJson; same body in two files → same hash', async () => {
    const a = await read(tmpFile('jsonl', '{"id":"x","p":1}\n'));
    const b = await read(tmpFile('jsonl', '\n\n{"id":"x","p":1}\n'));
    const c = await read(tmpFile('jsonl', '{"id":"x","p":2}\n'));
    expect(a.rows[0]!.hash).toBe(hashBody(a.rows[0]!.bodyJson));
    expect(b.rows[0]!.hash).toBe(a.rows[0]!.hash);
    expect(c.rows[0]!.hash).not.toBe(a.rows[0]!.hash);
  });
});

describe('readInput: whole-file problems throw InputError before anything is yielded', () => {
  it('missing file', () => {
    const missing = join(tmp, 'nope.jsonl');
    expect(() => readInput(missing)).toThrow(InputError);
    expect(() => readInput(missing)).toThrow(/not found/);
    try {
      readInput(missing);
    } catch (e) {
      expect((e as InputError).code).toBe('RPB_INPUT');
      expect((e as InputError).issues[0]).toMatchObject({ file: missing, line: 0 });
    }
  });

  it('a directory', () => {
    const dir = join(tmp, 'adir.jsonl');
    mkdirSync(dir);
    expect(() => readInput(dir)).toThrow(/directory/);
  });

  it('unknown extension without a format', async () => {
    expect(() => readInput(fx('bad/unknown.txt'))).toThrow(InputError);
    await expect(collect(fx('bad/unknown.txt'))).rejects.toThrow(/cannot tell the input format/);
  });

  it("format: 'jsonl' overrides an unknown extension", async () => {
    const { rows, issues } = await read(fx('bad/unknown.txt'), { format: 'jsonl' });
    expect(issues).toEqual([]);
    expect(rows.map((r) => r.key)).toEqual(['a']);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file', () => {
    const path = tmpFile('jsonl', '{"a":1}\n');
    chmodSync(path, 0o000);
    expect(() => readInput(path)).toThrow(/cannot read/);
  });
});

describe('JSONL', () => {
  it('prompts.jsonl: 300 rows with ids, lines and seq in order', async () => {
    const { rows, issues } = await read(fx('prompts.jsonl'));
    expect(issues).toEqual([]);
    expect(rows).toHaveLength(300);
    expect(rows[0]).toMatchObject({ key: 'p-001', id: 'p-001', line: 1, seq: 0 });
    expect(rows[0]!.body).toEqual({ input: { id: 'p-001', prompt: 'a lighthouse at dusk, photorealistic', seed: 0 } });
    expect(rows[0]!.bodyJson).toBe(JSON.stringify(rows[0]!.body));
    expect(rows[299]).toMatchObject({ key: 'p-300', line: 300, seq: 299 });
    expect(rows.every((r, i) => r.seq === i && r.line === i + 1)).toBe(true);
  });

  it('requests.jsonl: input rows pass webhook and policy along and drop other keys', async () => {
    const { rows, issues } = await read(fx('requests.jsonl'));
    expect(issues).toEqual([]);
    expect(rows.map((r) => [r.key, r.body])).toEqual([
      ['r-1', { input: { prompt: 'hello' } }],
      ['r-2', { input: { prompt: 'with a webhook' }, webhook: 'https://example.com/hook' }],
      ['r-3', { input: { prompt: 'with a policy' }, policy: { executionTimeout: 60000, ttl: 3600000 } }],
      ['r-4', { input: { prompt: 'fed back from errors.jsonl' } }],
    ]);
    expect(rows[3]!.bodyJson).toBe('{"input":{"prompt":"fed back from errors.jsonl"}}');
  });

  it('no-ids.jsonl: the id is the line number', async () => {
    const { rows } = await read(fx('no-ids.jsonl'));
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.map((r) => r.key)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(rows[0]!.body).toEqual({ input: { prompt: 'prompt number 1' } });
  });

  it('blank lines are skipped but counted', async () => {
    const { rows, issues } = await read(tmpFile('jsonl', '\n{"a":1}\n   \n\t\n{"a":2}\n\n'));
    expect(issues).toEqual([]);
    expect(rows.map((r) => [r.line, r.id, r.seq])).toEqual([
      [2, 2, 0],
      [5, 5, 1],
    ]);
  });

  it('a UTF-8 BOM and CRLF line ends are handled', async () => {
    const { rows, issues } = await read(tmpFile('jsonl', '\ufeff{"id":"a","t":"é"}\r\n\r\n{"id":"b"}\r\n'));
    expect(issues).toEqual([]);
    expect(rows.map((r) => [r.key, r.line])).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
    expect(rows[0]!.body).toEqual({ input: { id: 'a', t: 'é' } });
  });

  it('a last line without a line end is read', async () => {
    const { rows } = await read(tmpFile('jsonl', '{"id":"a"}\n{"id":"b"}'));
    expect(rows.map((r) => r.key)).toEqual(['a', 'b']);
  });

  it('numeric ids are kept as numbers, keyed as strings', async () => {
    const { rows } = await read(tmpFile('jsonl', '{"id":7}\n{"id":1.5}\n{"id":"07"}\n'));
    expect(rows.map((r) => [r.id, r.key])).toEqual([
      [7, '7'],
      [1.5, '1.5'],
      ['07', '07'],
    ]);
  });

  it('idField picks another field, for plain and input rows; the id stays inside a plain input', async () => {
    const { rows } = await read(tmpFile('jsonl', '{"uid":"u1","id":"not me"}\n{"uid":9,"input":{"q":1}}\n{"id":"x"}\n'), {
      idField: 'uid',
    });
    expect(rows.map((r) => [r.key, r.id])).toEqual([
      ['u1', 'u1'],
      ['9', 9],
      ['3', 3],
    ]);
    expect(rows[0]!.body).toEqual({ input: { uid: 'u1', id: 'not me' } });
    expect(rows[1]!.body).toEqual({ input: { q: 1 } });
  });

  it('an input row takes its id from the line, not from the input', async () => {
    const { rows } = await read(tmpFile('jsonl', '{"input":{"id":"inner"}}\n{"id":"outer","input":{"id":"inner"}}\n'));
    expect(rows.map((r) => r.key)).toEqual(['1', 'outer']);
  });

  it('input is sent as is, whatever its type (but not null)', async () => {
    const { rows, issues } = await read(tmpFile('jsonl', '{"input":"text"}\n{"input":[1,2]}\n{"input":0}\n'));
    expect(issues).toEqual([]);
    expect(rows.map((r) => r.body.input)).toEqual(['text', [1, 2], 0]);
  });

  it.each([
    ['{"id":null}', 'id must be a non-empty string or a number, got null'],
    ['{"id":{}}', 'id must be a non-empty string or a number, got object'],
    ['{"id":[1]}', 'id must be a non-empty string or a number, got array'],
    ['{"id":true}', 'id must be a non-empty string or a number, got boolean'],
    ['{"id":""}', 'id must be a non-empty string or a number, got empty string'],
    ['{"id":1e400}', 'id must be a non-empty string or a number, got Infinity'],
    ['{"input":null}', 'input must not be null'],
    ['{"input":{},"webhook":5}', 'webhook must be a string, got number'],
    ['{"input":{},"policy":[1]}', 'policy must be a JSON object, got array'],
    ['{"input":{},"policy":null}', 'policy must be a JSON object, got null'],
  ])('%s → issue %j', async (line, message) => {
    const { rows, issues } = await read(tmpFile('jsonl', `{"id":"ok"}\n${line}\n`));
    expect(rows.map((r) => r.key)).toEqual(['ok']);
    expect(lineMsgs(issues)).toEqual([[2, message]]);
  });

  it("idField is named in the id message when it isn't 'id'", async () => {
    const { issues } = await read(tmpFile('jsonl', '{"uid":false}\n'), { idField: 'uid' });
    expect(issues[0]!.message).toBe("id field 'uid' must be a non-empty string or a number, got boolean");
  });

  it('issues do not use up seq numbers', async () => {
    const { rows } = await read(fx('bad/malformed.jsonl'));
    expect(rows.map((r) => [r.key, r.seq, r.line])).toEqual([
      ['a', 0, 1],
      ['b', 1, 2],
      ['d', 2, 4],
    ]);
  });

  it('a pretty-printed JSON document gets a hint', async () => {
    const { issues } = await read(tmpFile('json', '[\n  {"a": 1}\n]\n'));
    expect(issues[0]!.line).toBe(1);
    expect(issues[0]!.message).toMatch(/^invalid JSON: .*not a pretty-printed JSON document/);
  });

  it('an all-blank file is empty input', async () => {
    const { rows, issues } = await read(tmpFile('jsonl', '\n  \r\n\n'));
    expect(rows).toEqual([]);
    expect(lineMsgs(issues)).toEqual([[1, 'empty input: no rows']]);
  });
});

describe('JSONL broken fixtures', () => {
  it.each([
    ['bad/malformed.jsonl', [[3, /^invalid JSON: /]], ['a', 'b', 'd']],
    [
      'bad/trailing-garbage.jsonl',
      [
        [2, /^invalid JSON: /],
        [3, /^invalid JSON: /],
      ],
      ['a'],
    ],
    [
      'bad/non-object.jsonl',
      [
        [2, /^row must be a JSON object, got array$/],
        [3, /^row must be a JSON object, got string$/],
        [4, /^row must be a JSON object, got number$/],
        [5, /^row must be a JSON object, got null$/],
        [6, /^row must be a JSON object, got boolean$/],
      ],
      ['ok'],
    ],
    ['bad/invalid-utf8.jsonl', [[2, /^invalid UTF-8$/]], ['a', 'c']],
    ['bad/empty.jsonl', [[1, /^empty input: no rows$/]], []],
    // duplicates are found downstream (SQLite), not here
    ['bad/duplicate-ids.jsonl', [], ['x', 'y', 'x']],
  ] as const)('%s', async (name, expected, keys) => {
    const { rows, issues } = await read(fx(name));
    expect(issues.map((i) => i.line)).toEqual(expected.map((e) => e[0]));
    issues.forEach((issue, i) => {
      expect(issue.message).toMatch(expected[i]![1]);
      expect(issue.file).toBe(fx(name));
    });
    expect(rows.map((r) => r.key)).toEqual(keys);
  });

  it('keeps valid UTF-8 next to a bad line', async () => {
    const { rows } = await read(fx('bad/invalid-utf8.jsonl'));
    expect(rows[1]!.body).toEqual({ input: { id: 'c', prompt: 'café' } });
  });

  it('a real U+FFFD in the text is not mistaken for invalid UTF-8', async () => {
    const { rows, issues } = await read(tmpFile('jsonl', '{"t":"\ufffd"}\n'));
    expect(issues).toEqual([]);
    expect(rows[0]!.body).toEqual({ input: { t: '\ufffd' } });
  });
});

describe('body size limit', () => {
  it('a body over maxBodyBytes is an issue; one at the limit is a row', async () => {
    // {"input":{"p":"xx…"}} is 18 bytes + the string
    const at = `{"p":"${'x'.repeat(32)}"}`;
    const over = `{"p":"${'x'.repeat(33)}"}`;
    const { rows, issues } = await read(tmpFile('jsonl', `${at}\n${over}\n`), { maxBodyBytes: 50 });
    expect(rows.map((r) => Buffer.byteLength(r.bodyJson))).toEqual([50]);
    expect(lineMsgs(issues)).toEqual([[2, 'row is 51 bytes, over the 50-byte limit for a /run body']]);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const { issues } = await read(tmpFile('jsonl', `{"p":"${'é'.repeat(20)}"}\n`), { maxBodyBytes: 50 });
    expect(issues[0]!.message).toBe(`row is ${18 + 40} bytes, over the 50-byte limit for a /run body`);
  });

  it("the default limit is RunPod's 10 MB", async () => {
    const big = `{"p":"${'x'.repeat(10_000_000)}"}\n{"p":"small"}\n`;
    const { rows, issues } = await read(tmpFile('jsonl', big));
    expect(lineMsgs(issues)).toEqual([[1, "row is 10000018 bytes, over RunPod's 10 MB /run limit"]]);
    expect(rows.map((r) => r.line)).toEqual([2]);
  });

  it('a line over the memory guard is dropped while it streams and reported', async () => {
    const path = tmpFile('jsonl', `{"a":1}\n{"p":"${'x'.repeat(600_000)}"}\n{"a":3}\n`);
    const ctx = { ...readContext(path), maxLineBytes: 1000 };
    const items: ReadItem[] = [];
    for await (const item of readJsonl(ctx)) if (item.kind !== 'record') items.push(item);
    expect(items.map((i) => (i.kind === 'row' ? i.row.line : `issue ${i.issue.line}: ${i.issue.message}`))).toEqual([
      1,
      'issue 2: line is over 1000 bytes: too large for a /run body',
      3,
    ]);
  });
});

describe('JSONL across read chunks', () => {
  it('long lines and multi-byte characters that straddle chunk boundaries', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) lines.push(JSON.stringify({ id: `r${i}`, t: 'é€😀'.repeat(i * 4000 + 1) }));
    const path = tmpFile('jsonl', lines.join('\r\n') + '\r\n');
    const { rows, issues } = await read(path);
    expect(issues).toEqual([]);
    expect(rows.map((r) => r.key)).toEqual(lines.map((_, i) => `r${i}`));
    expect(rows.every((r, i) => r.bodyJson === `{"input":${lines[i]}}` && r.line === i + 1)).toBe(true);
  });

  it('invalid UTF-8 inside a line that spans chunks is reported at its line', async () => {
    const long = Buffer.from(`{"t":"${'x'.repeat(400_000)}`);
    const data = Buffer.concat([Buffer.from('{"a":1}\n'), long, Buffer.from([0xff]), Buffer.from('"}\n{"a":3}\n')]);
    const { rows, issues } = await read(tmpFile('jsonl', data));
    expect(lineMsgs(issues)).toEqual([[2, 'invalid UTF-8']]);
    expect(rows.map((r) => r.line)).toEqual([1, 3]);
  });
});

describe('LineSplitter', () => {
  function split(data: Buffer, chunkSize: number, maxLineBytes = 1 << 20): Array<[number, string | LineProblem]> {
    const out: Array<[number, string | LineProblem]> = [];
    const sink = (line: number, text: string | null, problem?: LineProblem) => out.push([line, text ?? problem!]);
    const s = new LineSplitter(maxLineBytes);
    for (let i = 0; i < data.length; i += chunkSize) s.push(data.subarray(i, i + chunkSize), sink);
    s.end(sink);
    return out;
  }
  const data = Buffer.concat([
    Buffer.from('\ufeffab\r\n\ncafé\r\n'),
    Buffer.from([0x61, 0xe9, 0x62, 0x0a]), // latin-1 é: invalid UTF-8
    Buffer.from('xyz\nlast'),
  ]);
  const expected = [
    [1, 'ab'],
    [2, ''],
    [3, 'café'],
    [4, 'invalid-utf8'],
    [5, 'xyz'],
    [6, 'last'],
  ];

  it.each([1, 2, 3, 5, 7, 64])('gives the same lines for chunks of %i bytes', (size) => {
    expect(split(data, size)).toEqual(expected);
  });

  it.each([1, 4, 64])('reports lines over maxLineBytes (chunks of %i)', (size) => {
    expect(split(Buffer.from('abcd\nabcdefgh\nab\nabcdefghijk'), size, 5)).toEqual([
      [1, 'abcd'],
      [2, 'too-long'],
      [3, 'ab'],
      [4, 'too-long'],
    ]);
  });
});

describe('CSV', () => {
  it('prompts.csv (BOM, CRLF, quoted comma, embedded line break, doubled quotes)', async () => {
    const { rows, issues } = await read(fx('prompts.csv'));
    expect(issues).toEqual([]);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toMatchObject({ key: 'c-001', id: 'c-001', line: 2, seq: 0 });
    expect(rows[0]!.body).toEqual({ input: { id: 'c-001', prompt: 'a cat astronaut in oil painting', temperature: '0.1' } });
    expect(rows[9]!.body.input).toMatchObject({ prompt: 'a red, round apple' });
    expect(rows[19]).toMatchObject({ key: 'c-020', line: 21 });
    expect(rows[19]!.body.input).toMatchObject({ prompt: 'first line\r\nsecond line' });
    expect(rows[20]).toMatchObject({ key: 'c-021', line: 23 });
    expect(rows[29]!.body.input).toMatchObject({ prompt: 'she said "hi"' });
    expect(rows[49]).toMatchObject({ key: 'c-050', line: 52, seq: 49 });
  });

  it('csvCast infers numbers and booleans; without it, all values are strings', async () => {
    const path = tmpFile('csv', 'id,n,f,b,z,e,h\nx,42,-1.5,TRUE,007,,0x10\n');
    const plain = await read(path);
    expect(plain.rows[0]!.body.input).toEqual({ id: 'x', n: '42', f: '-1.5', b: 'TRUE', z: '007', e: '', h: '0x10' });
    const cast = await read(path, { csvCast: true });
    expect(cast.rows[0]!.body.input).toEqual({ id: 'x', n: 42, f: -1.5, b: true, z: '007', e: '', h: '0x10' });
  });

  it.each([
    ['42', 42],
    ['-1.5', -1.5],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
    ['0', 0],
    ['0.5', 0.5],
    ['true', true],
    ['False', false],
    ['007', '007'],
    ['', ''],
    ['0x10', '0x10'],
    [' 42', ' 42'],
    ['+5', '+5'],
    ['.5', '.5'],
    ['-0', '-0'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['1e400', '1e400'],
    ['12345678901234567890', '12345678901234567890'],
    ['yes', 'yes'],
  ] as const)('castCell(%j) → %j', (cell, value) => {
    expect(castCell(cell)).toBe(value);
  });

  it('with csvCast the id (key) is still the cell text', async () => {
    const { rows } = await read(tmpFile('csv', 'id,v\n1e3,1\n'), { csvCast: true });
    expect(rows[0]).toMatchObject({ id: '1e3', key: '1e3' });
    expect(rows[0]!.body.input).toEqual({ id: 1000, v: 1 });
  });

  it('no id column: the id is the data-row number (blank lines not counted)', async () => {
    const { rows } = await read(tmpFile('csv', 'x\n\na\n\n\nb\n'));
    expect(rows.map((r) => [r.id, r.key, r.line])).toEqual([
      [1, '1', 3],
      [2, '2', 6],
    ]);
  });

  it('an empty id cell uses the data-row number; idField picks another column', async () => {
    const path = tmpFile('csv', 'id,name\na,n1\n,n2\nc,\n');
    expect((await read(path)).rows.map((r) => r.id)).toEqual(['a', 2, 'c']);
    expect((await read(path, { idField: 'name' })).rows.map((r) => r.id)).toEqual(['n1', 'n2', 3]);
  });

  it('LF line ends and no final line end', async () => {
    const { rows } = await read(tmpFile('csv', 'id,x\na,1\nb,2'));
    expect(rows.map((r) => [r.key, r.line, r.body.input])).toEqual([
      ['a', 2, { id: 'a', x: '1' }],
      ['b', 3, { id: 'b', x: '2' }],
    ]);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('multi-line records start on the right line (%s)', async (_, nl) => {
    const text = ['id,text', 'a,"l1', 'l2', 'l3"', 'b,x', '', 'c,"m1', 'm2"', 'd,y', ''].join(nl);
    const { rows, issues } = await read(tmpFile('csv', text));
    expect(issues).toEqual([]);
    expect(rows.map((r) => [r.key, r.line])).toEqual([
      ['a', 2],
      ['b', 5],
      ['c', 7],
      ['d', 9],
    ]);
    expect(rows[0]!.body.input).toEqual({ id: 'a', text: `l1${nl}l2${nl}l3` });
  });

  it('a column named __proto__ is a plain key', async () => {
    const { rows } = await read(tmpFile('csv', '__proto__,x\np,1\n'));
    expect(rows[0]!.bodyJson).toBe('{"input":{"__proto__":"p","x":"1"}}');
  });

  it('a body over maxBodyBytes is an issue', async () => {
    const { rows, issues } = await read(tmpFile('csv', `id,p\na,short\nb,${'x'.repeat(100)}\n`), { maxBodyBytes: 60 });
    expect(rows.map((r) => r.key)).toEqual(['a']);
    expect(issues.map((i) => i.line)).toEqual([3]);
    expect(issues[0]!.message).toMatch(/^row is \d+ bytes, over the 60-byte limit/);
  });
});

describe('CSV problems', () => {
  it('ragged.csv: rows with the wrong column count are issues and reading goes on', async () => {
    const { rows, issues } = await read(fx('bad/ragged.csv'));
    expect(lineMsgs(issues)).toEqual([
      [3, 'expected 3 columns, got 2'],
      [4, 'expected 3 columns, got 4'],
    ]);
    expect(rows.map((r) => [r.key, r.line, r.seq])).toEqual([
      ['a', 2, 0],
      ['d', 5, 1],
    ]);
  });

  it('a ragged row keeps its data-row number', async () => {
    const { rows } = await read(tmpFile('csv', 'x,y\n1,2\n3\n4,5\n'));
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
  });

  it('unterminated.csv: the issue names the line where the record starts, then reading stops', async () => {
    const items = await collect(fx('bad/unterminated.csv'));
    expect(items.map((i) => (i.kind === 'row' ? `row ${i.row.key}` : `${i.issue.line}: ${i.issue.message}`))).toEqual([
      'row a',
      '3: unterminated quoted field: a quote opened in the record starting on this line is never closed',
    ]);
  });

  it('a stray quote in an unquoted field is an issue and reading goes on', async () => {
    const { rows, issues } = await read(tmpFile('csv', 'id,x\na,b"c\nd,e\n'));
    expect(issues.map((i) => i.line)).toEqual([2]);
    expect(issues[0]!.message).toMatch(/^quote inside an unquoted field/);
    expect(rows.map((r) => [r.key, r.line])).toEqual([['d', 3]]);
  });

  it('text after a closing quote is one issue (the open quote runs to the end of the file)', async () => {
    const { rows, issues } = await read(tmpFile('csv', 'id,x\na,1\nb,"2"x\nc,3\n'));
    expect(issues.map((i) => i.line)).toEqual([3]);
    expect(issues[0]!.message).toMatch(/^a closing quote must be followed by a comma or a line end/);
    expect(rows.map((r) => r.key)).toEqual(['a']);
  });

  it.each([
    ['header-only.csv', 'id,prompt\n', [[1, /^no data rows/]]],
    ['header-only, no line end', 'id,prompt', [[1, /^no data rows/]]],
    ['empty', '', [[1, /^empty input: no rows$/]]],
    ['blank lines only', '\n\r\n  \n', [[1, /^empty input: no rows$/]]],
    ['blank lines before the header', '\n  \nid\n', [[3, /^no data rows/]]],
    ['BOM only', '\ufeff', [[1, /^empty input: no rows$/]]],
    ['duplicate column', 'id,x,x\n1,2,3\n', [[1, /^duplicate column name 'x'$/]]],
    ['empty column name', 'id,,x\n1,2,3\n', [[1, /^empty column name in the header \(column 2\)$/]]],
  ] as const)('%s', async (_, text, expected) => {
    const { rows, issues } = await read(tmpFile('csv', text));
    expect(rows).toEqual([]);
    expect(issues.map((i) => i.line)).toEqual(expected.map((e) => e[0]));
    for (const [i, issue] of issues.entries()) expect(issue.message).toMatch(expected[i]![1]);
  });

  it('the header-only fixture', async () => {
    const { rows, issues } = await read(fx('bad/header-only.csv'));
    expect(rows).toEqual([]);
    expect(issues.map((i) => [i.line, i.message.startsWith('no data rows')])).toEqual([[1, true]]);
  });

  it('invalid UTF-8 in a cell is an issue at the record line; a real U+FFFD is kept', async () => {
    const data = Buffer.concat([Buffer.from('id,t\na,ok\nb,"x\n'), Buffer.from([0xe9]), Buffer.from('"\nc,\ufffd\n')]);
    const { rows, issues } = await read(tmpFile('csv', data));
    expect(lineMsgs(issues)).toEqual([[3, "invalid UTF-8 in column 't'"]]);
    expect(rows.map((r) => [r.key, r.line, r.body.input])).toEqual([
      ['a', 2, { id: 'a', t: 'ok' }],
      ['c', 5, { id: 'c', t: '\ufffd' }],
    ]);
  });
});

describe('streaming', () => {
  it.each(['prompts.jsonl', 'prompts.csv'])('%s: stopping early closes the file without error', async (name) => {
    let n = 0;
    for await (const item of readInput(fx(name))) {
      expect(item.kind).toBe('row');
      if (++n === 3) break;
    }
    expect(n).toBe(3);
  });

  it('many rows across many chunks keep order and line numbers (CSV)', async () => {
    const lines = ['id,v'];
    for (let i = 1; i <= 20_000; i++) lines.push(i % 1000 === 0 ? `r${i},"multi\nline ${i}"` : `r${i},value ${i}`);
    const { rows, issues } = await read(tmpFile('csv', lines.join('\n') + '\n'));
    expect(issues).toEqual([]);
    expect(rows).toHaveLength(20_000);
    let line = 2;
    for (let i = 0; i < rows.length; i++) {
      expect(rows[i]!.key).toBe(`r${i + 1}`);
      expect(rows[i]!.line).toBe(line);
      line += (i + 1) % 1000 === 0 ? 2 : 1;
    }
  });
});
