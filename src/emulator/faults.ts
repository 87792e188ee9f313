/**
 * Fault injection. Request faults are decided per HTTP request, in the order reset, slow, 500, 502,
 * rate limit; job faults (lost, fail-first-attempt, timed-out, empty output, error output) are decided once per /run.
 * RUNPOD_API.md: 5xx and dropped connections happen, 429 may come with or without Retry-After,
 * and no idempotency key exists — the engine must survive all of these.
 */
import { deriveRng, type Rng } from './rng.js';
import type { EmulatorOp, EmulatorStats, FaultOptions, RateLimitedOp } from './types.js';

export type RequestFault = { kind: 'reset' } | { kind: 'http500' } | { kind: 'http502' } | { kind: 'rate-limited'; retryAfterSec?: number };

export interface RequestDecision {
  fault?: RequestFault;
  /** Real ms to hold the answer back (0 = none). */
  slowMs: number;
}

export interface JobFaults {
  lost: boolean;
  planned?: PlannedFault;
}

/** A job fault decided at /run, for the first attempt of an input. */
export type PlannedFault = 'fail' | 'timedOut' | 'emptyOutput' | 'errorOutput';

export const DEFAULT_SLOW_MS = 10_000;

/** RUNPOD_API.md: /status-sync and /stream share the /status limits. */
function limitKey(op: EmulatorOp): RateLimitedOp | undefined {
  switch (op) {
    case 'status-sync':
    case 'stream':
      return 'status';
    case 'unknown':
      return undefined;
    default:
      return op;
  }
}

export class FaultInjector {
  private opts: FaultOptions = {};
  private readonly requestRng: Rng;
  private readonly jobRng: Rng;
  private windows = new Map<RateLimitedOp, { start: number; count: number }>();

  constructor(
    seed: number,
    private readonly stats: EmulatorStats,
    faults: FaultOptions = {},
  ) {
    this.requestRng = deriveRng(seed, 'request-faults');
    this.jobRng = deriveRng(seed, 'job-faults');
    this.set(faults);
  }

  set(faults: FaultOptions): void {
    this.opts = { ...faults, rateLimits: { ...faults.rateLimits } };
    this.windows = new Map();
  }

  private roll(fraction: number | undefined): boolean {
    return fraction !== undefined && fraction > 0 && this.requestRng() < fraction;
  }

  decideRequest(op: EmulatorOp, now: number): RequestDecision {
    const o = this.opts;
    if (this.roll(o.reset)) {
      this.stats.faults.reset++;
      return { fault: { kind: 'reset' }, slowMs: 0 };
    }
    let slowMs = 0;
    if (this.roll(o.slow)) {
      this.stats.faults.slow++;
      slowMs = o.slowMs ?? DEFAULT_SLOW_MS;
    }
    if (this.roll(o.http500)) {
      this.stats.faults.http500++;
      return { fault: { kind: 'http500' }, slowMs };
    }
    if (this.roll(o.http502)) {
      this.stats.faults.http502++;
      return { fault: { kind: 'http502' }, slowMs };
    }
    const key = limitKey(op);
    const rule = key && o.rateLimits?.[key];
    if (key && rule && rule.limit >= 0 && rule.windowMs > 0) {
      let w = this.windows.get(key);
      if (!w || now - w.start >= rule.windowMs) {
        w = { start: now, count: 0 };
        this.windows.set(key, w);
      }
      if (w.count >= rule.limit) {
        this.stats.rateLimited[op] = (this.stats.rateLimited[op] ?? 0) + 1;
        const fault: RequestFault = { kind: 'rate-limited' };
        if (rule.retryAfter) fault.retryAfterSec = Math.max(1, Math.ceil((w.start + rule.windowMs - now) / 1000));
        return { fault, slowMs };
      }
      w.count++; // a 429 does not use up the window
    }
    return { slowMs };
  }

  /**
   * Job faults, decided at /run. `firstSubmission` = no job with this input was created before:
   * fail/timed-out hit the first attempt of an input only, so a resubmission (or /retry) succeeds.
   */
  decideJob(firstSubmission: boolean, allowLost: boolean): JobFaults {
    const o = this.opts;
    const rng = this.jobRng;
    const lost = allowLost && (o.lostJobs ?? 0) > 0 && rng() < (o.lostJobs ?? 0);
    if (!firstSubmission) return { lost };
    if ((o.failFirstAttempt ?? 0) > 0 && rng() < (o.failFirstAttempt ?? 0)) return { lost, planned: 'fail' };
    if ((o.timedOut ?? 0) > 0 && rng() < (o.timedOut ?? 0)) return { lost, planned: 'timedOut' };
    if ((o.emptyOutput ?? 0) > 0 && rng() < (o.emptyOutput ?? 0)) return { lost, planned: 'emptyOutput' };
    if ((o.errorOutput ?? 0) > 0 && rng() < (o.errorOutput ?? 0)) return { lost, planned: 'errorOutput' };
    return { lost };
  }
}
