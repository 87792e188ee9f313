import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MediaFile, Terminal } from '../core/records.js';
import type { SchedulerStore } from '../engine/ports.js';
import { MediaWriter } from '../output/media-files.js';
import { findMedia, MEDIA_DIR, mayHoldMedia, mediaNames, refOf } from '../output/media.js';
import type { Store } from '../store/store.js';

/**
 * The store as the scheduler sees it when media go to files (the default; `--media off` passes the store itself).
 * A COMPLETED output that holds base64 media has each item decoded into `<out>/media/` — whole files, fsync'd and
 * renamed into place — and replaced by its reference, before the row is handed to the store: the file is on disk
 * before the commit that refers to it. The engine does no file I/O: this is the edge where it happens.
 */
export function mediaStore(store: Store, outDir: string, log: (m: string) => void): SchedulerStore {
  const writer = new MediaWriter(outDir);
  let warned = false;
  return {
    pendingPage: (gen, afterSeq, limit) => store.pendingPage(gen, afterSeq, limit),
    submittedRows: (gen) => store.submittedRows(gen),
    markSubmitted: (key, jobId, attempt, submittedAt, status) => store.markSubmitted(key, jobId, attempt, submittedAt, status),
    requeue: (key, jobId, reason, at, detail) => store.requeue(key, jobId, reason, at, detail),
    failRow: (key, status, error, code, at) => store.failRow(key, status, error, code, at),
    flush: () => store.flush(),
    markTerminal(t) {
      if (t.status !== 'COMPLETED' || t.output === null || !mayHoldMedia(t.output)) {
        store.markTerminal(t);
        return;
      }
      try {
        store.markTerminal(moveMedia(t, writer));
      } catch (err) {
        // A full disk or an unwritable folder: the output is kept as it came (inline), the run goes on.
        if (!warned) log(`media: cannot write into ${writer.dir} (${(err as Error).message}); outputs are kept inline`);
        warned = true;
        store.markTerminal(t);
      }
    },
  };
}

/** The terminal record with its output's media written to files and replaced by references. */
export function moveMedia(t: Terminal, writer: MediaWriter): Terminal {
  const root = { value: JSON.parse(t.output!) as unknown };
  const slots = findMedia(root);
  if (slots.length === 0) return t;
  const names = mediaNames(
    t.key,
    slots.map((c) => ({ filename: c.filename, ext: c.type.ext })),
  );
  const media: MediaFile[] = [];
  slots.forEach((slot, i) => {
    const f = writer.write(names[i]!, slot.value, slot.start);
    if (!f) return; // not clean base64 after all: stays as it came
    const file = { ...f, type: slot.type.mime };
    media.push(file);
    slot.replace(refOf(file));
  });
  return { ...t, output: media.length > 0 ? JSON.stringify(root.value) : t.output, media };
}

/**
 * Removes from `<out>/media/` every file no committed output refers to: what a killed run wrote but never committed
 * (and its temporary files), and the files of rows whose output was replaced (an edited input row). Only for the
 * process that holds the batch's lock. Returns how many it removed.
 */
export function sweepMedia(store: Store, outDir: string): number {
  const dir = join(outDir, MEDIA_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  store.flush();
  let removed = 0;
  for (const name of names) {
    if (store.hasMedia(`${MEDIA_DIR}/${name}`)) continue;
    rmSync(join(dir, name), { force: true, recursive: true });
    removed++;
  }
  return removed;
}
