/**
 * Cold starts, estimated from the delayTime of every job (RunPod does not report them apart): a job whose delayTime is
 * above a threshold counts as one, and its delayTime beyond the median as billed cold-start time.
 */
import { isNum, round1, round6 } from '../../core/numbers.js';
import { LatencyCollector, percentileOf } from '../percentiles.js';
import type { ReportJob, ReportModel } from './model-types.js';

/** Default cold start threshold: max(COLD_MIN_MS, COLD_MEDIAN_FACTOR × median delayTime). */
export const COLD_MIN_MS = 2000;
export const COLD_MEDIAN_FACTOR = 3;

/** Accumulates the jobs' delayTimes; `result` estimates the cold starts among them. */
export class ColdStarts {
  private readonly delays = new LatencyCollector();

  add(j: ReportJob): void {
    if (isNum(j.delayTime)) this.delays.push(j.delayTime);
  }

  /** `thresholdMs`: the threshold given, if any (else the default above); call once, when every job was added. */
  result(thresholdMs: number | undefined, price: number | null): ReportModel['coldStarts'] {
    const jd = this.delays.sorted();
    const medianDelay = jd.count > 0 ? percentileOf(jd, 50) : null;
    const thresholdGiven = isNum(thresholdMs);
    const threshold = thresholdGiven ? thresholdMs! : Math.max(COLD_MIN_MS, COLD_MEDIAN_FACTOR * (medianDelay ?? 0));
    let coldCount = 0;
    let coldExcess = 0;
    let coldTotal = 0;
    jd.forEach((v, times) => {
      if (v <= threshold) return;
      coldCount += times;
      coldTotal += v * times;
      coldExcess += (v - (medianDelay ?? 0)) * times;
    });
    const coldEstimated = round1(coldExcess / 1000);
    return {
      thresholdMs: threshold,
      thresholdGiven,
      jobsWithDelay: jd.count,
      count: coldCount,
      share: jd.count > 0 ? coldCount / jd.count : 0,
      medianDelayMs: medianDelay,
      estimatedBilledSeconds: coldEstimated,
      upperBoundSeconds: round1(coldTotal / 1000),
      estimatedCostUsd: price === null ? null : round6(coldEstimated * price),
    };
  }
}
