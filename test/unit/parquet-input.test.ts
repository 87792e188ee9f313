import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema, readOffsetIndex } from 'hyparquet';
import { type ColumnSource, parquetWriteFile } from 'hyparquet-writer';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, WriterVersion, writeParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { InputError, type InputIssue } from '../../src/core/errors.js';
import { type InputOptions, type InputRow, readInput } from '../../src/input/index.js';
import { groupSlices, isoTimestamp, jsonValue, pageLocationsOf, SLICE_BYTES, SLICE_ROWS } from '../../src/input/parquet.js';
import { rowGroupSizes } from '../support/parquet-read.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir('rpb-parquet-in-');
let fileNo = 0;
const path = (name = 'in') => join(dir, `${name}-${++fileNo}.parquet`);

/** Writes columns with hyparquet-writer (our export's writer). */
function writeHy(columnData: ColumnSource[], opts: { rowGroupSize?: number; codec?: 'SNAPPY' | 'UNCOMPRESSED' } = {}): string {
  const filename = path('hy');
  parquetWriteFile({ filename, columnData, rowGroupSize: opts.rowGroupSize ?? 100_000, codec: opts.codec ?? 'SNAPPY' });
  return filename;
}

/** Writes an Arrow table with parquet-wasm (arrow-rs): another writer, and every codec. */
function writeArrow(
  columns: Record<string, A.Vector>,
  opts: {
    codec?: keyof typeof Compression;
    rowGroupSize?: number;
    pageBytes?: number;
    batchRows?: number;
    v2?: boolean;
    noDictionary?: boolean;
  } = {},
): string {
  let b = new WriterPropertiesBuilder().setCompression(Compression[opts.codec ?? 'SNAPPY']);
  if (opts.rowGroupSize !== undefined) b = b.setMaxRowGroupSize(opts.rowGroupSize);
  if (opts.pageBytes !== undefined) b = b.setDataPageSizeLimit(opts.pageBytes);
  if (opts.batchRows !== undefined) b = b.setWriteBatchSize(opts.batchRows);
  if (opts.noDictionary) b = b.setDictionaryEnabled(false);
  if (opts.v2) b = b.setWriterVersion(WriterVersion.V2);
  const filename = path('arrow');
  writeFileSync(filename, writeParquet(WasmTable.fromIPCStream(A.tableToIPC(new A.Table(columns), 'stream')), b.build()));
  return filename;
}
const vec = <T extends A.DataType>(values: unknown[], type: T) => A.vectorFromArray(values, type);

