import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { round6 } from '../core/numbers.js';
import { AtomicFile, writeFileAtomic } from '../output/atomic-file.js';
import { datasetCard, type FolderKind, folderKind, mediaFileName, metadataLine, shapeType } from '../output/hf.js';
import { findMediaRefs, type MediaFinder, type MediaRef, mediaKind } from '../output/media.js';
import { COLUMNS, ParquetFile, recordOf, recordWeight, SchemaLearner, shardNames } from '../output/parquet.js';
import { type MergedRows, mergedRows } from './merge.js';

/** JSON text per shard, about: a Parquet shard is smaller (columnar, compressed) — the Hub's viewer likes < 500 MB. */
export const SHARD_BYTES = 256 * 1024 * 1024;

/** The Parquet columns of a dataset: a row's status is always COMPLETED there, and it has no error. */
const DATASET_COLUMNS = COLUMNS.filter((c) => !['status', 'error', 'errorCode', 'lost', 'expired'].includes(c.name));

export interface HfExportOptions {
  /** Lists the media references of an output (output/media.ts). @default findMediaRefs (the references media extraction stores) */
  findMedia?: MediaFinder;
  /** JSON text per Parquet shard. @default SHARD_BYTES */
  shardBytes?: number;
  /** @default Date.now */
  now?: () => number;
  /** Told when shards of the input are missing from the folders given (merge.ts). */
  warn?: (message: string) => void;
}

export interface HfExportResult {
  dir: string;
  layout: 'parquet' | FolderKind;
  /** Rows in the dataset (for a folder layout: metadata lines, one per media file). */
  rows: number;
  /** The data files written, relative to `dir`: the Parquet shards, or the metadata file (beside `rows` media files). */
  files: string[];
  /** What was left out, and why (`not completed`, `without a media file`, `media file missing`, …). */
  skipped: { count: number; why: string }[];
}

/**
 * Writes the batch's completed rows as a folder `datasets.load_dataset(dir)` reads as it is (output/hf.ts says which
 * rules it follows): Parquet shards for text batches; for batches whose outputs refer to media files, those files in
 * the image/audio/video folder layout with `metadata.jsonl`. Plus a `README.md` dataset card. The folder is built
 * beside `dir` and renamed into place, so `dir` is whole or absent; an existing non-empty `dir` is refused. `outDirs`:
 * one batch folder, or the folders of the shards of one input (merge.ts).
 */
export function exportHf(outDirs: string | readonly string[], dir: string | undefined, o: HfExportOptions = {}): HfExportResult {
  if (!dir) throw new UsageError('export --format hf writes a folder: give it with -o <dir>');
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`${dir} exists and is not empty: export into a new folder`);
  const findMedia = o.findMedia ?? findMediaRefs;
  const merged = mergedRows(outDirs, { warn: o.warn });
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    // Pass 1: which rows go in, whether they carry media, and the schema of the Parquet layout.
    const learner = new SchemaLearner();
    const kinds: Record<string, number> = {};
    let batchRows = 0;
    let notCompleted = 0;
    for (const r of merged.rows()) {
      batchRows++;
      if (r.state !== 'COMPLETED') {
        notCompleted++;
        continue;
      }
      const rec = recordOf(r);
      for (const ref of findMedia(rec.output)) kinds[mediaKind(ref)] = (kinds[mediaKind(ref)] ?? 0) + 1;
      learner.learn(rec as unknown as Record<string, unknown>, recordWeight(r));
    }
    const named = typeof outDirs === 'string' ? outDirs : outDirs.join(', ');
    if (learner.rows === 0) throw new UsageError(`no row of ${named} has completed: there is nothing to put in a dataset yet`);
    const kind = folderKind(kinds);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const skipped = [{ count: notCompleted, why: 'not completed' }];
    const written =
      kind === null ? writeShards(merged, learner, tmp, o.shardBytes ?? SHARD_BYTES) : writeFolder(merged, tmp, kind, findMedia, skipped);
    const facts = cardFacts(merged, {
      rows: written.rows,
      batchRows,
      skipped,
      layout: kind === null ? { kind: 'parquet', shards: written.files } : { kind, files: written.rows },
      columns: written.columns,
      exportedAt: (o.now ?? Date.now)(),
    });
    writeFileAtomic(join(tmp, 'README.md'), datasetCard(facts));
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(tmp, dir);
    return { dir, layout: kind ?? 'parquet', rows: written.rows, files: written.files, skipped: skipped.filter((s) => s.count > 0) };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    merged.close();
  }
}

interface Written {
  rows: number;
  files: string[];
  columns: [string, string][];
}

