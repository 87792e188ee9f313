import { billedSeconds } from '../core/billing.js';

/** --max-cost: the cap, the price, and what earlier runs spent. */
export interface Budget {
  maxUsd: number;
  pricePerSecond: number;
  /** Billed seconds of earlier runs. */
  spentSeconds: number;
  /** Billed seconds per job seen so far (mean), null when no job has finished yet: 1 s, RunPod's smallest bill, is assumed. */
  perJobSeconds: number | null;
}

/**
 * What the jobs that ended in this run were billed (core/billing.ts), and whether one more job in flight could pass
 * the budget. Pure: fed every terminal job's executionTime.
 */
export class BillMeter {
  /** Billed seconds of the jobs that ended in this run. */
  seconds = 0;
  /** Of those, the jobs that had an executionTime. */
  jobs = 0;

  constructor(readonly budget: Budget | null) {}

  bill(executionTime: number | null): void {
    const s = executionTime === null ? 0 : billedSeconds(executionTime);
    if (s === 0) return;
    this.seconds += s;
    this.jobs++;
  }

  /** Spent plus `inFlight + 1` jobs at the mean bill per job would pass --max-cost. */
  wouldPass(inFlight: number): boolean {
    const b = this.budget;
    if (!b) return false;
    const jobs = (b.perJobSeconds === null ? 0 : 1) + this.jobs;
    const perJob = jobs === 0 ? 1 : ((b.perJobSeconds ?? 0) + this.seconds) / Math.max(1, jobs);
    const projected = (b.spentSeconds + this.seconds + (inFlight + 1) * Math.max(1, perJob)) * b.pricePerSecond;
    return projected > b.maxUsd;
  }

  /** Why admission stopped, once it has. */
  reason(): string {
    const b = this.budget;
    if (!b) return '';
    const spent = (b.spentSeconds + this.seconds) * b.pricePerSecond;
    return `--max-cost $${b.maxUsd} reached: $${spent.toFixed(4)} spent, one more job would pass it; rerun with a higher --max-cost to continue`;
  }
}
