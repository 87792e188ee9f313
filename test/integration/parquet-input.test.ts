import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { parquetWriteFile } from 'hyparquet-writer';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run.js';
import { InputError } from '../../src/core/errors.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { rowGroupSizes } from '../support/parquet-read.js';
import { readResults } from '../support/results.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir('rpb-parquet-run-');
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

const N = 240;
const run = (input: string, out: string) =>
  runBatch({ input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: emu.baseUrl, concurrency: 16 });

describe('Parquet input through runBatch against the emulator', () => {
  it('a ZSTD shard of several row groups: every row sent once, results.jsonl in file order with its row number', async () => {
    // A dataset shard as the Hugging Face datasets library writes it (arrow-rs here): no id column, ZSTD pages.
    const prompts = Array.from({ length: N }, (_, i) => `Translate sentence ${i}`);
    const table = new A.Table({
      prompt: A.vectorFromArray(prompts, new A.Utf8()),
      tokens: A.vectorFromArray(
        prompts.map((_, i) => BigInt(i * 1000)),
        new A.Int64(),
      ),
      tags: A.vectorFromArray(
        prompts.map((_, i) => (i % 2 === 0 ? ['even'] : [])),
        new A.List(new A.Field('item', new A.Utf8(), true)),
      ),
    });
    const input = join(dir, 'train-00000-of-00001.parquet');
    const props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setMaxRowGroupSize(50).build();
    writeFileSync(input, writeParquet(WasmTable.fromIPCStream(A.tableToIPC(table, 'stream')), props));
    expect(await rowGroupSizes(input)).toEqual([50, 50, 50, 50, 40]);

    const before = emu.stats.requests.run ?? 0;
    const out = join(dir, 'out-train');
    const r = await run(input, out);
    expect(r.exitCode).toBe(0);
    expect(r.stats.rows.completed).toBe(N);
    expect((emu.stats.requests.run ?? 0) - before).toBe(N);

    const results = readResults(out);
    expect(results.map((x) => [x.id, x.line])).toEqual(prompts.map((_, i) => [i + 1, i + 1]));
    results.forEach((x, i) => {
      const input = { prompt: prompts[i], tokens: i * 1000, tags: i % 2 === 0 ? ['even'] : [] };
      expect(x.status).toBe('COMPLETED');
      expect(x.input).toEqual(input);
      expect(x.output).toEqual({ echo: input });
    });

    // The same file again: recognised as unchanged, not read again, nothing sent.
    const sent = emu.stats.requests.run ?? 0;
    const again = await run(input, out);
    expect(again.exitCode).toBe(0);
    expect(emu.stats.requests.run ?? 0).toBe(sent);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(N);
  });

  it('bad Parquet input: one clear error, nothing submitted', async () => {
    const dup = join(dir, 'dup.parquet');
    parquetWriteFile({
      filename: dup,
      columnData: [
        { name: 'id', data: ['a', 'b', 'a'], type: 'STRING' },
        { name: 'q', data: ['x', 'y', 'z'], type: 'STRING' },
      ],
    });
    const cut = join(dir, 'cut.parquet');
    const bytes = readFileSync(dup);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    const cases: [string, RegExp][] = [
      [dup, /dup\.parquet:3: duplicate id "a" \(first at row 1\)/],
      [cut, /cut\.parquet: truncated Parquet file/],
    ];
    for (const [input, pattern] of cases) {
      const before = emu.stats.requests.run ?? 0;
      const err = await run(input, join(dir, `out-${Math.random()}`)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(pattern);
      expect(emu.stats.requests.run ?? 0).toBe(before);
    }
  });
});
