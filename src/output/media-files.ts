import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { MediaFile } from '../core/records.js';
import { MEDIA_DIR } from './media.js';

/** Base64 characters decoded per write: a multiple of 4, so each chunk decodes on its own. */
const CHUNK_CHARS = 256 * 1024;

/** Base64 (standard or URL-safe), padding only at the end. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Writes media files under `<out>/media/`, each the way AtomicFile writes a view: a temporary sibling, fsync, rename —
 * so a file that has its final name is whole, and a kill leaves at most a temporary file (removed by the next
 * run's sweep, batch/media.ts). The base64 text is decoded in 256 K-character chunks into one reused buffer, hashed
 * and written as it goes: the decoded bytes are never held whole.
 */
export class MediaWriter {
  readonly dir: string;
  private readonly buf = Buffer.allocUnsafe((CHUNK_CHARS / 4) * 3);
  private made = false;

  constructor(outDir: string) {
    this.dir = join(outDir, MEDIA_DIR);
  }

  /**
   * Decodes `value` from `start` (the base64 after a data URI's comma, or all of it) into media/<name>. Returns the
   * file without its type, or null when the text is not clean base64 (then nothing is written).
   */
  write(name: string, value: string, start: number): Omit<MediaFile, 'type'> | null {
    let text = start === 0 ? value : value.slice(start);
    if (!BASE64.test(text)) {
      // MIME-style base64 broken into lines: decode it without the white space (a copy, only for such outputs).
      text = text.replace(/\s+/g, '');
      if (!BASE64.test(text)) return null;
    }
    if (!this.made) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.made = true;
    }
    const path = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.tmp-${process.pid}`);
    const fd = openSync(tmp, 'w', 0o600);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for (let i = 0; i < text.length; i += CHUNK_CHARS) {
        const n = this.buf.write(text.slice(i, i + CHUNK_CHARS), 0, this.buf.length, 'base64');
        hash.update(this.buf.subarray(0, n));
        let off = 0;
        while (off < n) off += writeSync(fd, this.buf, off, n - off);
        bytes += n;
      }
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, path);
    return { path: `${MEDIA_DIR}/${name}`, bytes, sha256: hash.digest('hex') };
  }
}
