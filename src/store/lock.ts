import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from '../core/errors.js';

/**
 * One process per --out. The lock file holds the owner's pid; a lock whose pid is gone (a crash, kill -9) is stale
 * and taken over.
 */
export function acquireLock(dir: string): () => void {
  const path = join(dir, 'state.lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw new StateError(`cannot create ${path}: ${(err as Error).message}`);
      const pid = Number.parseInt(readSafe(path), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new StateError(`another runpod-batch (pid ${pid}) is running this batch (${path}); wait for it or stop it`);
      }
      try {
        unlinkSync(path); // stale: its owner is gone
      } catch {
        // another process took it over first; try again
      }
    }
  }
  throw new StateError(`cannot take the lock ${path}`);
}

function readSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** The pid of the live process holding the batch's lock; 0 when it lives but is not ours to signal; null when none. */
export function lockHolder(dir: string): number | null {
  const pid = Number.parseInt(readSafe(join(dir, 'state.lock')), 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM' ? 0 : null;
  }
}
