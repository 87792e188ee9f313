import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportBatch, exportHf, retryBatch, runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import { pngOf } from '../../src/emulator/media-output.js';
import type { EmulatorOptions } from '../../src/emulator/index.js';
import { MediaWriter } from '../../src/output/media-files.js';
import { mediaRefsOf } from '../../src/output/media.js';
import { Store } from '../../src/store/store.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { checkMedia, expectedPng } from '../support/media.js';
import { readResults } from '../support/results.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let n = 0;

const SEED = 5;
const BYTES = 300_000;
const png = pngOf(2000, 1, 'shapes');

async function setup(rows: number, emu: EmulatorOptions = {}, make?: (i: number) => unknown): Promise<RunBatchOptions> {
  const e = await startEmulator({ workers: 6, executionMs: 5, seed: SEED, media: { bytes: BYTES, images: 2 }, ...emu });
  const out = join(dir, `out-${++n}`);
  return { input: writeJsonl(dir, `in-${n}.jsonl`, rows, make), out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl };
}

describe('media to files', () => {
  it("worker-comfyui's base64 PNGs become files under media/, referenced in results.jsonl and in every export", async () => {
    const o = await setup(6);
    const r = await runBatch({ ...o, concurrency: 4 });
    expect(r.exitCode).toBe(0);
    const refs = checkMedia(o.out!);
    const results = readResults(o.out!);
    for (const row of results) {
      const output = row.output as { images: Record<string, unknown>[] };
      expect(output.images).toHaveLength(2);
      expect(output.images[0]).toEqual({
        $media: `media/${row.id}.ComfyUI_00001_.png`,
        type: 'image/png',
        bytes: BYTES,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        filename: 'ComfyUI_00001_.png',
      });
      // Each file is byte for byte the PNG the worker sent.
      for (const [i, m] of refs.get(String(row.id))!.entries()) {
        expect(readFileSync(join(o.out!, m.path)).equals(expectedPng(SEED, BYTES, row.input, i))).toBe(true);
      }
    }
    // No base64 left anywhere: results.jsonl is small, and so is the state.
    expect(statSync(join(o.out!, 'results.jsonl')).size).toBeLessThan(10_000);
    const store = Store.open(o.out!, { readonly: true });
    expect(store.mediaTotals()).toEqual({ files: 12, bytes: 12 * BYTES });
    expect(JSON.parse(readFileSync(join(o.out!, 'stats.json'), 'utf8')).media).toEqual({ files: 12, bytes: 12 * BYTES });
    expect(store.mediaOf('r1').map((m) => m.path)).toEqual(['media/r1.ComfyUI_00001_.png', 'media/r1.ComfyUI_00002_.png']);
    store.close();
    const chunks: string[] = [];
    exportBatch(o.out!, 'csv', { write: (c) => chunks.push(c) });
    expect(chunks.join('')).toContain('media/r3.ComfyUI_00002_.png');
    expect(chunks.join('')).not.toContain('iVBOR');
    const lines: string[] = [];
    exportBatch(o.out!, 'jsonl', { write: (c) => lines.push(c) });
    expect(
      lines
        .join('')
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => mediaRefsOf(JSON.stringify(JSON.parse(l).output))),
    ).toHaveLength(12);
  });

  it('export --format hf lays the media files out as an imagefolder with metadata.jsonl, byte for byte', async () => {
    const o = await setup(3);
    expect((await runBatch(o)).exitCode).toBe(0);
    const refs = checkMedia(o.out!);
    const hf = join(dir, `hf-${n}`);
    const r = exportHf(o.out!, hf);
    expect(r.layout).toBe('imagefolder');
    expect(r.rows).toBe(6);
    const meta = readFileSync(join(hf, r.files[0]!), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { file_name: string; id: string });
    expect(meta.map((m) => m.id)).toEqual(['r1', 'r1', 'r2', 'r2', 'r3', 'r3']);
    for (const m of meta) {
      const ref = refs.get(m.id)!.find((x) => m.file_name.endsWith(x.path))!;
      expect(readFileSync(join(hf, 'train', m.file_name)).equals(readFileSync(join(o.out!, ref.path)))).toBe(true);
    }
  });

  it('--media off keeps outputs as they came: no media folder, base64 inline', async () => {
    const o = await setup(3);
    expect((await runBatch({ ...o, media: 'off' })).exitCode).toBe(0);
    expect(existsSync(join(o.out!, 'media'))).toBe(false);
    for (const row of readResults(o.out!)) {
      const img = (row.output as { images: { type: string; data: string }[] }).images[0]!;
      expect(img.type).toBe('base64');
      expect(Buffer.from(img.data, 'base64').equals(expectedPng(SEED, BYTES, row.input, 0))).toBe(true);
    }
  });

  it('plain JSON outputs are untouched', async () => {
    const o = await setup(4, { media: undefined });
    expect((await runBatch(o)).exitCode).toBe(0);
    expect(readResults(o.out!).every((x) => JSON.stringify(x.output) === JSON.stringify({ echo: x.input }))).toBe(true);
    expect(existsSync(join(o.out!, 'media'))).toBe(false);
  });

  it('hostile row ids: every file lands inside media/, each row its own names', async () => {
    const ids = ['../evil', '/etc/passwd', 'CON', 'a/b', 'a_b', 'a\\b', 'A_B', '猫', 'x'.repeat(10_000), 'x'.repeat(10_000) + 'y'];
    const o = await setup(ids.length, {}, (i) => ({ id: ids[i - 1], prompt: `p${i}` }));
    expect((await runBatch(o)).exitCode).toBe(0);
    const refs = checkMedia(o.out!);
    expect([...refs.values()].flat()).toHaveLength(2 * ids.length);
    expect(readdirSync(join(o.out!, 'media'))).toHaveLength(2 * ids.length);
    // Nothing was written beside the batch's folder.
    expect(readdirSync(dir).filter((f) => f.includes('evil') || f === 'passwd')).toEqual([]);
  });

  it("an edited input row gets new media and its old files go; the other rows' files stay as they were", async () => {
    const o = await setup(4);
    expect((await runBatch(o)).exitCode).toBe(0);
    const before = checkMedia(o.out!);
    const stamp = (p: string) => statSync(join(o.out!, p)).mtimeMs;
    const r2Times = before.get('r2')!.map((m) => stamp(m.path));
    writeJsonl(dir, `in-${n}.jsonl`, 4, (i) => ({ id: `r${i}`, prompt: i === 3 ? 'edited' : `p${i}`, n: i }));
    expect((await runBatch(o)).exitCode).toBe(0);
    const after = checkMedia(o.out!);
    expect(after.get('r3')!.map((m) => m.sha256)).not.toEqual(before.get('r3')!.map((m) => m.sha256));
    const r3 = readResults(o.out!).find((x) => x.id === 'r3')!;
    expect(r3.input).toEqual({ id: 'r3', prompt: 'edited', n: 3 });
    expect(readFileSync(join(o.out!, after.get('r3')![0]!.path)).equals(expectedPng(SEED, BYTES, r3.input, 0))).toBe(true);
    expect(after.get('r2')).toEqual(before.get('r2'));
    expect(after.get('r2')!.map((m) => stamp(m.path))).toEqual(r2Times);
  });

  it('retry: rows that failed get the media of the attempt that completed, never two attempts mixed', async () => {
    const o = await setup(8, { faults: { failFirstAttempt: 0.5 } });
    const first = await runBatch({ ...o, retries: 0 });
    expect(first.exitCode).toBe(2);
    const failed = readResults(o.out!).filter((x) => x.status === 'FAILED');
    expect(failed.length).toBeGreaterThan(0);
    const r = await retryBatch(o.out!, { apiKey: 'test-key' });
    expect(r.exitCode).toBe(0);
    const refs = checkMedia(o.out!);
    for (const row of readResults(o.out!)) {
      expect(refs.get(String(row.id))).toHaveLength(2);
    }
  });

  it('files no committed output refers to (a killed run left them) are removed by the next run; committed ones stay', async () => {
    const o = await setup(3);
    expect((await runBatch(o)).exitCode).toBe(0);
    const media = join(o.out!, 'media');
    writeFileSync(join(media, 'r9.1.png'), 'an orphan');
    writeFileSync(join(media, '.r1.ComfyUI_00001_.png.tmp-123'), 'half a file');
    mkdirSync(join(media, 'stray-folder'));
    const logs: string[] = [];
    expect((await runBatch({ ...o, log: (m) => logs.push(m) })).exitCode).toBe(0);
    expect(logs.join('\n')).toMatch(/media: removed 3 files/);
    checkMedia(o.out!);
  });
});

