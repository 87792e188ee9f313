/** Long polls (/status-sync, /runsync) parked on a job until it ends, goes away, or their wait runs out. */
import type { JobState } from './job-state.js';
import type { Timers } from './timers.js';

export class TerminalWaiters {
  private readonly waiters = new Map<JobState, Set<() => void>>();

  constructor(private readonly timers: Timers) {}

  /** Resolve on notify(s) or after `ms` real ms, whichever comes first. */
  wait(s: JobState, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(s);
      if (!set) {
        set = new Set();
        this.waiters.set(s, set);
      }
      const waiting = set;
      const done = () => {
        cancel();
        waiting.delete(done);
        if (waiting.size === 0 && this.waiters.get(s) === waiting) this.waiters.delete(s);
        resolve();
      };
      const cancel = this.timers.after(ms, done);
      waiting.add(done);
    });
  }

  /** Release every wait on this job. */
  notify(s: JobState): void {
    const set = this.waiters.get(s);
    if (!set) return;
    this.waiters.delete(s);
    for (const done of [...set]) done();
  }

  /** Release every wait (close). */
  notifyAll(): void {
    for (const s of [...this.waiters.keys()]) this.notify(s);
  }
}
