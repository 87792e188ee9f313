/**
 * Cold starts, estimated from the jobs (RunPod does not report them apart, only inside delayTime, mixed with queue
 * wait). With RunPod's workerId on the jobs, a worker's cold start shows in its first job: a first job that waited
 * WARM_FIRST_JOB_MS or more found its worker cold. Each such cold start is taken to last as long as the shortest of those
 * waits (the worker that started with no queue ahead of its job); the whole waits are the upper bound (they also hold
 * the queue wait before a worker was started, e.g. while an autoscaler waited to add it). Without workerIds, a job whose delayTime is above a threshold counts as one, and its delayTime
 * beyond the median as billed cold-start time — which a long queue wait inflates.
 */
import { isNum, round1, round6 } from '../../core/numbers.js';
import type { HealthSeen } from '../../core/records.js';
import { LatencyCollector, percentileOf } from '../percentiles.js';
import type { ReportJob, ReportModel } from './model-types.js';

/** Default cold start threshold: max(COLD_MIN_MS, COLD_MEDIAN_FACTOR × median delayTime). */
export const COLD_MIN_MS = 2000;
export const COLD_MEDIAN_FACTOR = 3;
/** A worker's first job that waited less than this found it warm (an active worker, or FlashBoot at its best). */
export const WARM_FIRST_JOB_MS = 500;
/** Workers followed one by one; past this many, the rest are left out of the first-job estimate (memory bound). */
export const MAX_WORKERS = 100_000;

/**
 * The billed cold-start time to report, seconds, and where it comes from. A first job's delayTime holds the worker's
 * boot and also the time the job waited before the worker was added — an autoscaler's own wait (RunPod's queue-delay
 * scaler adds a worker only once a job has waited its threshold, 4 s by default), which is not billed; when every
 * worker starts in one wave nothing in the jobs tells the two apart (bench/sizing.mjs, 0 → 10 workers with 3 s cold
 * starts: 79 s for 30 s). RunPod's /health counts the workers starting (`initializing`): summed over the auto-sizing
 * reads it is the boots themselves. So that sum is the estimate when the reads saw any worker starting, or the jobs
 * show no cold start; otherwise (no /health read, an endpoint that never reports `initializing`, or a batch with a run
 * whose jobs no read watched: a fixed --concurrency) the jobs' estimate.
 * Pure.
 */
export function coldStartSeconds(
  fromJobs: { seconds: number; count: number },
  seen: HealthSeen | null,
): { seconds: number; from: 'health' | 'jobs' } {
  if (seen && !seen.unwatched && seen.reads >= 2 && (seen.initializingMs > 0 || fromJobs.count === 0)) {
    return { seconds: round1(seen.initializingMs / 1000), from: 'health' };
  }
  return { seconds: fromJobs.seconds, from: 'jobs' };
}

/** Accumulates the jobs' delayTimes (and each worker's first job); `result` estimates the cold starts among them. */
export class ColdStarts {
  private readonly delays = new LatencyCollector();
  /** workerId → the delayTime of its first job (by start: submittedAt + delayTime) and that start. */
  private readonly first = new Map<string, { start: number; delay: number }>();
  /** Jobs with a workerId. */
  private withWorker = 0;

  add(j: ReportJob): void {
    if (!isNum(j.delayTime)) return;
    this.delays.push(j.delayTime);
    if (typeof j.workerId !== 'string' || j.workerId === '' || !isNum(j.submittedAt)) return;
    this.withWorker++;
    const start = j.submittedAt + j.delayTime;
    const f = this.first.get(j.workerId);
    if (f ? start < f.start : this.first.size < MAX_WORKERS) this.first.set(j.workerId, { start, delay: j.delayTime });
  }

  /**
   * `thresholdMs`: the threshold given, if any (else the default above); `seen`: what the runs' /health reads saw
   * (coldStartSeconds). Call once, when every job was added.
   */
  result(thresholdMs: number | undefined, price: number | null, seen: HealthSeen | null = null): ReportModel['coldStarts'] {
    const jd = this.delays.sorted();
    const medianDelay = jd.count > 0 ? percentileOf(jd, 50) : null;
    const thresholdGiven = isNum(thresholdMs);
    const threshold = thresholdGiven ? thresholdMs! : Math.max(COLD_MIN_MS, COLD_MEDIAN_FACTOR * (medianDelay ?? 0));
    const byWorker = !thresholdGiven && this.first.size > 0 && this.withWorker === jd.count;
    let coldCount = 0;
    let coldEstimate = 0;
    let coldTotal = 0;
    let shortest: number | null = null;
    if (byWorker) {
      for (const { delay } of this.first.values()) {
        if (delay < WARM_FIRST_JOB_MS) continue;
        coldCount++;
        coldTotal += delay;
        shortest = shortest === null ? delay : Math.min(shortest, delay);
      }
      coldEstimate = coldCount * (shortest ?? 0);
    } else {
      jd.forEach((v, times) => {
        if (v <= threshold) return;
        coldCount += times;
        coldTotal += v * times;
        coldEstimate += (v - (medianDelay ?? 0)) * times;
      });
    }
    const est = coldStartSeconds({ seconds: round1(coldEstimate / 1000), count: coldCount }, seen);
    const estimated = est.seconds;
    return {
      method: byWorker ? 'first-job' : 'threshold',
      workers: byWorker ? this.first.size : null,
      shortestColdMs: shortest,
      thresholdMs: threshold,
      thresholdGiven,
      jobsWithDelay: jd.count,
      count: coldCount,
      share: jd.count > 0 ? coldCount / jd.count : 0,
      medianDelayMs: medianDelay,
      estimatedBilledSeconds: estimated,
      estimateFrom: est.from,
      healthReads: seen?.reads ?? 0,
      upperBoundSeconds: round1(coldTotal / 1000),
      estimatedCostUsd: price === null ? null : round6(estimated * price),
    };
  }
}
