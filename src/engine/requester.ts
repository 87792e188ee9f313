import { DEFAULTS } from '../core/defaults.js';
import { RunpodBatchError } from '../core/errors.js';
import type { OpCounters } from '../core/records.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { classify, RequestFailed, type Verdict } from './classify.js';
import { sleep, type Clock } from './clock.js';
import { OpGate } from './op-gate.js';
import { DEFAULT_RATE_POLICY, RateController, type RatePolicy } from './rate-controller.js';

/** The two paced operations: /run, and the status calls (/status and /status-sync). */
export type PacedOp = 'run' | 'status';

export interface RequesterOptions {
  backoff?: BackoffPolicy;
  /** Transient failures in a row (5xx, resets, timeouts; 429s excluded) after which the run gives up. @default 25 */
  maxConsecutiveFailures?: number;
  /** Pacing after 429s. */
  rate?: RatePolicy;
  /**
   * Before any request has been answered, how long a server that cannot be reached at all (refused connection,
   * unknown host) is tried before the run stops: a wrong port or URL fails in seconds, not after 25 backoffs. @default 30000
   */
  unreachableMs?: number;
}

/** The transient failures being retried right now, for the progress line ("retrying: ECONNREFUSED 3/25"). */
export interface Retrying {
  /** Short cause of the latest one. */
  label: string;
  /** Transient failures in a row, and after how many the run stops. */
  count: number;
  of: number;
}

/**
 * Pauses after a 429 without Retry-After: short and capped at 2 s. A rate window frees at a moment the client is not
 * told; probing every 2 s at most finds it soon after (a few 429s per window), where a 30 s cap could skip a window.
 */
const RATE_LIMIT_BACKOFF: BackoffPolicy = { baseMs: 250, factor: 2, maxMs: 2000, maxRetryAfterMs: 120_000, jitter: 0.2 };

/**
 * Failures on a stale kept-alive socket (closed by the server while our event loop was busy; before any byte of an
 * answer: runpod/stale-socket.ts) one request retries at once without counting them toward maxConsecutiveFailures.
 * After a stall several pooled sockets can be stale at once, so more than one; past this many they count as any
 * transient failure, so a server that closes every reused socket still ends the run.
 */
export const STALE_SOCKET_RETRIES = 4;

/**
 * One logical request with retries: transient failures back off exponentially with jitter (Retry-After wins);
 * a 429 pauses every request of that operation and lowers its pace (rate-controller.ts). Until one request has
 * succeeded, requests go one at a time (the probe): a bad key or endpoint costs one request, not `concurrency` of
 * them. Throws a RequestFailed, carrying its verdict, when it will not retry.
 */
