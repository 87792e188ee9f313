/**
 * The scheduler's side of auto-sizing: reads /health every few seconds (one attempt each, counted as `health`),
 * lets the AutoSizer (sizing.ts) decide, and hands the target over. An endpoint that serves no /health (404) gets a
 * fixed size, as before auto-sizing.
 */
import { DEFAULTS } from '../core/defaults.js';
import { HttpError } from '../core/errors.js';
import type { HealthResponse } from '../core/wire.js';
import type { CancelTimer, Clock } from './clock.js';
import type { Requester } from './requester.js';
import type { HealthSeen } from '../core/records.js';
import { AutoSizer, DEFAULT_SIZING, type HealthSample, initializingMsBetween, type SizingDecision, type SizingPolicy } from './sizing.js';

export interface SizingLoopDeps {
  clock: Clock;
  requester: Requester;
  health: (opts: { signal: AbortSignal }) => Promise<HealthResponse>;
  signal: AbortSignal;
  /** Jobs RunPod accepted and that have not ended. */
  inFlight: () => number;
  /** A /health read, before the sizer decides. */
  onSample?: (h: HealthSample) => void;
  /** The target changed. */
  onTarget: (target: number) => void;
  /** The run has ended or is stopping: no more reads. */
  over: () => boolean;
}

export class SizingLoop {
  private sizer: AutoSizer | null;
  private decision: SizingDecision;
  private timer: CancelTimer | undefined;
  /** The latest /health answer, for the poll plan (the worker count); null before the first. */
  lastSample: HealthSample | null = null;
  /** Workers seen starting in this run's reads (cold starts, for the report). */
  readonly seen: HealthSeen = { initializingMs: 0, reads: 0 };

  constructor(
    private readonly d: SizingLoopDeps,
    private readonly cap: number,
    policy: Partial<SizingPolicy>,
    private readonly everyMs = 3000,
  ) {
    this.sizer = new AutoSizer({ ...DEFAULT_SIZING, max: cap, ...policy });
    this.decision = this.sizer.current();
  }

  get current(): SizingDecision {
    return this.decision;
  }

  start(): void {
    void this.read();
  }

  stop(): void {
    this.timer?.();
  }

  private async read(): Promise<void> {
    if (this.d.over() || !this.sizer) return;
    try {
      const h = await this.d.requester.once('health', (signal) => this.d.health({ signal }), this.d.signal);
      if (this.d.over() || !this.sizer) return;
      const w = h.workers;
      const prev = this.lastSample;
      this.lastSample = {
        at: this.d.clock.now(),
        idle: w.idle ?? 0,
        running: w.running ?? 0,
        initializing: w.initializing ?? 0,
        throttled: w.throttled ?? 0,
        inQueue: h.jobs?.inQueue ?? 0,
        inProgress: h.jobs?.inProgress ?? 0,
      };
      this.seen.initializingMs += initializingMsBetween(prev, this.lastSample);
      this.seen.reads++;
      this.d.onSample?.(this.lastSample);
      this.decision = this.sizer.observe(this.lastSample, this.d.inFlight());
      this.d.onTarget(this.decision.target);
    } catch (err) {
      if (this.d.over()) return;
      if (err instanceof HttpError && err.status === 404) {
        this.sizer = null;
        const target = Math.min(this.cap, DEFAULTS.concurrency);
        this.decision = { target, mode: 'holding', reason: `fixed: the endpoint serves no /health (${target} in flight)` };
        this.d.onTarget(target);
        return;
      }
      // Any other failure: keep the target, look again next time.
    }
    this.timer = this.d.clock.setTimer(() => void this.read(), this.everyMs);
  }
}
