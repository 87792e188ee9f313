/**
 * Large answers wait their turn. A /status answer of a few hundred KB (an image, a long completion) costs a
 * millisecond or more to parse and store; when dozens arrive in one turn of the event loop, a /run answer read in the
 * same turn would wait behind them all — and until its job id is committed, a kill -9 pays that row twice. So a large
 * answer is parsed only when its turn comes: one per turn of the event loop (`setImmediate`), and every I/O callback
 * ready in between, the /run answers among them, runs first. Small answers never wait.
 */
export class AnswerLane {
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  /** Resolves when this answer may be handled: at once when the lane is idle, else after the answers before it. */
  turn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Answers waiting for their turn. */
  get length(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = this.waiting.shift();
      // Its continuation (parse, then what the caller does with it) runs in this turn's microtasks; the next waits
      // for the next turn, after the poll phase has handled whatever I/O is ready.
      next?.();
      this.schedule();
    });
  }
}

/** Answers longer than this (characters) take a turn in the lane. */
export const LARGE_ANSWER_CHARS = 64 * 1024;
