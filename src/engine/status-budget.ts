/**
 * The fleet-wide budget of planned /status polls. Pure (times are passed in). RunPod allows 2,000 /status calls
 * (/status-sync and /stream included) per 10 s and 400 at once per endpoint, growing with running workers: max(base,
 * running × per-worker share), +400 per worker in the old docs (RUNPOD_API.md "Limits"). With thousands of jobs in
 * flight (a resumed run re-attaches them all at once) the planned polls could pass that, and each 429 pauses every
 * status call. So each poll takes a slot first: a generic cell rate algorithm (GCRA) that lets `burst` polls through
 * at once and then spaces them evenly, so no 10 s window holds more than `share × limit`. A poll over the budget is
 * delayed to its slot, never dropped; slots go out in the order polls asked for them.
 */
export interface StatusBudgetPolicy {
  /** RunPod's /status calls per window. @default 2000 */
  limit: number;
  /** @default 10_000 */
  windowMs: number;
  /** Added to the limit per running worker (old docs: 400). 0: the base limit only. @default 400 */
  perWorker: number;
  /** The share of the limit planned polls may use (the rest is slack for clocks that disagree and other clients). @default 0.9 */
  share: number;
  /** Polls that may go at once before spacing starts, as a share of the budget per window. @default 0.1 */
  burstShare: number;
  /** Status calls open at once, long polls included (RunPod: 400). @default 360 */
  maxOpen: number;
  /**
   * Short polls open at once. A wave of jobs ending together would otherwise open a new connection per poll (idle
   * ones close after a few seconds), which costs more than waiting a round trip for a warm one: on a loaded 2-core
   * machine, a wave of 100 10 s jobs saw ~4 s of detection delay with 100 at once, ~0.1 s with 32. It bounds planned
   * polls to 32 per round trip (~320/s at 100 ms), above RunPod's base /status budget (180/s here). @default 32
   */
  shortAtOnce: number;
}

export const DEFAULT_STATUS_BUDGET: Readonly<StatusBudgetPolicy> = {
  limit: 2000,
  windowMs: 10_000,
  perWorker: 400,
  share: 0.9,
  burstShare: 0.1,
  maxOpen: 360,
  shortAtOnce: 32,
};

export class StatusBudget {
  /** GCRA's theoretical arrival time: when the budget would be back to empty. */
  private tat = -Infinity;
  private workers = 0;

  constructor(readonly policy: StatusBudgetPolicy = DEFAULT_STATUS_BUDGET) {}

  /** Running workers (from /health): the limit grows with them. */
  setWorkers(running: number): void {
    this.workers = Math.max(0, running);
  }

  /** Polls allowed per window now. */
  get perWindow(): number {
    const p = this.policy;
    return Math.max(1, Math.floor(p.share * Math.max(p.limit, this.workers * p.perWorker)));
  }

  /**
   * Takes the next slot for a poll wanted at `now`: ms to wait before sending it (0: at once). Within any window of
   * `windowMs`, at most `perWindow` slots are given.
   */
  reserve(now: number): number {
    const n = this.perWindow;
    const burst = Math.max(1, Math.floor(n * this.policy.burstShare));
    const interval = this.policy.windowMs / Math.max(1, n - burst);
    const tolerance = (burst - 1) * interval;
    const sendAt = Math.max(now, this.tat - tolerance);
    this.tat = Math.max(this.tat, sendAt) + interval;
    // Sums of intervals drift by a few ulps: a wait under a microsecond is no wait.
    return sendAt - now < 1e-6 ? 0 : sendAt - now;
  }
}
