import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { StateError } from '../core/errors.js';
import type { SavedInput } from '../store/meta.js';
import { Store } from '../store/store.js';

/**
 * The default output folder: `<input file name>.runpod` beside the input, extension included, so that
 * `prompts.jsonl` and `prompts.csv` never share a batch.
 */
export function defaultOutDir(input: string): string {
  return join(dirname(input), `${basename(input)}.runpod`);
}

/** The default folder of versions before 0.2: the input's name without its extension. */
function legacyOutDir(input: string): string {
  return join(dirname(input), `${basename(input, extname(input))}.runpod`);
}

/** The input's real absolute path (symlinks resolved), or its absolute path when it cannot be resolved. */
export function realInputPath(input: string): string {
  try {
    return realpathSync(input);
  } catch {
    return resolve(input);
  }
}

/**
 * Where a run keeps its batch: `--out`, else the default folder — or, when only the folder an earlier version chose
 * by default exists and holds this very input's batch, that one (so upgrading does not start the batch over).
 */
export function chooseOutDir(input: string, out: string | undefined, log: (m: string) => void): string {
  if (out !== undefined) return out;
  const dir = defaultOutDir(input);
  const legacy = legacyOutDir(input);
  if (existsSync(dir) || !existsSync(join(legacy, 'state.sqlite'))) return dir;
  let saved: SavedInput | undefined;
  try {
    const store = Store.open(legacy, { readonly: true });
    try {
      saved = store.getMeta('input');
    } finally {
      store.close();
    }
  } catch {
    return dir;
  }
  if (!saved || !sameInput(saved, input)) return dir;
  log(`using ${legacy}, the folder earlier runs of ${input} used (the default is now ${dir})`);
  return legacy;
}

/** The state's input is this file. */
export function sameInput(saved: SavedInput, input: string): boolean {
  return (saved.absPath ?? realInputPath(saved.path)) === realInputPath(input);
}

/** Refuses a run whose input is another file than the one the batch in `outDir` was run from. */
export function checkSameInput(saved: SavedInput | undefined, input: string, outDir: string): void {
  if (!saved || sameInput(saved, input)) return;
  throw new StateError(
    `${outDir} holds the batch of ${saved.path}, not of ${input}: nothing was changed.\n` +
      `Give this input a folder of its own with --out, or pass --replace-input to make ${input} the input of this batch from now on ` +
      '(rows matched by id: unchanged rows keep their results, the others run).',
  );
}
