/**
 * The Hugging Face dataset folder (`export --format hf`), its pure parts: the folder builder a batch gets, one
 * `metadata.jsonl` line, and the `README.md` dataset card. The layout follows the rules `datasets.load_dataset(dir)`
 * applies to a local folder (docs: "Structure your repository", "File names and splits", "Create an image dataset"):
 * - text batches: Parquet shards `data/train-00000-of-0000N.parquet` (the `push_to_hub` naming), and a card whose YAML
 *   `configs` maps the `train` split to `data/train-*`;
 * - media batches: the files and `metadata.jsonl` in `train/` (a split-named folder: metadata files at the root or in
 *   `data/` were ignored by datasets 2.15, huggingface/datasets#6442), each line naming its file in `file_name`,
 *   relative to the metadata file; the image/audio/video folder builder is inferred from the files' extensions.
 */
import type { Shape } from './parquet-shape.js';
import type { MediaRef } from './media.js';

export type FolderKind = 'imagefolder' | 'audiofolder' | 'videofolder';

/** The column the folder builder adds for the file itself; metadata must not use that name. */
const BUILDER_COLUMN: Record<FolderKind, string> = { imagefolder: 'image', audiofolder: 'audio', videofolder: 'video' };

/** The builder for media of these kinds (counts per kind): the most common one, images first on a tie. */
export function folderKind(counts: Record<string, number>): FolderKind | null {
  const order: [FolderKind, string][] = [
    ['imagefolder', 'image'],
    ['audiofolder', 'audio'],
    ['videofolder', 'video'],
  ];
  let best: FolderKind | null = null;
  let most = 0;
  for (const [kind, k] of order) {
    if ((counts[k] ?? 0) > most) {
      best = kind;
      most = counts[k]!;
    }
  }
  return best;
}

/**
 * A media file's place under `train/`: its path below `--out`, checked to stay below it. A reference is data from a
 * stored output; one that is absolute, climbs out with `..`, or holds a NUL gives null (the file is not exported).
 */
export function mediaFileName(ref: MediaRef): string | null {
  const p = ref.path.replaceAll('\\', '/');
  if (p.length === 0 || p.includes('\0') || p.startsWith('/') || /^[a-zA-Z]:/.test(p)) return null;
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0 || parts.some((s) => s === '..')) return null;
  return parts.join('/');
}

/**
 * One `metadata.jsonl` line: `file_name`, the row's `id`, then the input's fields and the output's scalar fields
 * (strings, numbers, booleans) as columns. A name already taken — `file_name`, `id`, the builder's own column
 * (`image`, `audio`, `video`), or an input field of the same name for an output field — gets an `input_` or `output_`
 * prefix. Nested output values (the media references among them) are left out: they are the files themselves, or
 * in the Parquet export.
 */
export function metadataLine(kind: FolderKind, fileName: string, id: unknown, input: unknown, output: unknown): string {
  const taken = new Set(['file_name', 'id', BUILDER_COLUMN[kind]]);
  const line: Record<string, unknown> = { file_name: fileName, id };
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    for (const [k, v] of Object.entries(input)) line[taken.has(k) ? `input_${k}` : k] = v;
  }
  if (output !== null && typeof output === 'object' && !Array.isArray(output)) {
    for (const [k, v] of Object.entries(output)) {
      if (v !== null && typeof v === 'object') continue;
      line[taken.has(k) || Object.hasOwn(line, k) ? `output_${k}` : k] = v;
    }
  } else if (output !== null && typeof output !== 'object') {
    line[Object.hasOwn(line, 'output') ? 'output_output' : 'output'] = output;
  }
  return JSON.stringify(line);
}

/** The Hub's size_categories tag for a row count. */
export function sizeCategory(rows: number): string {
  const steps: [number, string][] = [
    [1e3, 'n<1K'],
    [1e4, '1K<n<10K'],
    [1e5, '10K<n<100K'],
    [1e6, '100K<n<1M'],
    [1e7, '1M<n<10M'],
    [1e8, '10M<n<100M'],
    [1e9, '100M<n<1B'],
  ];
  for (const [limit, tag] of steps) if (rows < limit) return tag;
  return 'n>1T';
}

