/** Section titles and the notes on where figures come from, shared by report.md and report.html. */

export const SECTION_TITLES = {
  summary: 'Summary',
  latency: 'Latency',
  throughput: 'Throughput and jobs in flight',
  cost: 'Cost over time',
  failures: 'Failures',
  coldStarts: 'Cold starts',
  retries: 'Retries and 429s',
  slowest: 'Slowest rows',
  about: 'Where the figures come from',
} as const;

/** Figures reported by RunPod, used as they are. */
export const RUNPOD_FIGURES = [
  'delayTime (ms waiting for a worker, cold start included)',
  'executionTime (ms the worker spent on the job)',
  'job statuses and error messages',
];

/** Figures computed here that are estimates, and why. */
export const ESTIMATE_NOTES = [
  'Billed seconds and cost: executionTime per job, rounded up to a whole second, times the price per second. RunPod bills each worker from start to stop: it adds cold starts and the idle timeout (left out here) but rounds once per worker, not per job, so for 1–2 s jobs this estimate runs high (by about a quarter in the benchmarks) and for long jobs low; queue wait is not billed.',
  'Prices come from the price table or --price-per-second; check runpod.io/pricing for today\u2019s.',
  'Cold starts: guessed from long delayTimes (RunPod does not report them separately); a long queue wait looks the same.',
  'End-to-end latency and throughput are measured by runpod-batch on this machine (they include polling intervals).',
];
