import type { WorkRow } from '../core/records.js';
import type { SchedulerStore } from './ports.js';

/** Rows read from the store at a time: small enough that a page's rows do not outlive a young-generation GC. */
const PAGE = 128;

/**
 * The rows waiting to be admitted, in input order: PENDING rows paged from the store (never the whole file in
 * memory), and in front of them the rows of this run that must run again.
 */
export class RowQueue {
  /** Rows that lost their job in this run after the page cursor passed them. */
  private readonly again: WorkRow[] = [];
  /** The page being admitted; a slot is cleared when its row is taken, so a finished row is not kept alive by it. */
  private page: (WorkRow | undefined)[] = [];
  private pageAt = 0;
  /** seq of the last row paged in. */
  private cursor = -1;
  private exhausted = false;

  constructor(
    private readonly store: Pick<SchedulerStore, 'pendingPage'>,
    private readonly gen: number,
    /** Rows at this position of the input or later are not admitted (a sample of the first rows). */
    private readonly belowSeq = Infinity,
  ) {}

  /** The next row to admit, or undefined when none waits. */
  next(): WorkRow | undefined {
    const r = this.again.shift();
    if (r) return r;
    if (this.pageAt >= this.page.length) {
      if (this.exhausted) return undefined;
      this.page = this.store.pendingPage(this.gen, this.cursor, PAGE);
      this.pageAt = 0;
      const last = this.page[this.page.length - 1];
      if (last === undefined) {
        this.exhausted = true;
        return undefined;
      }
      this.cursor = last.seq;
    }
    const row = this.page[this.pageAt];
    if (row !== undefined && row.seq >= this.belowSeq) {
      this.exhausted = true;
      this.page = [];
      this.pageAt = 0;
      return undefined;
    }
    this.page[this.pageAt++] = undefined;
    return row;
  }

  /** A row goes back to be run again: now if the page cursor passed it, else a later page brings it. */
  requeue(row: WorkRow): void {
    if (row.seq <= this.cursor || this.exhausted) this.again.push(row);
  }

  /** A row taken but not admitted: first in line next time. */
  putBack(row: WorkRow): void {
    this.again.unshift(row);
  }

  /** No row waits, and the store has none left. */
  get empty(): boolean {
    return this.exhausted && this.again.length === 0 && this.pageAt >= this.page.length;
  }
}
