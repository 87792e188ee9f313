import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportHf, exportParquet, runBatch } from '../../src/batch/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { MediaFinder, MediaRef } from '../../src/output/media.js';
import { ParquetFile, SchemaLearner } from '../../src/output/parquet.js';
import { readParquetFile, rowGroupSizes } from '../support/parquet-read.js';
import { readJsonl } from '../support/results.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
let emu: Emulator;
let n = 0;

/** Outputs of many kinds: integers, fractions, booleans, lists of floats, lists of structs, a field whose kind varies. */
function varied(input: unknown): unknown {
  const i = (input as { n: number }).n;
  if (i % 7 === 0) throw new Error(`row ${i} breaks`);
  return {
    text: `t${i}`,
    score: i / 4,
    count: i,
    ok: i % 2 === 0,
    embedding: [i, i + 0.5],
    spans: i % 3 === 0 ? [] : [{ start: i, label: 'x' }],
    meta: i % 5 === 0 ? 'plain' : { k: i },
    empty: null,
  };
}

beforeAll(async () => {
  emu = await startEmulator({
    workers: 8,
    executionMs: 1,
    handler: (input) => ((input as { kind?: string }).kind === 'media' ? media(input) : varied(input)),
  });
});
afterAll(() => emu.close());

async function batch(rows: number, make?: (i: number) => unknown): Promise<string> {
  const out = join(dir, `out-${++n}`);
  const input = writeJsonl(dir, `in-${n}.jsonl`, rows, make);
  await runBatch({ input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: emu.baseUrl, retries: 0 });
  return out;
}

/** INT64 comes back as bigint: the number it holds, for comparing with results.jsonl. */
function numbers(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(numbers);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, numbers(x)]));
  return v;
}

describe('export --format parquet', () => {
  it('an independent reader reads back every row and type of a finished batch', async () => {
    const out = await batch(60);
    const results = readJsonl(join(out, 'results.jsonl'));
    expect(results.filter((r) => r.status === 'FAILED')).toHaveLength(8);
    const file = join(dir, 'all.parquet');
    expect(exportParquet(out, file)).toBe(60);

    const { types, rows } = readParquetFile(file);
    expect(types).toEqual({
      id: 'Utf8',
      status: 'Utf8',
      input: 'Struct<{id:Utf8, prompt:Utf8, n:Int64}>',
      output:
        'Struct<{text:Utf8, score:Float64, count:Int64, ok:Bool, embedding:List<Float64>, spans:List<Struct<{start:Int64, label:Utf8}>>, meta:Utf8, empty:Utf8}>',
      error: 'Utf8',
      errorCode: 'Utf8',
      jobId: 'Utf8',
      delayTime: 'Int64',
      executionTime: 'Int64',
      endToEndMs: 'Int64',
      attempts: 'Int64',
      line: 'Int64',
      lost: 'Int64',
      expired: 'Int64',
    });
    expect(rows).toHaveLength(results.length);
    rows.forEach((row, i) => {
      const r = results[i]!;
      expect(typeof row.line).toBe('bigint');
      const { meta, ...output } = (row.output ?? {}) as Record<string, unknown>;
      const got = {
        ...(numbers(row) as Record<string, unknown>),
        // The one field whose kind varies between rows is JSON text; the failed rows' error is RunPod's text.
        output: row.output === null ? null : { ...(numbers(output) as object), meta: JSON.parse(meta as string) },
        error: row.error === null ? null : JSON.parse(row.error as string),
      };
      const want = { output: null, error: null, lost: 0, expired: 0, ...r };
      expect({ ...got, errorCode: undefined }).toEqual({ ...want, errorCode: undefined });
    });
  });

  it('rows are written in row groups of bounded size', async () => {
    const path = join(dir, 'groups.parquet');
    const columns = [{ name: 'n', shape: { kind: 'int' as const } }];
    const f = new ParquetFile(path, columns, { rows: 7, bytes: 1e9 });
    for (let i = 0; i < 50; i++) f.add({ n: i });
    f.commit();
    expect(await rowGroupSizes(path)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    expect(readParquetFile(path).rows.map((r) => r.n)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));

    const byBytes = join(dir, 'bytes.parquet');
    const g = new ParquetFile(byBytes, columns, { rows: 1000, bytes: 100 });
    for (let i = 0; i < 10; i++) g.add({ n: i }, 40);
    g.commit();
    expect(await rowGroupSizes(byBytes)).toEqual([3, 3, 3, 1]);
  });
});

