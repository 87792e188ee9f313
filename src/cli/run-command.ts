import { type BatchResult, type DryRunOptions, dryRun, type RunBatchOptions, runBatch } from '../batch/index.js';
import { formatDuration } from './progress.js';
import type { Reporter } from './reporter.js';

export interface RunCommandOptions extends Omit<RunBatchOptions, 'signal' | 'onProgress' | 'log'> {
  reporter: Reporter;
  dryRun?: boolean;
  expectedSeconds?: number;
  sample?: number;
}

/**
 * Runs a batch with signal handling: the first SIGINT/SIGTERM stops admitting and commits (exit 130); a second one
 * exits at once.
 */
export async function withSignals<T>(reporter: Reporter, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      reporter.error(`${sig}: stopping, saving state (again to quit at once)`);
      ac.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Engine callbacks wired to the reporter. */
export function engineHooks(reporter: Reporter): Pick<RunBatchOptions, 'log' | 'onProgress' | 'progressIntervalMs'> {
  return { log: (m) => reporter.log(m), onProgress: (p) => reporter.progress(p), progressIntervalMs: reporter.intervalMs };
}

export async function runCommand(o: RunCommandOptions): Promise<number> {
  const { reporter, dryRun: dry, expectedSeconds, sample, ...rest } = o;
  if (dry) {
    const est = await withSignals(reporter, (signal) =>
      dryRun({ ...rest, ...engineHooks(reporter), signal, expectedSeconds, sample } satisfies DryRunOptions),
    );
    reporter.data('estimate', est, estimateText(est));
    return 0;
  }
  const result: BatchResult = await withSignals(reporter, (signal) => runBatch({ ...rest, ...engineHooks(reporter), signal }));
  reporter.result(result);
  return result.exitCode;
}

function estimateText(e: Awaited<ReturnType<typeof dryRun>>): string {
  const lines = [`dry run: ${e.rows} valid rows, nothing submitted${e.basis === 'sample' ? ' but the sample' : ''}`];
  if (e.sample) {
    lines.push(
      `  sample: ${e.sample.rows} rows in ${e.sample.wallSeconds.toFixed(1)} s, ${e.sample.billedSeconds} billed s` +
        (e.sample.meanExecutionMs !== null ? `, mean execution ${Math.round(e.sample.meanExecutionMs)} ms` : ''),
    );
  }
  if (e.changes) {
    const c = e.changes;
    const what = c.mapChanged ? 'the mapping (--map) changed: ' : '';
    lines.push(
      `  against the batch in --out: ${what}${c.added} new, ${c.changed} changed (would run again), ${c.unchanged} unchanged, ${c.removed} removed rows`,
    );
  }
  if (e.preview.length > 0) {
    lines.push(`  the first ${e.preview.length === 1 ? 'request body' : `${e.preview.length} request bodies`}, as they will be sent:`);
    for (const body of e.preview) lines.push(`    ${body}`);
  }
  if (e.billedSeconds !== null) lines.push(`  billed: ~${e.billedSeconds} s`);
  if (e.costUsd !== null) lines.push(`  cost:   ~$${e.costUsd.toFixed(4)}`);
  if (e.seconds !== null) lines.push(`  time:   ~${formatDuration(e.seconds * 1000)}`);
  for (const n of e.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}
