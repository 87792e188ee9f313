import { isUtf8 } from 'node:buffer';

export type LineProblem = 'invalid-utf8' | 'too-long';

/**
 * Receives each line: `text` without its line end (LF or CRLF), or null with a `problem`.
 * `line` is the 1-based physical line number.
 */
export type LineSink = (line: number, text: string | null, problem?: LineProblem) => void;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into UTF-8 lines, chunk by chunk, without holding more than the current partial line.
 * Complete lines in a chunk are checked and decoded in one go (the common case); a line split across chunks is
 * joined once its end arrives. A line over `maxLineBytes` is dropped as it streams in and reported as 'too-long'.
 * A UTF-8 BOM at the start is stripped.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private overlong = false;
  private lineNo = 0;
  private started = false;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer, sink: LineSink): void {
    let start = 0;
    if (!this.started) {
      this.started = true;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) start = 3;
    }
    const first = chunk.indexOf(LF, start);
    if (first === -1) {
      this.carry(chunk, start, chunk.length);
      return;
    }
    if (this.partsBytes > 0 || this.overlong) {
      this.carry(chunk, start, first);
      this.flushCarried(sink);
      start = first + 1;
    }
    const last = chunk.lastIndexOf(LF);
    if (last >= start) this.emitRegion(chunk.subarray(start, last + 1), sink);
    this.carry(chunk, last + 1, chunk.length);
  }

  /** Call at the end of input: emits a last line that has no line end. */
  end(sink: LineSink): void {
    if (this.partsBytes > 0 || this.overlong) this.flushCarried(sink);
  }

  /** `region` holds whole lines, each ending with LF. */
  private emitRegion(region: Buffer, sink: LineSink): void {
    if (region.length <= this.maxLineBytes && isUtf8(region)) {
      // Fast path: decode once, split the string.
      const text = region.toString('utf8');
      let pos = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', pos)) {
        this.emitText(text, pos, nl, sink);
        pos = nl + 1;
      }
      return;
    }
    let pos = 0;
    for (let nl = region.indexOf(LF); nl !== -1; nl = region.indexOf(LF, pos)) {
      const bytes = nl - pos;
      if (bytes > this.maxLineBytes) sink(++this.lineNo, null, 'too-long');
      else this.emitBytes(region.subarray(pos, nl), sink);
      pos = nl + 1;
    }
  }

  private emitText(text: string, from: number, to: number, sink: LineSink): void {
    if (to > from && text.charCodeAt(to - 1) === CR) to--;
    let line = text.slice(from, to);
    if (++this.lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    sink(this.lineNo, line);
  }

  private emitBytes(bytes: Buffer, sink: LineSink): void {
    if (!isUtf8(bytes)) {
      sink(++this.lineNo, null, 'invalid-utf8');
      return;
    }
    const text = bytes.toString('utf8');
    this.emitText(text, 0, text.length, sink);
  }

  private carry(chunk: Buffer, from: number, to: number): void {
    if (to <= from || this.overlong) return;
    if (this.partsBytes + (to - from) > this.maxLineBytes) {
      this.overlong = true;
      this.parts = [];
      this.partsBytes = 0;
      return;
    }
    this.parts.push(chunk.subarray(from, to));
    this.partsBytes += to - from;
  }

  private flushCarried(sink: LineSink): void {
    if (this.overlong) {
      this.overlong = false;
      sink(++this.lineNo, null, 'too-long');
      return;
    }
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsBytes);
    this.parts = [];
    this.partsBytes = 0;
    this.emitBytes(bytes, sink);
  }
}