describe('media to files: other shapes, end to end', () => {
  const wav = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1'), Buffer.alloc(3000, 9)]);
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 5)]);

  it('data URIs, *_base64 audio and bare image lists become files; URLs and text stay', async () => {
    const e = await startEmulator({
      workers: 2,
      executionMs: 1,
      handler: () => ({
        audio_base64: wav.toString('base64'),
        preview: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
        images: [png.toString('base64')],
        url: 'https://bucket.s3.amazonaws.com/x.png',
        items: [{ type: 's3_url', data: 'https://bucket.s3.amazonaws.com/y.png' }],
        caption: 'a cat',
      }),
    });
    const out = join(dir, `out-${++n}`);
    const input = writeJsonl(dir, `in-${n}.jsonl`, 2);
    expect((await runBatch({ input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl })).exitCode).toBe(0);
    checkMedia(out);
    const row = readResults(out)[0]!;
    const o = row.output as Record<string, unknown>;
    expect(o.audio_base64).toMatchObject({ $media: 'media/r1.1.wav', type: 'audio/wav', bytes: wav.length });
    expect(o.preview).toMatchObject({ $media: 'media/r1.2.jpg', type: 'image/jpeg', bytes: jpeg.length });
    expect(o.images).toEqual([expect.objectContaining({ $media: 'media/r1.3.png', type: 'image/png' })]);
    expect([o.url, o.items, o.caption]).toEqual([
      'https://bucket.s3.amazonaws.com/x.png',
      [{ type: 's3_url', data: 'https://bucket.s3.amazonaws.com/y.png' }],
      'a cat',
    ]);
    expect(readFileSync(join(out, 'media/r1.1.wav')).equals(wav)).toBe(true);
    expect(readFileSync(join(out, 'media/r1.2.jpg')).equals(jpeg)).toBe(true);
  });

  it("a row run again with fewer media items keeps only the new attempt's files", async () => {
    const e = await startEmulator({
      workers: 2,
      executionMs: 1,
      handler: (input) => ({ images: Array.from({ length: (input as { n: number }).n }, () => png.toString('base64')) }),
    });
    const out = join(dir, `out-${++n}`);
    const name = `in-${n}.jsonl`;
    const o = {
      input: writeJsonl(dir, name, 1, () => ({ id: 'r', n: 3 })),
      out,
      endpoint: 'test-endpoint',
      apiKey: 'test-key',
      baseUrl: e.baseUrl,
    };
    expect((await runBatch(o)).exitCode).toBe(0);
    expect(
      checkMedia(out)
        .get('r')!
        .map((m) => m.path),
    ).toEqual(['media/r.1.png', 'media/r.2.png', 'media/r.3.png']);
    writeJsonl(dir, name, 1, () => ({ id: 'r', n: 1 }));
    expect((await runBatch(o)).exitCode).toBe(0);
    expect(
      checkMedia(out)
        .get('r')!
        .map((m) => m.path),
    ).toEqual(['media/r.1.png']);
  });
});

