import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Bytes encoded before each write to the file. */
const CHUNK = 256 * 1024;

/**
 * Writes a file through a temporary sibling and a rename, so a reader (or a crash) never sees half a file.
 * Created with mode 0600: results hold the batch's inputs and outputs. Text is encoded into one reused 256 KiB
 * buffer as it comes and written when the buffer is full: no string outlives its write() call, so a million result
 * lines leave nothing behind for the garbage collector to promote.
 */
export class AtomicFile {
  private readonly tmp: string;
  private fd: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;

  constructor(private readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w', 0o600);
  }

  write(text: string): void {
    // Up to 3 bytes per UTF-16 unit: a text that surely fits is encoded in place, others go through Buffer.byteLength.
    if (text.length * 3 > CHUNK - this.used && Buffer.byteLength(text) > CHUNK - this.used) {
      this.drain();
      if (Buffer.byteLength(text) > CHUNK) {
        const bytes = Buffer.from(text, 'utf8');
        let off = 0;
        while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  private drain(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  commit(): void {
    this.drain();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}

export function writeFileAtomic(path: string, text: string): void {
  const f = new AtomicFile(path);
  f.write(text);
  f.commit();
}
