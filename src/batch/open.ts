import { StateError } from '../core/errors.js';
import { acquireLock } from '../store/lock.js';
import type { BatchSettings, SavedRun, SavedTarget } from '../store/meta.js';
import { Store } from '../store/store.js';

/** A batch's state, opened by a command that acts on an existing --out folder (status, report, export, retry, cancel). */
export interface OpenedBatch {
  store: Store;
  gen: number;
  settings: BatchSettings;
  target: SavedTarget;
  run: SavedRun;
}

/** Opens the state of the batch in `outDir`; throws a StateError when it holds no complete batch. */
export function openBatch(outDir: string, opts: { readonly?: boolean } = {}): OpenedBatch {
  const store = Store.open(outDir, { mustExist: true, readonly: opts.readonly === true });
  const gen = store.getMeta('gen');
  const settings = store.getMeta('settings');
  const target = store.getMeta('target');
  const run = store.getMeta('run');
  if (!gen || !settings || !target || !run) {
    store.close();
    throw new StateError(`${outDir} holds no complete batch yet: run one with 'runpod-batch run <input>' first`);
  }
  return { store, gen, settings, target, run };
}

/** Takes the batch's lock (or closes the store and throws), then brings rows up to date with the job-id log. */
export function lockBatch(store: Store, outDir: string): () => void {
  let release: (() => void) | undefined;
  try {
    release = acquireLock(outDir);
    store.applyLog();
    return release;
  } catch (err) {
    store.close();
    release?.();
    throw err;
  }
}
