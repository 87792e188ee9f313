import type { RunStop } from '../core/records.js';
import { isTerminal } from '../core/wire.js';

/** What a batch's rows add up to, by the state they are in. */
export interface RowTally {
  total: number;
  completed: number;
  /** Ended FAILED, TIMED_OUT or CANCELLED (after their retries). */
  failed: number;
  /** No terminal state yet: PENDING, or a job in flight (SUBMITTED, IN_QUEUE, IN_PROGRESS). */
  unfinished: number;
  /** How the failed rows ended, e.g. "FAILED 2, TIMED_OUT 1". */
  failedDetail?: string;
}

export type NextAction =
  | 'none'
  | 'wait'
  | 'resume'
  | 'fix-key'
  | 'fix-endpoint'
  | 'check-server'
  | 'fix-and-rerun'
  | 'raise-max-cost'
  | 'fix-worker'
  | 'rerun-later'
  | 'retry-failed';

export interface NextStep {
  action: NextAction;
  tone: 'ok' | 'info' | 'warn' | 'error';
  /** One or two sentences; `code` spans in backticks. */
  text: string;
}

/** Rows by status (stats.rows.byStatus) → the tally the next step is judged on. */
export function tallyOf(byStatus: Readonly<Record<string, number>>): RowTally {
  const t: RowTally = { total: 0, completed: 0, failed: 0, unfinished: 0 };
  for (const [status, n] of Object.entries(byStatus)) {
    t.total += n;
    if (status === 'COMPLETED') t.completed += n;
    else if (isTerminal(status)) t.failed += n;
    else t.unfinished += n;
  }
  return t;
}

const RETENTION = 'Finished results stay readable on RunPod for only 30 minutes; rows whose results expire run (and are billed) again.';

/**
 * The one next step a person should take, from how the last run stopped and where the rows are. Pure: the CLI's last
 * line and the report's "Next" both say this. `outDir` is how the batch folder is named in commands.
 */
export function nextStep(stop: RunStop | null, t: RowTally, outDir: string): NextStep {
  const rows = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;
  const retry = `\`runpod-batch retry ${outDir}\``;
  const reason = stop?.reason ? ` (${stop.reason})` : '';
  if (t.total === 0) return { action: 'none', tone: 'info', text: 'No rows in this batch: nothing ran.' };
  if (stop?.kind === 'running') {
    return {
      action: 'wait',
      tone: 'info',
      text: `A run is in progress: this is a snapshot (${rows(t.completed)} completed, ${rows(t.unfinished)} to go); the run writes it again when it ends.`,
    };
  }
  if (stop?.kind === 'gave-up' && stop.cause === 'worker') {
    return {
      action: 'fix-worker',
      tone: 'error',
      text:
        `The run stopped because the endpoint's jobs kept failing${reason}: fix the worker (see ${outDir}/errors.jsonl), ` +
        `then run the same command to run the ${rows(t.unfinished)} left and ${retry} for the ${rows(t.failed)} that failed.`,
    };
  }
  if (t.unfinished > 0) {
    const left = `the ${rows(t.unfinished)} that did not finish`;
    switch (stop?.kind) {
      case 'fatal':
        if (stop.code === 'RPB_AUTH') {
          return {
            action: 'fix-key',
            tone: 'error',
            text: `RunPod refused the API key${reason}: set a valid RUNPOD_API_KEY, then run the same command; ${left} resume.`,
          };
        }
        if (stop.code === 'RPB_ENDPOINT') {
          return {
            action: 'fix-endpoint',
            tone: 'error',
            text: `RunPod has no such endpoint${reason}: check --endpoint (or RUNPOD_ENDPOINT_ID), then run the same command.`,
          };
        }
        if (stop.code === 'RPB_NETWORK') {
          return {
            action: 'check-server',
            tone: 'error',
            text: `The server could not be reached${reason}: check --base-url and the network, then run the same command; ${left} resume.`,
          };
        }
        return {
          action: 'fix-and-rerun',
          tone: 'error',
          text: `The run stopped${reason}: fix that, then run the same command; ${left} resume.`,
        };
      case 'budget':
        return {
          action: 'raise-max-cost',
          tone: 'warn',
          text: `The run stopped at its cost cap${reason}: raise --max-cost (or drop it) and run the same command to run ${left}.`,
        };
      case 'gave-up':
        return {
          action: 'rerun-later',
          tone: 'warn',
          text: `The run gave up on RunPod's errors${reason}: run the same command again later; ${left} resume. ${RETENTION}`,
        };
      case 'done':
        // Only a dry-run sample ends "done" with rows left: the rest never ran.
        return {
          action: 'resume',
          tone: 'info',
          text: `${rows(t.unfinished)} have not run yet: run the same command (without --dry-run) to run them.`,
        };
      default:
        return {
          action: 'resume',
          tone: 'warn',
          text: `${rows(t.unfinished)} did not finish (the run was interrupted): run the same \`runpod-batch run\` command again to resume. ${RETENTION}`,
        };
    }
  }
  if (t.failed > 0) {
    const how = t.failedDetail ? ` (${t.failedDetail})` : '';
    return {
      action: 'retry-failed',
      tone: 'error',
      text: `${rows(t.failed)} failed${how}: see ${outDir}/errors.jsonl; ${retry} runs them again.`,
    };
  }
  return { action: 'none', tone: 'ok', text: `All ${rows(t.total)} completed: results are in ${outDir}/results.jsonl.` };
}
