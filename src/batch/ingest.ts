import { DEFAULTS } from '../core/defaults.js';
import { InputError, type InputIssue } from '../core/errors.js';
import { detectFormat, readInput } from '../input/index.js';
import type { InputOptions, InputRow } from '../input/types.js';
import { fingerprintFile } from '../input/fingerprint.js';
import type { SavedInput } from '../store/meta.js';
import { realInputPath } from './out-dir.js';
import type { Store } from '../store/store.js';

export interface IngestResult {
  /** The generation the rows of this input carry. */
  gen: number;
  rows: number;
  added: number;
  changed: number;
  unchanged: number;
  /** Rows of the previous input no longer in the file (left out of results). */
  removed: number;
  /** The file was unchanged since the last run: it was not parsed again. */
  skipped: boolean;
  /** The mapping (--map) is not the one the last load used: `changed` counts the rows whose request it changed. */
  mapChanged: boolean;
}

export interface IngestOptions extends InputOptions {
  limit?: number;
  /** Called with each valid row as it is loaded (the dry run's preview and comparison). */
  onRow?: (row: InputRow) => void;
}

const MAX_ISSUES = 20;

/**
 * Validates the whole input and loads it into the store in one transaction: nothing is written (and nothing
 * submitted) unless every row is valid. Duplicate ids are found by SQLite, so memory does not grow with the file.
 * On a rerun, rows are matched by id and content hash: unchanged rows keep their state, edited rows run again.
 */
export async function ingest(store: Store, path: string, opts: IngestOptions): Promise<IngestResult> {
  const fingerprint = await fingerprintFile(path).catch((err: Error) => {
    throw new InputError([{ file: path, line: 0, message: err.message }], 1, `${path}: cannot read: ${err.message}`);
  });
  const idField = opts.idField ?? DEFAULTS.idField;
  const prevGen = store.getMeta('gen') ?? 0;
  const prev = store.getMeta('input');
  const wanted = {
    format: opts.format ?? null,
    idField,
    csvCast: opts.csvCast === true,
    limit: opts.limit ?? null,
    map: opts.map ?? null,
    shard: opts.shard ?? null,
  };
  // States written before --map and --shard existed have neither.
  const prevMap = prev?.map ?? null;
  const prevShard = prev?.shard ?? null;
  const mapChanged = prev !== undefined && prevMap !== wanted.map;
  if (
    prev &&
    prev.fingerprint.sha256 === fingerprint.sha256 &&
    prev.fingerprint.size === fingerprint.size &&
    prev.format === wanted.format &&
    prev.idField === wanted.idField &&
    prev.csvCast === wanted.csvCast &&
    prev.limit === wanted.limit &&
    !mapChanged &&
    prevShard?.k === wanted.shard?.k &&
    prevShard?.n === wanted.shard?.n
  ) {
    // The same content under another name (--replace-input), or a state that predates absPath: keep the path current.
    const absPath = realInputPath(path);
    if (prev.path !== path || prev.absPath !== absPath) store.setMeta('input', { ...prev, path, absPath });
    return { gen: prevGen, rows: prev.rows, added: 0, changed: 0, unchanged: prev.rows, removed: 0, skipped: true, mapChanged: false };
  }

  const gen = prevGen + 1;
  const issues: InputIssue[] = [];
  let total = 0;
  const res = { gen, rows: 0, added: 0, changed: 0, unchanged: 0, removed: 0, skipped: false, mapChanged };
  const note = (i: InputIssue) => {
    total++;
    if (issues.length < MAX_ISSUES) issues.push(i);
  };
  store.begin();
  try {
    for await (const item of readInput(path, opts)) {
      if (item.kind === 'issue') {
        note(item.issue);
        continue;
      }
      if (opts.limit !== undefined && res.rows >= opts.limit) break;
      const outcome = store.ingestRow(item.row, gen);
      if (outcome === 'duplicate') {
        // A Parquet row's `line` is its row number.
        const at = detectFormat(path, opts.format) === 'parquet' ? 'row' : 'line';
        note({
          file: path,
          line: item.row.line,
          message: `duplicate id ${JSON.stringify(item.row.id)} (first at ${at} ${store.lineOf(item.row.key)})`,
        });
        continue;
      }
      res.rows++;
      opts.onRow?.(item.row);
      if (outcome === 'new') res.added++;
      else if (outcome === 'changed') res.changed++;
      else res.unchanged++;
    }
    if (total > 0) throw new InputError(issues, total);
    if (res.rows === 0) {
      const message = opts.shard ? `no rows of shard ${opts.shard.k}/${opts.shard.n} in this input` : 'empty input: no rows';
      throw new InputError([{ file: path, line: 1, message }]);
    }
    res.removed = store.countOlderThan(gen);
    store.setMeta('input', { path, absPath: realInputPath(path), fingerprint, ...wanted, rows: res.rows } satisfies SavedInput);
    store.setMeta('gen', gen);
    store.commit();
  } catch (err) {
    store.rollback();
    throw err;
  }
  return res;
}