/** The type of a Parquet column as the card lists it. */
export function shapeType(shape: Shape): string {
  switch (shape.kind) {
    case 'int':
      return 'int64';
    case 'double':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'null':
    case 'json':
      return 'string (JSON)';
    case 'list':
      return `list<${shapeType(shape.element)}>`;
    case 'struct':
      return `struct<${[...shape.fields].map(([k, f]) => `${k}: ${shapeType(f)}`).join(', ')}>`;
  }
}

export interface CardFacts {
  title: string;
  input: string;
  endpoint: string;
  baseUrl: string;
  /** Rows in the dataset; `batchRows` rows in the batch, `skipped` of them not in the dataset (and why). */
  rows: number;
  batchRows: number;
  skipped: { count: number; why: string }[];
  /** ms since the epoch; null before any run. */
  firstRun: number | null;
  lastRun: number | null;
  runs: number;
  wallSeconds: number;
  billedSeconds: number;
  costUsd: number | null;
  priceSource: string;
  settings: Record<string, unknown>;
  layout: { kind: 'parquet'; shards: string[] } | { kind: FolderKind; files: number };
  /** Column name → type as the card shows it. */
  columns: [string, string][];
  exportedAt: number;
  version: string;
}

const iso = (ms: number | null) => (ms === null ? 'unknown' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The dataset card: YAML metadata the Hub and `datasets` read, then what the batch was, for a person. */
export function datasetCard(f: CardFacts): string {
  const yaml = ['---', `pretty_name: ${JSON.stringify(f.title)}`, 'size_categories:', `- ${sizeCategory(f.rows)}`];
  if (f.layout.kind === 'parquet') {
    yaml.push('configs:', '- config_name: default', '  data_files:', '  - split: train', '    path: data/train-*');
  }
  yaml.push('tags:', '- runpod-batch', '---');
  const skipped = f.skipped.filter((s) => s.count > 0);
  const facts: [string, string][] = [
    [
      'rows',
      `${f.rows}` +
        (skipped.length > 0 ? ` (of ${f.batchRows} in the batch; left out: ${skipped.map((s) => `${s.count} ${s.why}`).join(', ')})` : ''),
    ],
    ['input', `\`${f.input}\``],
    ['endpoint', `\`${f.endpoint}\` (${f.baseUrl})`],
    ['ran', `${iso(f.firstRun)} → ${iso(f.lastRun)} (${f.runs} run${f.runs === 1 ? '' : 's'}, ${Math.round(f.wallSeconds)} s in all)`],
    [
      'billed',
      `${f.billedSeconds} s of execution` +
        (f.costUsd === null
          ? ' (no price given)'
          : `, ~$${f.costUsd.toFixed(4)} (${f.priceSource}); cold starts and idle time not included`),
    ],
    [
      'settings',
      Object.entries(f.settings)
        .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
        .join(', '),
    ],
    ['exported', `${iso(f.exportedAt)} by runpod-batch ${f.version}`],
  ];
  const layout =
    f.layout.kind === 'parquet'
      ? `Parquet, ${f.layout.shards.length} shard${f.layout.shards.length === 1 ? '' : 's'} in \`data/\` (${f.layout.shards.map((s) => `\`${s}\``).join(', ')}), split \`train\`. Nested inputs and outputs are Parquet structs and lists; a field whose kind varies between rows is JSON text.`
      : `\`${f.layout.kind}\`: ${f.layout.files} file${f.layout.files === 1 ? '' : 's'} in \`train/\` with \`train/metadata.jsonl\` (one line per file: \`file_name\`, the row id, its input fields and the output's scalar fields).`;
  return [
    ...yaml,
    '',
    `# ${f.title}`,
    '',
    `Generated by [runpod-batch](https://www.npmjs.com/package/runpod-batch) on a RunPod Serverless endpoint. Only rows that completed are included.`,
    '',
    '| | |',
    '|---|---|',
    ...facts.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    '',
    '## Layout',
    '',
    layout,
    '',
    '| column | type |',
    '|---|---|',
    ...f.columns.map(([k, v]) => `| \`${cell(k)}\` | ${cell(v)} |`),
    '',
    '## Load',
    '',
    '```python',
    'from datasets import load_dataset',
    'ds = load_dataset("path/to/this/folder")',
    '```',
    '',
  ].join('\n');
}