describe('MediaWriter: base64 decoded in chunks into whole files', () => {
  const out = join(dir, 'writer');
  const w = new MediaWriter(out);
  it.each([
    ['a few bytes', 100],
    ['across chunk boundaries', 256 * 1024 * 3 + 1],
    ['exactly one chunk of text', 196_608],
    ['1 MB', 1_000_000],
  ])('%s: the file is the decoded bytes', (_name, size) => {
    const bytes = pngOf(Math.max(size, 57), 9, String(size));
    const f = w.write(`s${size}.1.png`, bytes.toString('base64'), 0)!;
    expect(readFileSync(join(out, f.path)).equals(bytes)).toBe(true);
    expect(f).toEqual({ path: `media/s${size}.1.png`, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it('a data URI from its comma, URL-safe base64, base64 broken into lines; text that is not base64 writes nothing', () => {
    const bytes = pngOf(5000, 1, 'u');
    const b64 = bytes.toString('base64');
    const uri = `data:image/png;base64,${b64}`;
    expect(readFileSync(join(out, w.write('u.1.png', uri, 22)!.path)).equals(bytes)).toBe(true);
    expect(readFileSync(join(out, w.write('u.2.png', bytes.toString('base64url'), 0)!.path)).equals(bytes)).toBe(true);
    const wrapped = b64.replace(/(.{76})/g, '$1\r\n');
    expect(readFileSync(join(out, w.write('u.3.png', wrapped, 0)!.path)).equals(bytes)).toBe(true);
    expect(w.write('u.4.png', `${b64.slice(0, 100)}!not base64!`, 0)).toBeNull();
    expect(existsSync(join(out, 'media', 'u.4.png'))).toBe(false);
    expect(readdirSync(join(out, 'media')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
