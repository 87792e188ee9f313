import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { InputError } from '../../src/core/errors.js';
import type { InputFormat } from '../../src/input/types.js';
import { tempDir } from '../support/tmp.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'bad');
const dir = tempDir();
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const big = '{"id":"big","blob":"' + 'x'.repeat(10_100_000) + '"}\n';

// [case, path, expected message pattern (file:line: …), format]
const CASES: [string, () => string, RegExp, InputFormat?][] = [
  ['malformed JSON', () => join(FIX, 'malformed.jsonl'), /malformed\.jsonl:\d+: invalid JSON/],
  ['trailing garbage', () => join(FIX, 'trailing-garbage.jsonl'), /trailing-garbage\.jsonl:2: invalid JSON/],
  ['an array row', () => file('array.jsonl', '{"id":1}\n[1,2]\n'), /array\.jsonl:2: row must be a JSON object, got array/],
  ['a string row', () => file('string.jsonl', '"hello"\n'), /string\.jsonl:1: row must be a JSON object, got string/],
  ['a number row', () => file('number.jsonl', '{"id":1}\n{"id":2}\n42\n'), /number\.jsonl:3: row must be a JSON object, got number/],
  ['a null row', () => file('null.jsonl', 'null\n'), /null\.jsonl:1: row must be a JSON object, got null/],
  [
    'a row over the 10 MB /run limit',
    () => file('big.jsonl', '{"id":"small"}\n' + big),
    /big\.jsonl:2: row is \d+ bytes, over RunPod's 10 MB \/run limit/,
  ],
  ['invalid UTF-8', () => join(FIX, 'invalid-utf8.jsonl'), /invalid-utf8\.jsonl:\d+: .*UTF-8/],
  ['an empty file', () => join(FIX, 'empty.jsonl'), /empty\.jsonl:1: empty input/],
  ['a header-only CSV', () => join(FIX, 'header-only.csv'), /header-only\.csv:1: no data rows/],
  [
    'a ragged CSV',
    () => join(FIX, 'ragged.csv'),
    /ragged\.csv:3: expected 3 columns, got 2[\s\S]*ragged\.csv:4: expected 3 columns, got 4/,
  ],
  ['an unterminated quote', () => join(FIX, 'unterminated.csv'), /unterminated\.csv:\d+: .*(quote|unterminated)/i],
  ['duplicate ids', () => join(FIX, 'duplicate-ids.jsonl'), /duplicate-ids\.jsonl:\d+: duplicate id .* \(first at line \d+\)/],
  ['a missing file', () => join(dir, 'nope.jsonl'), /nope\.jsonl: no such file/],
  [
    'a directory instead of a file',
    () => {
      const d = join(dir, 'adir.jsonl');
      mkdirSync(d, { recursive: true });
      return d;
    },
    /adir\.jsonl: is a directory/,
  ],
  ['an unknown extension without --format', () => join(FIX, 'unknown.txt'), /unknown\.txt: .*(extension|--format)/],
  ['a .parquet file that is not Parquet', () => file('not.parquet', 'id,q\n1,x\n'), /not\.parquet: not a Parquet file/],
];

describe('bad input: one clear error naming file and line, nothing submitted, no state', () => {
  it.each(CASES)('%s', async (_name, make, pattern, format) => {
    const input = make();
    const before = emu.stats.requests.run ?? 0;
    const err = await runBatch({
      input,
      out: join(dir, 'out-' + Math.random()),
      endpoint: 'test-endpoint',
      apiKey: 'test-key',
      baseUrl: emu.baseUrl,
      format,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(pattern);
    expect(emu.stats.requests.run ?? 0).toBe(before);
  });

  it('the first 20 problems are listed, with a count of the rest', async () => {
    const lines = ['{"id":0}'];
    for (let i = 1; i <= 30; i++) lines.push('{oops');
    const input = file('many.jsonl', lines.join('\n'));
    const err = (await runBatch({ input, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: emu.baseUrl }).catch(
      (e: unknown) => e,
    )) as InputError;
    expect(err.issues).toHaveLength(20);
    expect(err.totalIssues).toBe(30);
    expect(err.message).toMatch(/… and 10 more problems/);
  });

  it('BOM and CRLF are fine, and --format reads an unknown extension', async () => {
    const input = file('ok.txt', '\ufeff{"id":"a","x":1}\r\n{"id":"b","x":2}\r\n');
    const r = await runBatch({
      input,
      out: join(dir, 'ok-out'),
      format: 'jsonl',
      endpoint: 'test-endpoint',
      apiKey: 'test-key',
      baseUrl: emu.baseUrl,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stats.rows.completed).toBe(2);
  });
});
