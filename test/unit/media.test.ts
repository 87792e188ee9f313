import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMedia, findMediaRefs, mediaNames, mediaRefsOf, rowPart, sniff, sniffBase64, workerPart } from '../../src/output/media.js';
import { pngOf } from '../../src/emulator/media-output.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(64, 7)]);
const png = pngOf(400, 1, 'x');
const b64 = png.toString('base64');

describe('sniff: file types by magic bytes', () => {
  it.each([
    ['png', pad(bytes([0x89], 'PNG\r\n\x1a\n')), 'image/png', 'png'],
    ['jpeg', pad(bytes([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg', 'jpg'],
    ['gif89a', pad(bytes('GIF89a')), 'image/gif', 'gif'],
    ['gif87a', pad(bytes('GIF87a')), 'image/gif', 'gif'],
    ['webp', pad(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')), 'image/webp', 'webp'],
    ['wav', pad(bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')), 'audio/wav', 'wav'],
    ['mp3 with ID3', pad(bytes('ID3', [4, 0])), 'audio/mpeg', 'mp3'],
    ['mp3 frame', pad(bytes([0xff, 0xfb, 0x90, 0x64])), 'audio/mpeg', 'mp3'],
    ['flac', pad(bytes('fLaC')), 'audio/flac', 'flac'],
    ['ogg', pad(bytes('OggS', [0, 2])), 'audio/ogg', 'ogg'],
    ['mp4', pad(bytes([0, 0, 0, 0x20], 'ftypisom')), 'video/mp4', 'mp4'],
    ['m4a', pad(bytes([0, 0, 0, 0x20], 'ftypM4A ')), 'audio/mp4', 'm4a'],
    ['webm', pad(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01], 'B\x82\x84webm')), 'video/webm', 'webm'],
    ['matroska', pad(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f], 'B\x82\x88matroska')), 'video/x-matroska', 'mkv'],
  ])('%s', (_name, b, mime, ext) => {
    expect(sniff(b)).toEqual({ mime, ext });
  });

  it.each([
    ['text', bytes('hello, this is plain text and no image at all')],
    ['AAC ADTS (layer 00, not MP3)', pad(bytes([0xff, 0xf1, 0x50, 0x80]))],
    ['RIFF of another kind', pad(bytes('RIFF', [0, 0, 0, 0], 'AVI LIST'))],
    ['empty', Buffer.alloc(0)],
    ['PNG signature cut short', bytes([0x89], 'PNG')],
  ])('%s: not media', (_name, b) => {
    expect(sniff(b)).toBeNull();
  });

  it('sniffBase64 reads the head of a base64 text; text that is not base64 is not media', () => {
    expect(sniffBase64(b64)).toEqual({ mime: 'image/png', ext: 'png' });
    expect(sniffBase64(`data:image/png;base64,${b64}`, 22)).toEqual({ mime: 'image/png', ext: 'png' });
    expect(sniffBase64('iVBORw0KGgo is how a PNG starts, but this sentence is not base64 at all')).toBeNull();
  });
});

/** Runs findMedia and replaces each slot by a marker naming what was found. */
function found(output: unknown) {
  const root = { value: output };
  const slots = findMedia(root);
  slots.forEach((s, i) => {
    s.replace({ $media: `m${i}`, type: s.type.mime, bytes: s.value.length - s.start, sha256: s.filename ?? (s.item ? 'item' : 'bare') });
  });
  return { output: root.value, slots };
}

describe('findMedia: which values of an output are media', () => {
  it("worker-comfyui's items: replaced by a reference that keeps the item's other fields", () => {
    const { output } = found({ images: [{ filename: 'ComfyUI_00001_.png', type: 'base64', data: b64, node: 9 }] });
    expect(output).toEqual({
      images: [
        { $media: 'm0', type: 'image/png', bytes: b64.length, sha256: 'ComfyUI_00001_.png', filename: 'ComfyUI_00001_.png', node: 9 },
      ],
    });
  });

  it('an s3_url item and an http URL stay URLs', () => {
    const out = {
      images: [{ filename: 'a.png', type: 's3_url', data: 'https://bucket.s3.amazonaws.com/a.png' }],
      image: 'https://x/y.png',
    };
    expect(found(structuredClone(out)).output).toEqual(out);
  });

  it('data URIs anywhere, under any key, also in lists', () => {
    const uri = `data:image/png;base64,${b64}`;
    const { output, slots } = found({ result: { picture: uri, list: ['x', uri] } });
    expect(output).toEqual({
      result: { picture: expect.objectContaining({ $media: 'm0' }), list: ['x', expect.objectContaining({ $media: 'm1' })] },
    });
    expect(slots.map((s) => s.start)).toEqual([22, 22]);
  });

  it('bare base64 under media keys (image, images, audio, video, *_base64, b64_json), and as the whole output', () => {
    const wav = pad(bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')).toString('base64');
    const { output } = found({
      image: b64,
      images: [b64, b64],
      audio_base64: wav,
      data: [{ b64_json: b64 }],
      Video: b64,
    });
    expect(output).toEqual({
      image: expect.objectContaining({ $media: 'm0', sha256: 'bare' }),
      images: [expect.objectContaining({ $media: 'm1' }), expect.objectContaining({ $media: 'm2' })],
      audio_base64: expect.objectContaining({ $media: 'm3', type: 'audio/wav' }),
      data: [{ b64_json: expect.objectContaining({ $media: 'm4' }) }],
      Video: expect.objectContaining({ $media: 'm5' }),
    });
    expect(found(b64).output).toEqual(expect.objectContaining({ $media: 'm0' }));
  });

  it('left alone: bare base64 under other keys, short base64, base64 of text, a data URI of an unknown type, numbers', () => {
    const out = {
      text: b64,
      image: b64.slice(0, 40),
      audio: Buffer.from('just some words that are not audio, long enough to count as long base64 text').toString('base64'),
      svg: `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64')}`,
      images: [1, null, true, { nested: b64 }],
    };
    const r = found(structuredClone(out));
    expect(r.slots).toHaveLength(0);
    expect(r.output).toEqual(out);
  });
});

describe('mediaNames: file names from untrusted row ids and worker file names', () => {
  it.each([
    ['42', [{ filename: null, ext: 'png' }], ['42.1.png']],
    ['row-7', [{ filename: 'ComfyUI_00001_.png', ext: 'png' }], ['row-7.ComfyUI_00001_.png']],
    [
      'a',
      [
        { filename: 'x.png', ext: 'png' },
        { filename: 'X.jpg', ext: 'png' },
        { filename: null, ext: 'wav' },
        { filename: 'x.png', ext: 'png' },
      ],
      ['a.x.png', 'a.X-2.png', 'a.3.wav', 'a.x-4.png'],
    ],
    ['s', [{ filename: '../../etc/passwd', ext: 'png' }], ['s.passwd.png']],
    ['s', [{ filename: 'C:\\Windows\\evil.exe', ext: 'png' }], ['s.evil.png']],
    ['s', [{ filename: '...', ext: 'png' }], ['s.1.png']],
  ])('%s %j', (key, items, names) => {
    expect(mediaNames(key, items)).toEqual(names);
  });

  const hostile = [
    '../x',
    '..',
    '.',
    '',
    '/etc/passwd',
    'C:\\x',
    'a\0b',
    'a/b',
    'a\\b',
    'a_b',
    'a b',
    'a:b',
    'CON',
    'con',
    'Con',
    'nul',
    'com1',
    'lpt9',
    'com1.txt',
    'x'.repeat(10_000),
    'x'.repeat(10_000) + 'y',
    '猫',
    '犬',
    'e\u0301',
    'é',
    'A',
    'a',
    'a.b',
    'a~b',
    '~',
    '-',
    'row\n1',
    '💥'.repeat(300),
  ];

  it('every name is one plain file name inside media/, at most 200 characters', () => {
    for (const key of hostile) {
      for (const name of mediaNames(key, [
        { filename: key, ext: 'png' },
        { filename: null, ext: 'png' },
      ])) {
        expect(name).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._~-]*$/);
        expect(basename(name)).toBe(name);
        expect(resolve('/out/media', name).startsWith('/out/media/')).toBe(true);
        expect(name.length).toBeLessThanOrEqual(200);
        expect(name.split('.')[0]!).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)$/i);
      }
    }
  });

  it('two rows never share a name, also case-insensitively and when ids sanitise or truncate alike', () => {
    const names = hostile.flatMap((key) => mediaNames(key, [{ filename: 'ComfyUI_00001_.png', ext: 'png' }]));
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(hostile.length);
    // A plain id never looks like a tagged one, and a row's part never runs into the item's.
    expect(mediaNames('a', [{ filename: 'b_c', ext: 'png' }])).not.toEqual(mediaNames('a_b', [{ filename: 'c', ext: 'png' }]));
    expect(mediaNames('a.b', [{ filename: null, ext: 'png' }])).not.toEqual(mediaNames('a', [{ filename: 'b', ext: 'png' }]));
  });

  it('rowPart keeps plain ids and tags the rest; workerPart keeps a stem', () => {
    expect(rowPart('img-0042')).toBe('img-0042');
    expect(rowPart('Img-42')).toMatch(/^Img-42~[0-9a-f]{16}$/);
    expect(rowPart('../x')).toMatch(/^_x~[0-9a-f]{16}$/);
    expect(rowPart('')).toMatch(/^row~[0-9a-f]{16}$/);
    expect(workerPart('ComfyUI_00001_.png')).toBe('ComfyUI_00001_');
    expect(workerPart(null)).toBe('');
    expect(join('media', mediaNames('../../x', [{ filename: '../../y.png', ext: 'png' }])[0]!)).toMatch(/^media\/[^/]+$/);
  });
});

describe('mediaRefsOf / findMediaRefs: the references of a stored output', () => {
  it('lists them in order, with what each gives; none in an output without any', () => {
    const a = { $media: 'media/r.1.png', type: 'image/png', bytes: 3, sha256: 'ab' };
    const b = { $media: 'media/r.2.wav', type: 'audio/wav', bytes: 4, sha256: 'cd', filename: 'x.wav' };
    expect(mediaRefsOf(JSON.stringify({ images: [a, { deep: [b] }] }))).toEqual([
      { path: 'media/r.1.png', type: 'image/png', bytes: 3, sha256: 'ab' },
      { path: 'media/r.2.wav', type: 'audio/wav', bytes: 4, sha256: 'cd' },
    ]);
    expect(findMediaRefs([{ $media: 'media/r-1.png' }, { $media: 7 }])).toEqual([{ path: 'media/r-1.png' }]);
    expect(mediaRefsOf(JSON.stringify({ text: 'hi' }))).toEqual([]);
    expect(mediaRefsOf(null)).toEqual([]);
  });
});
