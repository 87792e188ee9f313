/**
 * A RunPod endpoint simulated in discrete time, for the sizing controller's table tests: a FIFO queue, workers with a
 * cold start and an idle timeout, RunPod's two scalers (queue delay, request count), and /health as it would answer.
 * No timers and no I/O: a loop over time steps, so a 10-minute batch runs in milliseconds.
 */
import type { AutoSizer, HealthSample } from '../../src/engine/sizing.js';

export type Scaler = { kind: 'fixed' } | { kind: 'queue-delay'; valueMs: number } | { kind: 'request-count'; value: number };

export interface SimEndpoint {
  minWorkers: number;
  maxWorkers: number;
  /** Workers running from the start, warm (the fixed endpoints). */
  warm: number;
  coldMs: number;
  idleTimeoutMs: number;
  scaler: Scaler;
  /** Execution time of job i, ms. */
  jobMs: (i: number) => number;
}

export interface SimResult {
  makespanMs: number;
  /** Σ executionTime / max workers (+ one cold start when the endpoint starts cold). */
  idealMs: number;
  /** The deepest the endpoint's queue got. */
  maxQueue: number;
  /**
   * The deepest it was from a minute after the worker count last grew until the client had submitted every job (the
   * steady state); null when that window is empty.
   */
  settledQueue: number | null;
  /** Workers at the end of growth. */
  peakWorkers: number;
  healthCalls: number;
}

interface Worker {
  readyAt: number;
  busyUntil: number;
  idleSince: number;
}

/** Runs `jobs` jobs through the endpoint with the client keeping `sizer`'s target in flight. */
export function simulate(ep: SimEndpoint, jobs: number, sizer: AutoSizer, o: { healthEveryMs?: number; dtMs?: number } = {}): SimResult {
  const dt = o.dtMs ?? 50;
  const healthEvery = o.healthEveryMs ?? 3000;
  const workers: Worker[] = [];
  for (let i = 0; i < ep.warm; i++) workers.push({ readyAt: 0, busyUntil: 0, idleSince: 0 });
  const queue: number[] = []; // submit times, FIFO
  let next = 0;
  let done = 0;
  let inFlight = 0;
  let t = 0;
  let nextHealth = 0;
  let nextScale = 0;
  let healthCalls = 0;
  let maxQueue = 0;
  let peakWorkers = workers.length;
  let totalExec = 0;
  let grewAt = 0;
  let allSubmittedAt = -1;
  const queueAt: { t: number; q: number }[] = [];
  const running = new Map<Worker, number>(); // worker → job end
  for (let i = 0; i < jobs; i++) totalExec += ep.jobMs(i);
  let target = sizer.current().target;
  while (done < jobs) {
    // The client tops up to its target.
    while (inFlight < target && next < jobs) {
      queue.push(t);
      next++;
      inFlight++;
    }
    // Jobs that end.
    for (const [w, end] of running) {
      if (end <= t) {
        running.delete(w);
        w.idleSince = end;
        done++;
        inFlight--;
      }
    }
    // Ready workers take jobs (FIFO).
    let started = 0;
    for (const w of workers) {
      if (queue.length === 0) break;
      if (w.readyAt <= t && !running.has(w)) {
        queue.shift();
        running.set(w, t + ep.jobMs(done + running.size + started));
        started++;
      }
    }
    // Idle workers stop after the idle timeout (down to the minimum).
    for (let i = workers.length - 1; i >= 0 && workers.length > ep.minWorkers; i--) {
      const w = workers[i]!;
      if (w.readyAt <= t && !running.has(w) && t - Math.max(w.idleSince, w.readyAt) >= ep.idleTimeoutMs) workers.splice(i, 1);
    }
    // The scaler, once a second.
    if (t >= nextScale && ep.scaler.kind !== 'fixed') {
      nextScale = t + 1000;
      if (ep.scaler.kind === 'queue-delay') {
        // A worker for each job that has waited past the threshold, beyond the workers already starting.
        let waiting = 0;
        while (waiting < queue.length && t - queue[waiting]! > ep.scaler.valueMs) waiting++;
        const starting = workers.filter((w) => w.readyAt > t).length;
        for (let k = Math.max(0, waiting - starting); k > 0 && workers.length < ep.maxWorkers; k--)
          workers.push({ readyAt: t + ep.coldMs, busyUntil: 0, idleSince: t + ep.coldMs });
      } else {
        const want = Math.min(ep.maxWorkers, Math.max(ep.minWorkers, Math.ceil((queue.length + running.size) / ep.scaler.value)));
        while (workers.length < want) workers.push({ readyAt: t + ep.coldMs, busyUntil: 0, idleSince: t + ep.coldMs });
      }
    }
    if (workers.length > peakWorkers) grewAt = t;
    peakWorkers = Math.max(peakWorkers, workers.length);
    if (next === jobs && allSubmittedAt < 0) allSubmittedAt = t;
    maxQueue = Math.max(maxQueue, queue.length);
    queueAt.push({ t, q: queue.length });
    // /health, as the scheduler would poll it.
    if (t >= nextHealth) {
      nextHealth = t + healthEvery;
      healthCalls++;
      let idle = 0;
      let initializing = 0;
      for (const w of workers) {
        if (w.readyAt > t) initializing++;
        else if (!running.has(w)) idle++;
      }
      const h: HealthSample = {
        at: t,
        idle,
        running: running.size,
        initializing,
        throttled: 0,
        inQueue: queue.length,
        inProgress: running.size,
      };
      target = sizer.observe(h, inFlight).target;
    }
    t += dt;
  }
  const cold = ep.warm >= ep.maxWorkers ? 0 : ep.coldMs;
  const steady = queueAt.filter((x) => x.t >= grewAt + 60_000 && x.t <= allSubmittedAt);
  return {
    makespanMs: t,
    idealMs: totalExec / ep.maxWorkers + cold,
    maxQueue,
    settledQueue: steady.length > 0 ? steady.reduce((m, x) => Math.max(m, x.q), 0) : null,
    peakWorkers,
    healthCalls,
  };
}

/** Deterministic job times in [min, max) ms (mulberry32). */
export function jobTimes(min: number, max: number, seed = 1): (i: number) => number {
  const cache: number[] = [];
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return (i) => {
    while (cache.length <= i) cache.push(min + rnd() * (max - min));
    return cache[i]!;
  };
}
