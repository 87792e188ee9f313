/**
 * Large answers wait their turn. A /status answer of a few hundred KB (an image, a long completion) costs a
 * millisecond or more to parse and store; when dozens arrive in one turn of the event loop, a /run answer read in the
 * same turn would wait behind them all — and until its job id is committed, a kill -9 pays that row twice. So large
 * answers are parsed only when their turn comes: up to `charsPerTurn` of them (at least one) per turn of the event
 * loop (`setImmediate`), and every I/O callback ready in between, the /run answers among them, runs first. Small
 * answers never wait. The budget per turn keeps the lane draining as fast as answers arrive, so answers read off the
 * sockets do not pile up in memory while they wait (one 1.3 MB answer a turn held hundreds of MB of images).
 */
export class AnswerLane {
  private readonly waiting: Array<{ chars: number; go: () => void }> = [];
  private scheduled = false;

  constructor(private readonly charsPerTurn = CHARS_PER_TURN) {}

  /** Resolves when this answer (`chars` long) may be handled: after the answers before it, in a later turn. */
  turn(chars = 0): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push({ chars, go: resolve });
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
      // Their continuations (parse, then what the caller does with them) run in this turn's microtasks; the rest wait
      // for the next turn, after the poll phase has handled whatever I/O is ready.
      let spent = 0;
      while (this.waiting.length > 0 && (spent === 0 || spent + this.waiting[0]!.chars <= this.charsPerTurn)) {
        const next = this.waiting.shift()!;
        spent += Math.max(1, next.chars);
        next.go();
      }
      this.schedule();
    });
  }
}

/** Answers longer than this (characters) take a turn in the lane. */
export const LARGE_ANSWER_CHARS = 64 * 1024;

/** Characters of large answers handled per turn of the event loop: a few ms of parsing, at least one answer. */
export const CHARS_PER_TURN = 4 * 1024 * 1024;
