/**
 * FIFO queue backed by an array and a head index: shift() on a 20,000-element array is O(n) per call.
 * Removal (cancel, purge) is lazy: the caller marks the item and `shift` skips items `isLive` rejects.
 */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** Next live item, or undefined. Dead items met on the way are dropped. */
  shift(isLive: (item: T) => boolean): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head++;
      if (isLive(item)) {
        this.compact();
        return item;
      }
    }
    this.compact();
    return undefined;
  }

  /** Live items from the head for as long as `cond` holds (the oldest first: stops at the first live one failing it). */
  countWhile(isLive: (item: T) => boolean, cond: (item: T) => boolean): number {
    let n = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (!isLive(item)) continue;
      if (!cond(item)) break;
      n++;
    }
    return n;
  }

  /** Remove every live item and return them (purge-queue). */
  drain(isLive: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (isLive(item)) out.push(item);
    }
    this.items = [];
    this.head = 0;
    return out;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
