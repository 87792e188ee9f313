import { describe, expect, it } from 'vitest';
import { type CardFacts, datasetCard, folderKind, mediaFileName, metadataLine, sizeCategory } from '../../src/output/hf.js';
import { findMediaRefs, mediaKind } from '../../src/output/media.js';

describe('media references, as the folder layout uses them', () => {
  it.each([
    ['media/r-1.png', 'media/r-1.png'],
    ['./media//r-1.png', 'media/r-1.png'],
    ['media\\r-1.png', 'media/r-1.png'],
    ['../etc/passwd', null],
    ['media/../../x.png', null],
    ['/etc/passwd', null],
    ['C:/x.png', null],
    ['media/a\0.png', null],
    ['', null],
    ['.', null],
  ])('%j → %j', (path, name) => {
    expect(mediaFileName({ path })).toBe(name);
  });

  it.each([
    [{ path: 'media/a.bin', type: 'image/png' }, 'image'],
    [{ path: 'media/a.WAV' }, 'audio'],
    [{ path: 'media/a.mp4' }, 'video'],
    [{ path: 'media/a.txt' }, 'other'],
  ])('kind of %j is %s', (ref, kind) => {
    expect(mediaKind(ref)).toBe(kind);
  });

  it('the builder is the most common kind; none without media', () => {
    expect(folderKind({ image: 3, audio: 1 })).toBe('imagefolder');
    expect(folderKind({ image: 1, audio: 2 })).toBe('audiofolder');
    expect(folderKind({ video: 1, other: 5 })).toBe('videofolder');
    expect(folderKind({ other: 5 })).toBeNull();
    expect(folderKind({})).toBeNull();
  });

  it('the default finder lists the references media extraction stores (output/media.ts)', () => {
    expect(findMediaRefs({ images: [{ $media: 'media/r-1.png' }] })).toEqual([{ path: 'media/r-1.png' }]);
    expect(findMediaRefs({ images: [{ filename: 'a.png', type: 's3_url', data: 'https://x/a.png' }] })).toEqual([]);
  });
});

describe('metadata.jsonl lines', () => {
  it('file_name, id, the input fields, the scalar output fields; taken names get a prefix', () => {
    const line = JSON.parse(
      metadataLine(
        'imagefolder',
        'media/r-1.png',
        'r-1',
        { prompt: 'a cat', seed: 7, id: 'r-1', image: 'in.png', opts: { steps: 20 } },
        { seed: 8, score: 0.5, nsfw: false, images: [{ $media: 'media/r-1.png' }], id: 'x', info: { a: 1 } },
      ),
    );
    expect(line).toEqual({
      file_name: 'media/r-1.png',
      id: 'r-1',
      prompt: 'a cat',
      seed: 7,
      input_id: 'r-1',
      input_image: 'in.png',
      opts: { steps: 20 },
      output_seed: 8,
      score: 0.5,
      nsfw: false,
      output_id: 'x',
    });
  });

  it('an output that is a bare value becomes the column output', () => {
    expect(JSON.parse(metadataLine('audiofolder', 'a.wav', 1, { text: 'hi' }, 'ok'))).toEqual({
      file_name: 'a.wav',
      id: 1,
      text: 'hi',
      output: 'ok',
    });
  });
});

describe('the dataset card', () => {
  const facts: CardFacts = {
    title: 'prompts: "night" | run',
    input: 'prompts.jsonl',
    endpoint: 'abc123',
    baseUrl: 'https://api.runpod.ai/v2',
    rows: 9976,
    batchRows: 10000,
    skipped: [
      { count: 24, why: 'not completed' },
      { count: 0, why: 'unused' },
    ],
    firstRun: Date.UTC(2026, 11, 1, 22, 0, 0),
    lastRun: Date.UTC(2026, 11, 2, 4, 0, 0),
    runs: 2,
    wallSeconds: 21600,
    billedSeconds: 30938,
    costUsd: 5.878,
    priceSource: '--gpu 24gb',
    settings: { concurrency: 'auto', retries: 3 },
    layout: { kind: 'parquet', shards: ['data/train-00000-of-00001.parquet'] },
    columns: [['id', 'string']],
    exportedAt: Date.UTC(2026, 11, 2, 9, 0, 0),
    version: '0.2.0',
  };

  it('YAML first: a quoted name, the size category, the train split on data/train-*', () => {
    const card = datasetCard(facts);
    const yaml = card.split('\n---\n')[0]!;
    expect(yaml.split('\n')).toEqual([
      '---',
      'pretty_name: "prompts: \\"night\\" | run"',
      'size_categories:',
      '- 1K<n<10K',
      'configs:',
      '- config_name: default',
      '  data_files:',
      '  - split: train',
      '    path: data/train-*',
      'tags:',
      '- runpod-batch',
    ]);
    expect(card).toMatch(/\| rows \| 9976 \(of 10000 in the batch; left out: 24 not completed\) \|/);
    expect(card).toMatch(/2026-12-01T22:00:00Z → 2026-12-02T04:00:00Z \(2 runs/);
    expect(card).toMatch(/~\$5\.8780 \(--gpu 24gb\)/);
    expect(card).toMatch(/concurrency "auto", retries 3/);
    expect(card).not.toMatch(/unused/);
  });

  it('a folder layout has no configs: the train/ folder is the split', () => {
    const card = datasetCard({ ...facts, layout: { kind: 'imagefolder', files: 3 } });
    expect(card).not.toMatch(/configs:/);
    expect(card).toMatch(/`imagefolder`: 3 files in `train\/`/);
  });

  it.each([
    [0, 'n<1K'],
    [999, 'n<1K'],
    [1000, '1K<n<10K'],
    [1_000_000, '1M<n<10M'],
  ])('%i rows → %s', (rows, tag) => {
    expect(sizeCategory(rows)).toBe(tag);
  });
});
