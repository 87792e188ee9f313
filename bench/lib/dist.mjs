// Which build of runpod-batch the benchmarks load: ROOT/dist (default), or a snapshot's dist when RPB_DIST is set
// (bench/snapshot.mjs builds one from a git commit, so a run is not disturbed by others rebuilding dist/).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST_DIR = process.env.RPB_DIST ? resolve(process.env.RPB_DIST) : join(ROOT, 'dist');

/** The engine module (runBatch, startEmulator, …) of the chosen build. */
export function engine() {
  return import(pathToFileURL(join(DIST_DIR, 'index.js')).href);
}

/** What was measured: the build's folder and its commit (a snapshot's COMMIT file, else git HEAD + "dirty"). */
export function engineInfo() {
  const commitFile = join(DIST_DIR, '..', 'COMMIT');
  if (existsSync(commitFile))
    return { dist: DIST_DIR.replace(ROOT + '/', ''), commit: readFileSync(commitFile, 'utf8').trim(), snapshot: true };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    if (dirty) commit += '+dirty-src';
  } catch {
    /* not a git checkout */
  }
  return { dist: DIST_DIR.replace(ROOT + '/', ''), commit, snapshot: false };
}
