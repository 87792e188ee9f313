import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MediaFile } from '../core/records.js';
import type { SchedulerStore } from '../engine/ports.js';
import { MediaWriter } from '../output/media-files.js';
import { findMedia, MEDIA_DIR, mediaNames, refOf } from '../output/media.js';
import type { Store } from '../store/store.js';

/**
 * The store as the scheduler sees it when media go to files (the default; `--media off` passes the store itself).
 * A COMPLETED output that holds base64 media has each item decoded into `<out>/media/` — whole files, fsync'd and
 * renamed into place — and replaced by its reference (encodeOutput, which gets the parsed output: no JSON text of the
 * base64 is made), and the files are indexed with the row (markTerminal, right after): each file is on disk before
 * the commit that refers to it. The engine does no file I/O: this is the edge where it happens.
 */
export function mediaStore(store: Store, outDir: string, log: (m: string) => void): SchedulerStore {
  const writer = new MediaWriter(outDir);
  // The files of an output, from encodeOutput to its markTerminal (the same tick), by job id.
  const written = new Map<string, MediaFile[]>();
  let warned = false;
  const warn = (err: unknown) => {
    // A full disk or an unwritable folder: the item is kept as it came (inline), the run goes on.
    if (!warned) log(`media: cannot write into ${writer.dir} (${(err as Error).message}); such outputs are kept inline`);
    warned = true;
  };
  return {
    pendingPage: (gen, afterSeq, limit) => store.pendingPage(gen, afterSeq, limit),
    submittedRows: (gen) => store.submittedRows(gen),
    markSubmitted: (key, jobId, attempt, submittedAt, status) => store.markSubmitted(key, jobId, attempt, submittedAt, status),
    requeue: (key, jobId, reason, at, detail) => store.requeue(key, jobId, reason, at, detail),
    failRow: (key, status, error, code, at) => store.failRow(key, status, error, code, at),
    flush: () => store.flush(),
    encodeOutput(key, jobId, output) {
      const r = moveMedia(key, output, writer, warn);
      if (r.media.length > 0) written.set(jobId, r.media);
      return r.json;
    },
    markTerminal(t) {
      const media = written.get(t.jobId);
      written.delete(t.jobId);
      store.markTerminal(media ? { ...t, media } : t);
    },
  };
}

/**
 * A parsed output with its media written to files and replaced by references (in place): its JSON text and the
 * files. An item whose file cannot be written (`onError` is told) or whose text is not clean base64 stays as it came.
 */
export function moveMedia(
  key: string,
  output: unknown,
  writer: MediaWriter,
  onError: (err: unknown) => void,
): { json: string; media: MediaFile[] } {
  const root = { value: output };
  const slots = findMedia(root);
  const media: MediaFile[] = [];
  if (slots.length > 0) {
    const names = mediaNames(
      key,
      slots.map((c) => ({ filename: c.filename, ext: c.type.ext })),
    );
    slots.forEach((slot, i) => {
      let f: ReturnType<MediaWriter['write']>;
      try {
        f = writer.write(names[i]!, slot.value, slot.start);
      } catch (err) {
        onError(err);
        return;
      }
      if (!f) return; // not clean base64 after all
      const file = { ...f, type: slot.type.mime };
      media.push(file);
      slot.replace(refOf(file));
    });
  }
  return { json: JSON.stringify(root.value), media };
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
