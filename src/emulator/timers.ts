/**
 * Every timer the emulator starts goes through here, so close() can clear them all: a forgotten timer
 * would keep a test process alive or fire into a closed server. Work timers (execution, cold start,
 * long polls, slow answers) stay ref'd like the sockets they serve — so a test proves close() cleared
 * them by the process exiting; only the housekeeping interval is unref'd.
 */
export type Cancel = () => void;

export class Timers {
  private readonly timeouts = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private closed = false;

  /** Run fn after ms real milliseconds; ms <= 0 runs on the next turn of the event loop (setImmediate). */
  after(ms: number, fn: () => void): Cancel {
    if (this.closed) return noop;
    if (!(ms > 0)) {
      const im = setImmediate(() => {
        this.immediates.delete(im);
        fn();
      });
      this.immediates.add(im);
      return () => {
        clearImmediate(im);
        this.immediates.delete(im);
      };
    }
    const t = setTimeout(() => {
      this.timeouts.delete(t);
      fn();
    }, ms);
    this.timeouts.add(t);
    return () => {
      clearTimeout(t);
      this.timeouts.delete(t);
    };
  }

  /** A repeating timer (housekeeping). */
  every(ms: number, fn: () => void): Cancel {
    if (this.closed) return noop;
    const t = setInterval(fn, ms);
    t.unref();
    this.timeouts.add(t);
    return () => {
      clearInterval(t);
      this.timeouts.delete(t);
    };
  }

  get size(): number {
    return this.timeouts.size + this.immediates.size;
  }

  clearAll(): void {
    this.closed = true;
    for (const t of this.timeouts) clearTimeout(t); // clearTimeout also clears intervals
    for (const im of this.immediates) clearImmediate(im);
    this.timeouts.clear();
    this.immediates.clear();
  }
}

function noop(): void {}
