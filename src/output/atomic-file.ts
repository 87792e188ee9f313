import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * Writes a file through a temporary sibling and a rename, so a reader (or a crash) never sees half a file.
 * Created with mode 0600: results hold the batch's inputs and outputs. Small writes are grouped into 256 KiB chunks.
 */
export class AtomicFile {
  private readonly tmp: string;
  private fd: number;
  private buf: string[] = [];
  private size = 0;

  constructor(private readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w', 0o600);
  }

  write(text: string): void {
    this.buf.push(text);
    this.size += text.length;
    if (this.size >= 256 * 1024) this.drain();
  }

  private drain(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
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