/** Pass 2 of a text batch: the completed rows in `data/train-0000i-of-0000N.parquet`, about `shardBytes` each. */
function writeShards(merged: MergedRows, learner: SchemaLearner, tmp: string, shardBytes: number): Written {
  const columns = learner.columns(DATASET_COLUMNS);
  const wanted = Math.max(1, Math.ceil(learner.weight / shardBytes));
  const perShard = Math.max(1, Math.ceil(learner.rows / wanted));
  const names = shardNames('train', Math.max(1, Math.ceil(learner.rows / perShard)));
  mkdirSync(join(tmp, 'data'));
  let shard = 0;
  let file: ParquetFile | null = null;
  let rows = 0;
  const open = () => new ParquetFile(join(tmp, 'data', names[shard]!), columns);
  try {
    for (const r of merged.rows()) {
      if (r.state !== 'COMPLETED') continue;
      file ??= open();
      file.add(recordOf(r) as unknown as Record<string, unknown>, recordWeight(r));
      rows++;
      if (file.rows >= perShard) {
        file.commit();
        file = null;
        shard++;
      }
    }
    file?.commit();
    file = null;
  } finally {
    file?.abort();
  }
  return { rows, files: names.map((n) => `data/${n}`), columns: columns.map((c) => [c.name, shapeType(c.shape)]) };
}

/**
 * Pass 2 of a media batch: each media file of the layout's kind copied to `train/<its path below --out>`, and one
 * `train/metadata.jsonl` line for it. Files of other kinds, unsafe references and files missing from `--out` are
 * left out and counted. A row's files are in the folder it comes from.
 */
function writeFolder(
  merged: MergedRows,
  tmp: string,
  kind: FolderKind,
  findMedia: MediaFinder,
  skipped: { count: number; why: string }[],
): Written {
  const want = kind.replace('folder', '') as ReturnType<typeof mediaKind>;
  const train = join(tmp, 'train');
  mkdirSync(train);
  const meta = new AtomicFile(join(train, 'metadata.jsonl'));
  const lines = new SchemaLearner();
  let noMedia = 0;
  let otherKind = 0;
  let unsafe = 0;
  let missing = 0;
  const seen = new Set<string>();
  for (const { row: r, source } of merged.sourced()) {
    if (r.state !== 'COMPLETED') continue;
    const rec = recordOf(r);
    const refs = findMedia(rec.output);
    const mine = refs.filter((ref: MediaRef) => mediaKind(ref) === want);
    otherKind += refs.length - mine.length;
    if (mine.length === 0) noMedia++;
    for (const ref of mine) {
      const name = mediaFileName(ref);
      if (name === null || name === 'metadata.jsonl' || seen.has(name)) {
        unsafe++;
        continue;
      }
      const src = join(source.outDir, name);
      if (!existsSync(src)) {
        missing++;
        continue;
      }
      seen.add(name);
      mkdirSync(dirname(join(train, name)), { recursive: true });
      // A copy-on-write clone where the file system has them, else a copy: the dataset stands apart from --out.
      copyFileSync(src, join(train, name), constants.COPYFILE_FICLONE);
      const line = metadataLine(kind, name, rec.id, rec.input, rec.output);
      lines.learn(JSON.parse(line) as Record<string, unknown>);
      meta.write(line + '\n');
    }
  }
  meta.commit();
  skipped.push(
    { count: noMedia, why: 'completed without a media file' },
    { count: otherKind, why: `media files not ${want}` },
    { count: unsafe, why: 'media references with an unusable path' },
    { count: missing, why: 'media files missing from the batch folder' },
  );
  const builderColumn: [string, string] = [want, `${want} (the file named by file_name)`];
  return {
    rows: seen.size,
    // The media files are `rows` more, under train/: not listed one by one (a night's batch holds thousands).
    files: ['train/metadata.jsonl'],
    columns: [builderColumn, ...lines.seen().map((c): [string, string] => [c.name, shapeType(c.shape)])],
  };
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** The card's facts; of shards, summed (runs, wall time, billed seconds) or spanned (first and last run). */
function cardFacts(
  merged: MergedRows,
  f: Pick<Parameters<typeof datasetCard>[0], 'rows' | 'batchRows' | 'skipped' | 'layout' | 'columns' | 'exportedAt'>,
): Parameters<typeof datasetCard>[0] {
  const { settings, target, run } = merged.sources[0]!;
  let first: number | null = null;
  let last: number | null = null;
  let runs = 0;
  let wallSeconds = 0;
  let billedSeconds = 0;
  for (const { store } of merged.sources) {
    const span = store.runSpan();
    if (span.first !== null && (first === null || span.first < first)) first = span.first;
    if (span.last !== null && (last === null || span.last > last)) last = span.last;
    runs += store.runCount();
    wallSeconds += store.wallSeconds();
    billedSeconds += store.billed().seconds;
  }
  return {
    ...f,
    title: settings.title,
    input: run.input,
    endpoint: settings.endpointLabel,
    baseUrl: target.baseUrl,
    firstRun: first,
    lastRun: last,
    runs,
    wallSeconds,
    billedSeconds,
    costUsd: settings.pricePerSecond === null ? null : round6(billedSeconds * settings.pricePerSecond),
    priceSource: settings.priceSource,
    settings: { concurrency: run.concurrency, retries: run.retries, limit: run.limit, idField: settings.idField, format: run.format },
    version: VERSION,
  };
}