describe('awkward values, read back by the independent reader', () => {
  it('top-level lists of structs, lists of lists, odd key names, unicode, the largest safe integers', () => {
    const recs = [
      { o: [{ choices: [{ text: 'héllo ✓ 😀', i: 0 }] }], k: { '': 1, 'a.b': 2, 'with space': 3 }, m: [[1, 2], [3.5]], big: 2 ** 53 - 1 },
      { o: [{ choices: [] }], k: { '': null }, m: [], big: -(2 ** 53 - 1) },
      { o: null, k: null, m: null, big: null },
    ];
    const learner = new SchemaLearner();
    for (const r of recs) learner.learn(r);
    const path = join(dir, 'awkward.parquet');
    const f = new ParquetFile(path, learner.seen());
    for (const r of recs) f.add(r);
    f.commit();
    const { types, rows } = readParquetFile(path);
    expect(types).toEqual({
      o: 'List<Struct<{choices:List<Struct<{text:Utf8, i:Int64}>>}>>',
      k: 'Struct<{:Int64, a.b:Int64, with space:Int64}>',
      m: 'List<List<Float64>>',
      big: 'Int64',
    });
    expect(rows.map(numbers)).toEqual([
      recs[0],
      { o: [{ choices: [] }], k: { '': null, 'a.b': null, 'with space': null }, m: [], big: -(2 ** 53 - 1) },
      recs[2],
    ]);
    expect(rows[0]!.big).toBe(BigInt(2 ** 53 - 1));
  });

  it('a file without rows is refused rather than written unreadable', () => {
    const f = new ParquetFile(join(dir, 'none.parquet'), [{ name: 'n', shape: { kind: 'int' } }]);
    expect(() => f.commit()).toThrow(/no rows to write/);
    f.abort();
    expect(existsSync(join(dir, 'none.parquet'))).toBe(false);
  });
});

