import { UsageError } from '../core/errors.js';
import type { StoredRow } from '../core/records.js';
import { openBatch, type OpenedBatch } from './open.js';

/** A batch folder opened read-only for an export. */
export interface ExportSource extends OpenedBatch {
  outDir: string;
}

/**
 * The rows of one batch folder, or of several folders holding the shards of one input (`run --shard k/n` on several
 * machines), as one sequence in input order. Every export format reads its rows through this.
 */
export interface MergedRows {
  /** The folders, opened read-only, in the order given. */
  readonly sources: readonly ExportSource[];
  /** The input's shard count, when several shard folders are merged; null otherwise. */
  readonly shards: number | null;
  /** Shards (0 … n-1) of the input that no folder holds: their rows are not in the export. */
  readonly missing: readonly number[];
  /**
   * Every row of every folder, in input order. Each call is a new pass over the states (the Parquet exports make two),
   * holding one row per folder at a time.
   */
  rows(): IterableIterator<StoredRow>;
  /** The same pass, each row with the folder it came from (its media files are there). */
  sourced(): IterableIterator<{ row: StoredRow; source: ExportSource }>;
  /** Closes every state. */
  close(): void;
}

/**
 * Opens the folders for an export. One folder: its rows, as before shards existed. Several: they must be distinct
 * shards of one input — the same input fingerprint, `shard` set in each (meta `input`, store/meta.ts SavedInput), the
 * same n, no k twice — else a UsageError says which folders differ. Shards missing from the list are reported through
 * `warn` (and in `missing`); the export goes on with those that are there.
 */
export function mergedRows(outDirs: string | readonly string[], o: { warn?: (message: string) => void } = {}): MergedRows {
  const dirs = typeof outDirs === 'string' ? [outDirs] : [...outDirs];
  if (dirs.length === 0) throw new UsageError('give at least one batch folder to export');
  const sources: ExportSource[] = [];
  try {
    for (const outDir of dirs) sources.push({ outDir, ...openBatch(outDir, { readonly: true }) });
    // One folder of a sharded batch is checked too: its missing shards are named (`export out/shard-*` matching one).
    const sharded = dirs.length > 1 || sources[0]!.store.getMeta('input')?.shard != null;
    const { shards, missing } = sharded ? checkShards(sources) : { shards: null, missing: [] };
    if (missing.length > 0) {
      o.warn?.(
        `shard${missing.length === 1 ? '' : 's'} ${missing.map((k) => `${k}/${shards}`).join(', ')} of ${sources[0]!.store.getMeta('input')!.path} ` +
          `${missing.length === 1 ? 'is' : 'are'} not among the folders given: ${missing.length === 1 ? 'its' : 'their'} rows are not in the export`,
      );
    }
    return {
      sources,
      shards,
      missing,
      rows: function* () {
        for (const { row } of sourcedRows(sources)) yield row;
      },
      sourced: () => sourcedRows(sources),
      close: () => {
        for (const s of sources) s.store.close();
      },
    };
  } catch (err) {
    for (const s of sources) s.store.close();
    throw err;
  }
}

const SETTING = { idField: '--id-field', format: '--format', csvCast: '--csv-cast', limit: '--limit', map: '--map' } as const;

/** Several folders must be distinct shards of the same input, read alike: returns n and the shards not given. */
function checkShards(sources: ExportSource[]): { shards: number; missing: number[] } {
  const first = sources[0]!;
  const input0 = first.store.getMeta('input');
  const byK = new Map<number, string>();
  let n: number | null = null;
  for (const s of sources) {
    const input = s.store.getMeta('input');
    if (!input?.shard) {
      throw new UsageError(
        `${s.outDir} is not a shard (its batch was not run with --shard k/n): several folders are exported together only when they hold the shards of one input`,
      );
    }
    const fp = input.fingerprint;
    if (fp.sha256 !== input0!.fingerprint.sha256 || fp.size !== input0!.fingerprint.size) {
      throw new UsageError(
        `${s.outDir} and ${first.outDir} are not shards of the same input: ${input.path} (sha256 ${fp.sha256.slice(0, 12)}…, ` +
          `${fp.size} bytes) vs ${input0!.path} (sha256 ${input0!.fingerprint.sha256.slice(0, 12)}…, ${input0!.fingerprint.size} bytes)`,
      );
    }
    // The same file read alike: another id field splits it otherwise, another mapping or limit makes other rows.
    for (const key of ['idField', 'format', 'csvCast', 'limit', 'map'] as const) {
      if ((input[key] ?? null) !== (input0![key] ?? null)) {
        throw new UsageError(
          `${s.outDir} and ${first.outDir} read ${input.path} with another ${SETTING[key]} (${JSON.stringify(input[key] ?? null)} vs ` +
            `${JSON.stringify(input0![key] ?? null)}): they are not shards of one batch`,
        );
      }
    }
    const { k } = input.shard;
    if (n !== null && input.shard.n !== n) {
      throw new UsageError(`${s.outDir} is shard ${k}/${input.shard.n}, ${first.outDir} one of ${n}: the input was not split alike`);
    }
    n = input.shard.n;
    const twice = byK.get(k);
    if (twice !== undefined) {
      throw new UsageError(`shard ${k}/${n} is given twice (${twice} and ${s.outDir}): give each shard's folder once`);
    }
    byK.set(k, s.outDir);
  }
  const missing: number[] = [];
  for (let k = 0; k < n!; k++) if (!byK.has(k)) missing.push(k);
  return { shards: n!, missing };
}

/**
 * A k-way merge by seq of the folders' rows, each read in seq order (store.rows): the head of each folder is held, the
 * least is yielded. Linear in the folders per row — a handful of shards. Two folders holding the same seq are not
 * disjoint shards: refused.
 */
function* sourcedRows(sources: readonly ExportSource[]): IterableIterator<{ row: StoredRow; source: ExportSource }> {
  if (sources.length === 1) {
    const source = sources[0]!;
    for (const row of source.store.rows(source.gen)) yield { row, source };
    return;
  }
  const iterators = sources.map((s) => s.store.rows(s.gen));
  try {
    const heads = iterators.map((it) => it.next());
    let last: { row: StoredRow; source: ExportSource } | null = null;
    for (;;) {
      let min = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (!h.done && (min < 0 || h.value.seq < (heads[min]!.value as StoredRow).seq)) min = i;
      }
      if (min < 0) return;
      const row = heads[min]!.value as StoredRow;
      const source = sources[min]!;
      if (last !== null && last.row.seq === row.seq) {
        throw new UsageError(
          `${last.source.outDir} and ${source.outDir} both hold row ${last.row.seq + 1} of the input (ids ${last.row.idJson} and ${row.idJson}): they are not disjoint shards of one input`,
        );
      }
      last = { row, source };
      heads[min] = iterators[min]!.next();
      yield last;
    }
  } finally {
    // A pass left early (a closed pipe, an error) ends its statements, so the states can close.
    for (const it of iterators) it.return?.();
  }
}
