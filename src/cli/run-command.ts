import { runBatch, type BatchResult, type RunBatchOptions } from '../engine/run-batch.js';
import type { LatencySummary } from '../report/stats.js';
import { progressLine } from './progress.js';

export interface RunCommandOptions extends Omit<RunBatchOptions, 'signal' | 'onProgress' | 'log'> {
  progress: boolean;
}

/**
 * `runpod-batch run`: first SIGINT/SIGTERM stops admitting and commits (exit 130); a second one exits at once.
 */
export async function runCommand(o: RunCommandOptions): Promise<number> {
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nrunpod-batch: ${sig}: stopping, saving state (again to quit at once)\n`);
      ac.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tty = process.stderr.isTTY === true;
  let lastPlain = 0;
  try {
    const result = await runBatch({
      ...o,
      signal: ac.signal,
      log: (m) => process.stderr.write(`runpod-batch: ${m}\n`),
      progressIntervalMs: tty ? 500 : 1000,
      onProgress: o.progress
        ? (p) => {
            if (tty) process.stderr.write(`\r\x1b[2K${progressLine(p)}`);
            else if (p.elapsedMs - lastPlain >= 10_000) {
              lastPlain = p.elapsedMs;
              process.stderr.write(`${progressLine(p)}\n`);
            }
          }
        : undefined,
    });
    if (o.progress && tty) process.stderr.write('\n');
    process.stdout.write(summary(result));
    if (result.message) process.stderr.write(`runpod-batch: ${result.message}\n`);
    return result.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function summary(r: BatchResult): string {
  const s = r.stats;
  const by = Object.entries(s.rows.byStatus)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const lat = (name: string, l: LatencySummary | null) =>
    l ? `  ${name.padEnd(11)} p50 ${l.p50} · p90 ${l.p90} · p99 ${l.p99} · max ${l.max} ms\n` : '';
  return (
    `${s.rows.total} rows: ${by}${r.ingest.skipped ? '' : ''} — ${r.submitted} jobs submitted by this run\n` +
    lat('delay', s.latencyMs.delay) +
    lat('execution', s.latencyMs.execution) +
    lat('end-to-end', s.latencyMs.endToEnd) +
    `  billed ${s.billedSeconds} s` +
    (s.estimatedCostUsd !== null ? ` · estimated cost $${s.estimatedCostUsd.toFixed(4)}` : ' · cost: pass --price-per-second') +
    `\n  results: ${r.files.results}\n  errors:  ${r.files.errors} (${s.rows.notCompleted} rows)\n  stats:   ${r.files.stats}\n`
  );
}
