/**
 * RunPod's billing rule, the one place it is written (RUNPOD_API.md "Billing"): a worker is billed per second,
 * rounded up. Of what the API reports, a job's executionTime is what is billed; cold starts and idle timeouts are
 * billed on top but not reported per job.
 */

/** Billed seconds for one job's executionTime (ms): ceil(ms / 1000); 0 for 0, negative or non-finite. */
export function billedSeconds(executionTimeMs: number): number {
  if (!Number.isFinite(executionTimeMs) || executionTimeMs <= 0) return 0;
  return Math.ceil(executionTimeMs / 1000);
}