describe('export --format hf', () => {
  it('a text batch: Parquet shards data/train-0000i-of-0000N.parquet with the completed rows, and a card', async () => {
    const out = await batch(60);
    const completed = readJsonl(join(out, 'results.jsonl')).filter((r) => r.status === 'COMPLETED');
    const target = join(dir, 'ds-text');
    const r = exportHf(out, target, { shardBytes: 4000 });
    expect(r.layout).toBe('parquet');
    expect(r.skipped).toEqual([{ count: 8, why: 'not completed' }]);
    const shards = readdirSync(join(target, 'data')).sort();
    expect(shards.length).toBeGreaterThan(1);
    // The datasets naming rule: the split name, delimited, then -of-N; the YAML maps the split to data/train-*.
    const pad = (i: number) => String(i).padStart(5, '0');
    expect(shards).toEqual(shards.map((_, i) => `train-${pad(i)}-of-${pad(shards.length)}.parquet`));
    expect(r.files).toEqual(shards.map((s) => `data/${s}`));
    const rows = shards.flatMap((s) => readParquetFile(join(target, 'data', s)).rows);
    expect(rows.map((x) => x.id)).toEqual(completed.map((c) => c.id));
    expect(Object.keys(rows[0]!)).toEqual([
      'id',
      'input',
      'output',
      'jobId',
      'delayTime',
      'executionTime',
      'endToEndMs',
      'attempts',
      'line',
    ]);
    expect(readdirSync(target).sort()).toEqual(['README.md', 'data']);

    const card = readFileSync(join(target, 'README.md'), 'utf8');
    expect(card.startsWith('---\n')).toBe(true);
    expect(card).toContain('configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n');
    expect(card).toMatch(/\| rows \| 52 \(of 60 in the batch; left out: 8 not completed\) \|/);
    expect(card).toMatch(/\| endpoint \| `test-endpoint` \(http:\/\/127\.0\.0\.1:\d+\/v2\) \|/);
    expect(card).toMatch(/\| settings \| concurrency "auto", retries 0/);
    expect(card).toMatch(/\| `output` \| struct<text: string, score: float64/);
  });

  it('a batch with no completed row makes no dataset, and says why', async () => {
    const out = await batch(1, () => ({ id: 'only', prompt: 'p', n: 7 }));
    expect(() => exportHf(out, join(dir, 'ds-none'))).toThrow(/no row of .* has completed/);
    expect(existsSync(join(dir, 'ds-none'))).toBe(false);
  });

  it('refuses a folder that is not empty, and leaves it alone', async () => {
    const out = await batch(3);
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'mine.txt'), 'keep');
    expect(() => exportHf(out, target)).toThrow(/exists and is not empty/);
    expect(readdirSync(target)).toEqual(['mine.txt']);
  });

  it('a media batch: the files and metadata.jsonl in train/, as imagefolder reads them', async () => {
    const out = await batch(12, (i) => ({ id: `m${i}`, prompt: `a cat ${i}`, n: i, kind: 'media' }));
    // Media extraction is not there yet: this test plays it, writing the PNG files the outputs refer to.
    const sources = new Map<string, Buffer>();
    for (const r of readJsonl(join(out, 'results.jsonl'))) {
      for (const ref of draftFinder(r.output)) {
        const png = makePng(2 + sources.size, 3);
        mkdirSync(join(out, 'media'), { recursive: true });
        if (!ref.path.includes('missing')) writeFileSync(join(out, ref.path), png);
        sources.set(ref.path, png);
      }
    }
    const target = join(dir, 'ds-media');
    const r = exportHf(out, target, { findMedia: draftFinder });
    expect(r.layout).toBe('imagefolder');
    expect(r.skipped).toEqual([
      { count: 1, why: 'not completed' },
      { count: 1, why: 'completed without a media file' },
      { count: 1, why: 'media references with an unusable path' },
      { count: 1, why: 'media files missing from the batch folder' },
    ]);
    const lines = readJsonl(join(target, 'train', 'metadata.jsonl'));
    // Rows 1..12: row 7 failed, row 4 has no image, row 3 an unsafe path, row 9 a missing file; row 2 has two images.
    expect(lines.map((l) => l.file_name)).toEqual([
      'media/m1.png',
      'media/m2-0.png',
      'media/m2-1.png',
      'media/m5.png',
      'media/m6.png',
      'media/m8.png',
      'media/m10.png',
      'media/m11.png',
      'media/m12.png',
    ]);
    expect(r.rows).toBe(9);
    for (const l of lines) {
      // imagefolder's rules: file_name relative to the metadata file, the file beside it, byte for byte the source.
      const name = l.file_name as string;
      expect(name.startsWith('/') || name.split('/').includes('..')).toBe(false);
      expect(readFileSync(join(target, 'train', name)).equals(sources.get(name)!)).toBe(true);
      expect(l).toEqual({
        file_name: name,
        id: expect.stringMatching(/^m\d+$/),
        input_id: l.id,
        prompt: `a cat ${(l.id as string).slice(1)}`,
        n: Number((l.id as string).slice(1)),
        kind: 'media',
        seed: expect.any(Number),
        width: 512,
      });
    }
    expect(existsSync(join(target, 'train', 'media', 'm9.png'))).toBe(false);
    expect(readdirSync(target).sort()).toEqual(['README.md', 'train']);
    const card = readFileSync(join(target, 'README.md'), 'utf8');
    expect(card).not.toContain('configs:');
    expect(card).toMatch(/`imagefolder`: 9 files in `train\/`/);
    expect(card).toMatch(/\| `image` \| image \(the file named by file_name\) \|/);
  });
});

/** A media batch's outputs, holding references in the draft shape media extraction will store. */
function media(input: unknown): unknown {
  const i = (input as { n: number }).n;
  if (i === 7) throw new Error('no GPU');
  const ref = (name: string) => ({ $media: `media/${name}.png`, type: 'image/png', bytes: 0, sha256: '' });
  const images =
    i === 4
      ? []
      : i === 2
        ? [ref('m2-0'), ref('m2-1')]
        : i === 3
          ? [{ ...ref('x'), $media: '../escape.png' }]
          : [ref(i === 9 ? 'missing-m9' : `m${i}`)];
  return { images, seed: 1000 + i, width: 512 };
}

/** The finder media extraction will provide, for the draft shape `{"$media": path, type, bytes, sha256}`. */
const draftFinder: MediaFinder = (output) => {
  const found: MediaRef[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$media === 'string') found.push({ path: o.$media, type: o.type as string });
      else Object.values(o).forEach(walk);
    }
  };
  walk(output);
  return found;
};

/** A real PNG of w×h grey pixels (signature, IHDR, IDAT, IEND): what an image decoder opens. */
function makePng(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const t = Buffer.from(type, 'latin1');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([t, data])));
    return Buffer.concat([len, t, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((w + 1) * h, 0x80);
  for (let y = 0; y < h; y++) raw[y * (w + 1)] = 0; // filter: none
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return png;
}