async function read(file: string, opts?: InputOptions): Promise<{ rows: InputRow[]; issues: InputIssue[] }> {
  const rows: InputRow[] = [];
  const issues: InputIssue[] = [];
  for await (const item of readInput(file, opts)) {
    if (item.kind === 'row') rows.push(item.row);
    else issues.push(item.issue);
  }
  return { rows, issues };
}
async function readError(file: string, opts?: InputOptions): Promise<InputError> {
  const err = await read(file, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe('Parquet values as JSON', () => {
  it.each([
    [1n, 1],
    [-(2n ** 53n) + 1n, -(2 ** 53) + 1],
    [2n ** 53n, '9007199254740992'],
    [-(2n ** 63n), '-9223372036854775808'],
    [Uint8Array.from([0, 1, 255]), 'AAH/'],
    [new Uint8Array(0), ''],
    [Float32Array.from([0.5, 2]), [0.5, 2]],
    [new Date('2024-05-01T12:00:00.123Z'), '2024-05-01T12:00:00.123Z'],
    [undefined, null],
    [null, null],
    [
      [1n, null, [Uint8Array.from([104, 105])]],
      [1, null, ['aGk=']],
    ],
    [
      { a: 3n, b: { c: undefined } },
      { a: 3, b: { c: null } },
    ],
  ] as [unknown, unknown][])('%o → %o', (v, want) => {
    expect(jsonValue(v)).toEqual(want);
  });

  it('timestamps keep their unit’s precision, before 1970 too; out-of-range ones stay their number', () => {
    expect(isoTimestamp(1_714_564_800_123_456n, 1_000_000n, 6)).toBe('2024-05-01T12:00:00.123456Z');
    expect(isoTimestamp(-1n, 1_000_000_000n, 9)).toBe('1969-12-31T23:59:59.999999999Z');
    expect(isoTimestamp(0n, 1000n, 3)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTimestamp(2n ** 62n, 1000n, 3)).toBe(String(2n ** 62n));
  });
});

describe('groupSlices', () => {
  it('a small row group is one read; a large one is cut by rows and by bytes, covering every row once', () => {
    expect(groupSlices(10, 5, 1000)).toEqual([[10, 15]]);
    const byRows = groupSlices(0, SLICE_ROWS * 2 + 1, 1000);
    expect(byRows).toEqual([
      [0, SLICE_ROWS],
      [SLICE_ROWS, SLICE_ROWS * 2],
      [SLICE_ROWS * 2, SLICE_ROWS * 2 + 1],
    ]);
    const bySize = groupSlices(100, 1000, SLICE_BYTES * 4);
    expect(bySize).toHaveLength(4);
    expect(bySize[0]).toEqual([100, 350]);
    expect(bySize.at(-1)![1]).toBe(1100);
    // A single row larger than the slice budget is still read.
    expect(groupSlices(0, 2, SLICE_BYTES * 10)).toEqual([
      [0, 1],
      [1, 2],
    ]);
  });
});

describe('readInput: Parquet', () => {
  it('reads every type as JSON (a ZSTD file written by arrow-rs): rows in order, line = row number', async () => {
    const file = writeArrow(
      {
        id: vec(['a', 'b', 'c'], new A.Utf8()),
        n: vec([1n, 9007199254740993n, null], new A.Int64()),
        f: vec([1.5, null, -2], new A.Float64()),
        ok: vec([true, false, null], new A.Bool()),
        ts: vec([new Date('2024-05-01T12:00:00.123Z'), null, new Date(0)], new A.TimestampMillisecond()),
        tsu: vec([1714564800123.5, null, -0.001], new A.TimestampMicrosecond()),
        day: vec([new Date('2024-05-01'), null, new Date(0)], new A.DateDay()),
        bin: vec([Uint8Array.from([0, 1, 255]), null, new Uint8Array(0)], new A.Binary()),
        tags: vec([['x', 'y'], [], null], new A.List(new A.Field('item', new A.Utf8(), true))),
        meta: vec(
          [{ k: 1, s: 'q' }, null, { k: null, s: 'r' }],
          new A.Struct([new A.Field('k', new A.Int32(), true), new A.Field('s', new A.Utf8(), true)]),
        ),
        m: vec(
          [new Map([['a', 1]]), null, new Map()],
          new A.Map_<A.Utf8, A.Int32>(
            new A.Field(
              'entries',
              new A.Struct<{ key: A.Utf8; value: A.Int32 }>([
                new A.Field('key', new A.Utf8(), false),
                new A.Field('value', new A.Int32(), true),
              ]),
            ),
          ),
        ),
      },
      { codec: 'ZSTD' },
    );
    const { rows, issues } = await read(file);
    expect(issues).toEqual([]);
    expect(rows.map((r) => [r.id, r.key, r.line, r.seq])).toEqual([
      ['a', 'a', 1, 0],
      ['b', 'b', 2, 1],
      ['c', 'c', 3, 2],
    ]);
    expect(rows.map((r) => r.body)).toEqual([
      {
        input: {
          id: 'a',
          n: 1,
          f: 1.5,
          ok: true,
          ts: '2024-05-01T12:00:00.123Z',
          tsu: '2024-05-01T12:00:00.123500Z',
          day: '2024-05-01',
          bin: 'AAH/',
          tags: ['x', 'y'],
          meta: { k: 1, s: 'q' },
          m: { a: 1 },
        },
      },
      {
        input: {
          id: 'b',
          n: '9007199254740993',
          f: null,
          ok: false,
          ts: null,
          tsu: null,
          day: null,
          bin: null,
          tags: [],
          meta: null,
          m: null,
        },
      },
      {
        input: {
          id: 'c',
          n: null,
          f: -2,
          ok: null,
          ts: '1970-01-01T00:00:00.000Z',
          tsu: '1969-12-31T23:59:59.999999Z',
          day: '1970-01-01',
          bin: '',
          tags: null,
          meta: { k: null, s: 'r' },
          m: {},
        },
      },
    ]);
    // What is stored and sent is the JSON text of the body.
    expect(JSON.parse(rows[1]!.bodyJson)).toEqual(rows[1]!.body);
  });

  it.each(['UNCOMPRESSED', 'SNAPPY', 'ZSTD', 'GZIP', 'BROTLI', 'LZ4_RAW'] as const)(
    'reads a %s file (arrow-rs, data pages v2)',
    async (codec) => {
      const texts = Array.from({ length: 500 }, (_, i) => `prompt ${i} `.repeat(1 + (i % 7)));
      const file = writeArrow(
        {
          text: vec(texts, new A.Utf8()),
          n: vec(
            texts.map((_, i) => i),
            new A.Int32(),
          ),
        },
        { codec, rowGroupSize: 128, pageBytes: 1024, v2: true },
      );
      expect(await rowGroupSizes(file)).toEqual([128, 128, 128, 116]);
      const { rows, issues } = await read(file);
      expect(issues).toEqual([]);
      expect(rows.map((r) => r.body.input)).toEqual(texts.map((text, n) => ({ text, n })));
      expect(rows.map((r) => r.id)).toEqual(texts.map((_, i) => i + 1));
    },
  );

  it('reads row groups in order (hyparquet-writer, 4 groups); the id column is the key, INT64 ids become numbers', async () => {
    const n = 10;
    const file = writeHy(
      [
        { name: 'id', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(100 + i)), type: 'INT64' },
        { name: 'prompt', data: Array.from({ length: n }, (_, i) => `p${i}`), type: 'STRING' },
        { name: 'raw', data: Array.from({ length: n }, (_, i) => Uint8Array.from([i])), type: 'BYTE_ARRAY' },
      ],
      { rowGroupSize: 3 },
    );
    expect(await rowGroupSizes(file)).toEqual([3, 3, 3, 1]);
    const { rows, issues } = await read(file);
    expect(issues).toEqual([]);
    expect(rows.map((r) => [r.id, r.key, r.line, r.seq])).toEqual(
      Array.from({ length: n }, (_, i) => [100 + i, String(100 + i), i + 1, i]),
    );
    expect(rows[4]!.body).toEqual({ input: { id: 104, prompt: 'p4', raw: Buffer.from([4]).toString('base64') } });
  });

  it('an ENUM column (as Avro writers make) is text, not bytes', async () => {
    const filename = path('enum');
    parquetWriteFile({
      filename,
      columnData: [{ name: 'color', data: [new TextEncoder().encode('red'), null] }],
      schema: [
        { name: 'root', num_children: 1 },
        { name: 'color', type: 'BYTE_ARRAY', converted_type: 'ENUM', logical_type: { type: 'ENUM' }, repetition_type: 'OPTIONAL' },
      ],
    });
    expect((await read(filename)).rows.map((r) => r.body.input)).toEqual([{ color: 'red' }, { color: null }]);
  });

  it('without an id column the id is the row number; --id-field names another column', async () => {
    const file = writeHy([
      { name: 'key', data: ['x', 'y'], type: 'STRING' },
      { name: 'q', data: ['a', 'b'], type: 'STRING' },
    ]);
    expect((await read(file)).rows.map((r) => r.id)).toEqual([1, 2]);
    expect((await read(file, { idField: 'key' })).rows.map((r) => r.key)).toEqual(['x', 'y']);
  });

  it('a column named input makes each row a whole /run body, as in JSONL (other /run fields kept, null ones left out, the rest dropped)', async () => {
    const file = writeHy([
      { name: 'input', data: ['hello', 'bye'], type: 'STRING' },
      { name: 'webhook', data: ['https://example.test/hook', null], type: 'STRING' },
      { name: 'policy', data: [null, { ttl: 60000 }], type: 'JSON' },
      { name: 'note', data: ['dropped', 'dropped'], type: 'STRING' },
    ]);
    const { rows, issues } = await read(file);
    expect(issues).toEqual([]);
    expect(rows.map((r) => r.body)).toEqual([
      { input: 'hello', webhook: 'https://example.test/hook' },
      { input: 'bye', policy: { ttl: 60000 } },
    ]);
    // A mapping sees the record as the JSONL object: without the null columns.
    const mapped = await read(file, { map: '{"input": {"text": input}, "webhook": webhook, "policy": policy}' });
    expect(mapped.issues).toEqual([]);
    expect(mapped.rows.map((r) => r.body)).toEqual([
      { input: { text: 'hello' }, webhook: 'https://example.test/hook' },
      { input: { text: 'bye' }, policy: { ttl: 60000 } },
    ]);
  });

  it('a large row group is read in slices (with and without an offset index, flat and nested columns), every row once in order', async () => {
    const n = SLICE_ROWS * 2 + 7;
    const withIndex = writeArrow(
      {
        n: vec(
          Array.from({ length: n }, (_, i) => i),
          new A.Int32(),
        ),
        tags: vec(
          Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : [i, i + 1])),
          new A.List(new A.Field('item', new A.Int32(), true)),
        ),
      },
      { rowGroupSize: n, pageBytes: 8192 },
    );
    // As pyarrow writes by default: no offset index. The page headers tell where the pages of n and req.* are; tags
    // (a list) cannot be located, so it is decoded once for the group and joined to each slice's rows.
    const noIndex = path('noindex');
    parquetWriteFile({
      filename: noIndex,
      rowGroupSize: n,
      pageSize: 16 * 1024,
      schema: [
        { name: 'root', num_children: 3 },
        { name: 'n', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'req', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'prompt', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'seed', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'tags', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' },
      ],
      columnData: [
        { name: 'n', data: Int32Array.from({ length: n }, (_, i) => i), offsetIndex: false },
        {
          name: 'req',
          data: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : { prompt: i % 7 === 0 ? null : `p${i}`, seed: i })),
          offsetIndex: false,
        },
        { name: 'tags', data: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : [i, i + 1])), offsetIndex: false },
      ],
    });
    for (const file of [withIndex, noIndex]) expect(await rowGroupSizes(file)).toEqual([n]);
    const a = await read(withIndex);
    expect(a.issues).toEqual([]);
    expect(a.rows).toHaveLength(n);
    a.rows.forEach((r, i) => {
      if (r.line !== i + 1 || (r.body.input as { n: number }).n !== i) throw new Error(`row ${i + 1} out of place`);
      const tags = (r.body.input as { tags: unknown }).tags;
      expect(tags).toEqual(i % 3 === 0 ? null : [i, i + 1]);
    });
    const b = await read(noIndex);
    expect(b.issues).toEqual([]);
    expect(b.rows).toHaveLength(n);
    // The columns keep the file's order (the body's JSON, and so its hash, do not depend on how it was read).
    expect(Object.keys(b.rows[n - 1]!.body.input as object)).toEqual(['n', 'req', 'tags']);
    b.rows.forEach((r, i) => {
      const want = {
        n: i,
        req: i % 5 === 0 ? null : { prompt: i % 7 === 0 ? null : `p${i}`, seed: i },
        tags: i % 3 === 0 ? null : [i, i + 1],
      };
      // One comparison per row would be 40,000 assertions: compare as text, and say which row differs.
      if (r.line !== i + 1 || JSON.stringify(r.body.input) !== JSON.stringify(want)) expect([i + 1, r.body.input]).toEqual([i + 1, want]);
    });
  });

  it.each([
    ['data pages v1', false],
    ['data pages v2', true],
  ])('the page locations read from page headers are those of the offset index (%s)', async (_name, v2) => {
    const n = 5000;
    const file = writeArrow(
      {
        n: vec(
          Array.from({ length: n }, (_, i) => (i * 2654435761) % 2147483647), // no run for delta encoding to shrink
          new A.Int32(),
        ),
        text: vec(
          Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : `row ${i} `.repeat(i % 5))),
          new A.Utf8(),
        ),
        meta: vec(
          Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : { k: (i * 40503) % 65521 })),
          new A.Struct([new A.Field('k', new A.Int32(), true)]),
        ),
        tags: vec(
          Array.from({ length: n }, (_, i) => [i]),
          new A.List(new A.Field('item', new A.Int32(), true)),
        ),
      },
      { rowGroupSize: 3000, pageBytes: 1024, batchRows: 64, v2, codec: 'ZSTD', noDictionary: true },
    );
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const schema = parquetSchema(metadata);
    expect(metadata.row_groups).toHaveLength(2);
    for (const group of metadata.row_groups) {
      const truth: Record<string, unknown> = {};
      for (const chunk of group.columns) {
        const at = Number(chunk.offset_index_offset);
        const bytes = await buffer.slice(at, at + chunk.offset_index_length!);
        truth[chunk.meta_data!.path_in_schema.join('.')] = readOffsetIndex({ view: new DataView(bytes), offset: 0 }).page_locations;
      }
      // As if the file had no offset index.
      const found = await pageLocationsOf(
        buffer,
        group.columns.map((c) => ({ ...c, offset_index_offset: undefined })),
        schema,
      );
      expect(Object.keys(found).sort()).toEqual(['meta.k', 'n', 'text']); // not tags.list.item: a repeated level
      for (const [column, pages] of Object.entries(found)) {
        expect([column, pages.length > 1]).toEqual([column, true]); // several pages, or the test shows little
        expect(pages).toEqual(truth[column]);
      }
    }
  });

  it('--shard splits the rows by id, each row in exactly one shard, seq still the place in the whole file', async () => {
    const n = 30;
    const file = writeHy(
      [
        { name: 'id', data: Array.from({ length: n }, (_, i) => `r${i}`), type: 'STRING' },
        { name: 'q', data: Array.from({ length: n }, (_, i) => i), type: 'INT32' },
      ],
      { rowGroupSize: 7 },
    );
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) {
      const { rows, issues } = await read(file, { shard: { k, n: 3 } });
      expect(issues).toEqual([]);
      for (const r of rows) {
        expect(r.seq).toBe(r.line - 1);
        expect(r.id).toBe(`r${r.seq}`);
        seen.push(r.seq);
      }
    }
    expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('--map turns each row into its request; a row the mapping fails on is an issue at its row number', async () => {
    const file = writeHy([
      { name: 'id', data: ['a', 'b', 'c'], type: 'STRING' },
      { name: 'question', data: ['why?', null, 'how?'], type: 'STRING' },
      { name: 'n', data: BigInt64Array.from([1n, 2n, 3n]), type: 'INT64' },
    ]);
    const { rows, issues } = await read(file, {
      map: 'question = null ? $error("no question") : {"input": {"prompt": "Q: " & question, "n": n * 10}}',
    });
    expect(rows.map((r) => [r.id, r.line, r.body])).toEqual([
      ['a', 1, { input: { prompt: 'Q: why?', n: 10 } }],
      ['c', 3, { input: { prompt: 'Q: how?', n: 30 } }],
    ]);
    expect(issues.map((i) => i.line)).toEqual([2]);
    expect(issues[0]!.message).toBe('--map failed: no question');
  });

  it('a bad id is an issue at file:row, and reading goes on', async () => {
    const file = writeHy([{ name: 'id', data: ['a', '', 'c'], type: 'STRING' }], { rowGroupSize: 2 });
    const { rows, issues } = await read(file);
    expect(rows.map((r) => r.id)).toEqual(['a', 'c']);
    expect(issues).toEqual([{ file, line: 2, message: 'id must be a non-empty string or a number, got empty string' }]);
  });

  it('a file with no rows: "empty input: no rows"', async () => {
    const file = writeHy([{ name: 'q', data: [], type: 'STRING' }]);
    expect(await read(file)).toEqual({ rows: [], issues: [{ file, line: 1, message: 'empty input: no rows' }] });
  });

  describe('files that are not usable Parquet: one file error (line 0), before any row', () => {
    const good = () => writeHy([{ name: 'q', data: ['a', 'b'], type: 'STRING' }]);

    it('not a Parquet file', async () => {
      const file = join(dir, 'text.parquet');
      writeFileSync(file, '{"id": 1}\n');
      const err = await readError(file);
      expect(err.issues).toEqual([{ file, line: 0, message: expect.stringMatching(/^not a Parquet file: it does not start with PAR1/) }]);
      expect(err.message).toMatch(/text\.parquet: not a Parquet file/);
    });

    it('an empty (0-byte) file', async () => {
      const file = join(dir, 'zero.parquet');
      writeFileSync(file, '');
      expect((await readError(file)).message).toMatch(/zero\.parquet: not a Parquet file: the file is empty/);
    });

    it('a truncated file (a download cut short)', async () => {
      const bytes = readFileSync(good());
      const file = join(dir, 'cut.parquet');
      writeFileSync(file, bytes.subarray(0, bytes.length - 10));
      expect((await readError(file)).message).toMatch(/cut\.parquet: truncated Parquet file/);
    });

    it('a corrupt footer', async () => {
      const bytes = Buffer.from(readFileSync(good()));
      const metaLen = bytes.readUInt32LE(bytes.length - 8);
      bytes.fill(0xff, bytes.length - 8 - metaLen, bytes.length - 8);
      const file = join(dir, 'footer.parquet');
      writeFileSync(file, bytes);
      expect((await readError(file)).message).toMatch(/footer\.parquet: unreadable Parquet footer/);
    });

    it('a compression codec no reader here decodes (LZO)', async () => {
      const filename = path('lzo');
      parquetWriteFile({
        filename,
        columnData: [{ name: 'q', data: ['a'], type: 'STRING' }],
        codec: 'LZO',
        compressors: { LZO: (b) => b },
      });
      expect((await readError(filename)).message).toMatch(/unsupported Parquet compression LZO/);
    });

    it('a corrupt page is a file error naming the row group', async () => {
      const file = writeHy([{ name: 'q', data: Array.from({ length: 50 }, (_, i) => `text ${i}`), type: 'STRING' }], { codec: 'SNAPPY' });
      const bytes = Buffer.from(readFileSync(file));
      // Garble the data after the 4-byte magic: page headers and compressed data, not the footer.
      bytes.fill(0xee, 4, 200);
      writeFileSync(file, bytes);
      expect((await readError(file)).message).toMatch(/cannot read row group 1 of 1/);
    });
  });
});