export class Requester {
  /** Requests per operation name (run, status, status-sync), for stats.json. */
  readonly ops: Record<string, OpCounters> = {};
  private readonly gates: Record<PacedOp, OpGate>;
  private readonly pace: Record<PacedOp, RateController>;
  /** 429 bursts in a row per operation: each one escalates the pause. */
  private readonly strikes = { run: 0, status: 0 };
  private consecutiveFailures = 0;
  private lastLabel = '';
  /** Some request has succeeded (the key and endpoint work). */
  private confirmed = false;
  /** Since when, before any answer, the server could not be reached (-1: it could, or no attempt failed so). */
  private unreachableSince = -1;
  private readonly unreachableMs: number;
  private probe: { done: Promise<void>; release: () => void } | undefined;
  private readonly backoff: BackoffPolicy;
  readonly maxConsecutiveFailures: number;

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    o: RequesterOptions = {},
  ) {
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.maxConsecutiveFailures = o.maxConsecutiveFailures ?? 25;
    this.unreachableMs = o.unreachableMs ?? DEFAULTS.unreachableMs;
    const now = () => clock.now();
    this.gates = { run: new OpGate(clock, random), status: new OpGate(clock, random) };
    const rate = o.rate ?? DEFAULT_RATE_POLICY;
    this.pace = { run: new RateController(now, rate), status: new RateController(now, rate) };
  }

  /** Why requests wait now, when they do (e.g. "429 on /run"), with ms left. */
  paused(): { op: PacedOp; reason: string; ms: number } | null {
    let paused: { op: PacedOp; reason: string; ms: number } | null = null;
    for (const op of ['run', 'status'] as const) {
      const ms = this.gates[op].pausedFor();
      if (ms > 0) paused = { op, reason: this.gates[op].reason, ms };
    }
    return paused;
  }

  /** Transient failures retried right now (none since the last success: null). */
  retrying(): Retrying | null {
    return this.consecutiveFailures > 0
      ? { label: this.lastLabel, count: this.consecutiveFailures, of: this.maxConsecutiveFailures }
      : null;
  }

  /** /run requests per second the run paces itself to after 429s; null while unpaced. */
  runRate(): number | null {
    const r = this.pace.run.rate;
    return r === Infinity ? null : r;
  }

  async request<T>(op: PacedOp, name: string, fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const c = this.count(name);
    const gate = this.gates[op];
    const pace = this.pace[op];
    const aborted = (err: unknown) => new RequestFailed({ kind: 'aborted' }, err);
    let probe = false;
    while (!this.confirmed && this.probe) await this.probe.done;
    if (signal.aborted) throw aborted(new RunpodBatchError('RPB_ABORTED', 'aborted'));
    if (!this.confirmed) {
      let release!: () => void;
      this.probe = { done: new Promise<void>((r) => (release = r)), release };
      probe = true;
    }
    let staleRetries = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        // Most requests find the gate open and no pace set: they go without a wait (or an await).
        if (gate.pausedFor() > 0 || pace.rate !== Infinity) {
          try {
            await gate.ready(signal);
            const wait = pace.reserve();
            if (wait > 0) await sleep(wait, signal, this.clock);
          } catch (err) {
            throw aborted(err);
          }
        }
        c.requests++;
        const sentAt = this.clock.now();
        try {
          const out = await fn(signal);
          this.consecutiveFailures = 0;
          this.unreachableSince = -1;
          this.strikes[op] = 0;
          this.confirmed = true;
          pace.onSuccess();
          return out;
        } catch (err) {
          const v: Verdict = signal.aborted ? { kind: 'aborted' } : classify(op, err);
          // Any answer at all (an HTTP error too) shows the server is there.
          if (v.kind !== 'retry' || !v.unreachable) this.unreachableSince = -1;
          if (v.kind !== 'retry') {
            if (v.kind !== 'aborted' && v.kind !== 'lost') c.errors++;
            if (v.kind === 'lost') this.confirmed = true;
            throw new RequestFailed(v, err);
          }
          c.errors++;
          c.retries++;
          if (v.staleSocket && staleRetries < STALE_SOCKET_RETRIES) {
            // A socket the server had closed: the next one is fresh. At once, and not a failure of the server.
            staleRetries++;
            attempt--;
            continue;
          }
          if (v.rateLimited) {
            c.rateLimited++;
            pace.onRateLimited(v.retryAfterMs);
            // Requests sent before the latest pause began are the same burst: one burst escalates the backoff once.
            if (sentAt >= gate.pausedAt || v.retryAfterMs !== undefined) {
              if (sentAt >= gate.pausedAt) this.strikes[op]++;
              gate.pause(backoffDelay(Math.max(1, this.strikes[op]), v.retryAfterMs, RATE_LIMIT_BACKOFF, this.random), `429 on /${name}`);
            }
            continue;
          }
          this.lastLabel = v.label;
          if (++this.consecutiveFailures >= this.maxConsecutiveFailures) throw new RequestFailed(v, err);
          let wait = backoffDelay(attempt, v.retryAfterMs, this.backoff, this.random);
          if (v.unreachable && !this.confirmed) {
            const now = this.clock.now();
            if (this.unreachableSince < 0) this.unreachableSince = now;
            const left = this.unreachableSince + this.unreachableMs - now;
            if (left <= 0) throw new RequestFailed(unreachable(v, this.unreachableMs), err);
            wait = Math.min(wait, left);
          }
          try {
            await sleep(wait, signal, this.clock);
          } catch (e) {
            throw aborted(e);
          }
        }
      }
    } finally {
      if (probe) {
        const p = this.probe;
        this.probe = undefined;
        p?.release();
      }
    }
  }

  /**
   * One attempt of a side call (/health): counted in the ops like any request, but never retried, paced or probed,
   * and its failures do not count towards giving up — the batch does not depend on it.
   */
  async once<T>(name: string, fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const c = this.count(name);
    c.requests++;
    try {
      return await fn(signal);
    } catch (err) {
      if (!signal.aborted) c.errors++;
      throw err;
    }
  }

  private count(op: string): OpCounters {
    this.ops[op] ??= { requests: 0, rateLimited: 0, retries: 0, errors: 0 };
    return this.ops[op];
  }
}

/** The run stops: nothing ever answered at the URL. */
function unreachable(v: Extract<Verdict, { kind: 'retry' }>, ms: number): Verdict {
  return {
    kind: 'fatal',
    code: 'RPB_NETWORK',
    message: `cannot reach the server: ${v.reason} (no answer in ${Math.round(ms / 1000)} s); check --base-url and that the server runs`,
  };
}
