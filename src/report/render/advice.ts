/** "What to do next": the one-line next step and further advice, from the summary and the cold-start estimate. */
import type { RunStop } from '../../core/records.js';
import { nextStep } from '../next-step.js';
import { fmtInt } from './format.js';
import type { ReportModel, StatusCount, Tone } from './model-types.js';

interface AdviceInput {
  total: number;
  completed: number;
  failed: number;
  unfinished: number;
  failedStatuses: StatusCount[];
  outDir: string;
  price: number | null;
  rateLimited: number;
  requests: number;
  expired: number;
  lost: number;
  timingsMissing: number;
  coldShare: number;
  coldCount: number;
  stop: RunStop | null;
  /** Attempts the output checks caught (stats.outputChecks). */
  emptyOutput: number;
  outputError: number;
}

/** The next step and advice for a batch, from its summary, the final statuses that ended badly and the cold starts. */
export function adviceFor(
  s: ReportModel['summary'],
  failedStatuses: StatusCount[],
  outDir: string,
  cold: ReportModel['coldStarts'],
  stop: RunStop | null,
): { nextStep: ReportModel['nextStep']; advice: string[] } {
  return adviseNext({
    total: s.rows.total,
    completed: s.rows.completed,
    failed: s.rows.failed,
    unfinished: s.rows.unfinished,
    failedStatuses,
    outDir,
    price: s.pricePerSecond,
    rateLimited: s.rateLimited,
    requests: s.requests,
    expired: s.rows.expired,
    lost: s.rows.lost,
    timingsMissing: s.timingsMissing,
    coldShare: cold.share,
    coldCount: cold.count,
    stop,
    emptyOutput: s.outputChecks.emptyOutput,
    outputError: s.outputChecks.outputError,
  });
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

function adviseNext(a: AdviceInput): { nextStep: { tone: Tone; text: string }; advice: string[] } {
  const advice: string[] = [];
  const failedDetail = a.failedStatuses.map((s) => `${s.status} ${s.count}`).join(', ');
  const next = nextStep(
    a.stop,
    { total: a.total, completed: a.completed, failed: a.failed, unfinished: a.unfinished, failedDetail },
    a.outDir,
  );
  const tone: Tone = next.tone;
  if (a.unfinished > 0 && a.failed > 0) advice.push(`${plural(a.failed, 'row')} failed (${failedDetail}): see ${a.outDir}/errors.jsonl.`);
  if (a.price === null) advice.push('No cost estimate: pass --price-per-second or --gpu to get one.');
  if (a.requests > 0 && a.rateLimited / a.requests > 0.05) {
    advice.push(
      `${plural(a.rateLimited, 'request')} got 429 Too Many Requests (${((a.rateLimited / a.requests) * 100).toFixed(1)}% of requests): ` +
        'they were retried, but a lower --concurrency would waste less time backing off.',
    );
  }
  if (a.expired > 0) {
    advice.push(
      `${plural(a.expired, 'result')} expired before being read (RunPod keeps results 30 minutes): those rows ran again, and were billed again. Resume interrupted batches sooner.`,
    );
  }
  if (a.lost > 0)
    advice.push(`${plural(a.lost, 'job')} ${a.lost === 1 ? 'was' : 'were'} lost (no answer from RunPod for them): their rows ran again.`);
  if (a.emptyOutput > 0) {
    advice.push(
      `${plural(a.emptyOutput, 'job')} COMPLETED with an empty output and counted as failed attempts: a worker whose result POST was refused, ` +
        'or a generator handler without return_aggregate_stream (its output is only on /stream). If the handler returns nothing by design, run with --accept-empty-output.',
    );
  }
  if (a.outputError > 0)
    advice.push(`${plural(a.outputError, 'job')} COMPLETED with an error inside the output and counted as failed: see Failures.`);
  if (a.coldCount > 0 && a.coldShare > 0.1) {
    advice.push(
      `${(a.coldShare * 100).toFixed(0)}% of jobs waited long enough to suggest a cold start: more active (always-on) workers or a longer idle timeout may pay off.`,
    );
  }
  if (a.timingsMissing > 0) {
    advice.push(
      `${plural(a.timingsMissing, 'row')} have no delayTime/executionTime (e.g. runpod-python's local test server reports none): they are missing from latencies and billed seconds.`,
    );
  }
  return { nextStep: { tone, text: next.text }, advice };
}
