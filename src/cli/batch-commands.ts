import {
  batchStatus,
  cancelBatch,
  exportBatch,
  exportHf,
  exportParquet,
  regenerateBatch,
  retryBatch,
  type BatchStatus,
  type ExportFormat,
} from '../batch/index.js';
import { formatDuration } from './progress.js';
import type { Reporter } from './reporter.js';
import { engineHooks, withSignals } from './run-command.js';

export function statusCommand(out: string, reporter: Reporter): number {
  const s = batchStatus(out);
  reporter.data('status', s, statusText(s));
  return 0;
}

function statusText(s: BatchStatus): string {
  const done = (s.byState.COMPLETED ?? 0) + (s.byState.FAILED ?? 0) + (s.byState.TIMED_OUT ?? 0) + (s.byState.CANCELLED ?? 0);
  const pct = s.total > 0 ? ((100 * done) / s.total).toFixed(1) : '0';
  const states = Object.entries(s.byState)
    .map(([k, v]) => `${v} ${k === 'SUBMITTED' ? 'in flight' : k}`)
    .join(', ');
  const lines = [
    `${s.outDir}: ${done}/${s.total} rows done (${pct}%) — ${states}`,
    `  input ${s.input}${s.shard ? ` (shard ${s.shard.k}/${s.shard.n})` : ''} → ${s.endpoint ?? s.baseUrl}`,
    ...(s.map ? [`  mapped with --map ${JSON.stringify(s.map.replace(/\s+/g, ' ').trim())}`] : []),
    `  ${s.runs} run(s), ${formatDuration(s.wallSeconds * 1000)} in all; billed ${s.billedSeconds} s` +
      (s.estimatedCostUsd !== null ? ` (~$${s.estimatedCostUsd.toFixed(4)})` : ''),
    s.runningPid !== null ? `  running now (pid ${s.runningPid})` : '  not running',
    ...(s.sizing
      ? [`  in-flight target ${s.sizing.target} — ${s.sizing.reason}${s.runningPid !== null ? '' : ' (when the last run stopped)'}`]
      : []),
    `next: ${s.next.text.replaceAll('`', '')}`,
  ];
  return lines.join('\n') + '\n';
}

export function reportCommand(out: string, reporter: Reporter): number {
  const { files, runningPid } = regenerateBatch(out);
  const live =
    runningPid !== null
      ? ` (a snapshot: a run${runningPid ? ` (pid ${runningPid})` : ''} is in progress and writes them again when it ends)`
      : '';
  reporter.data('report', { files, runningPid }, `regenerated${live}:\n  ${Object.values(files).join('\n  ')}\n`);
  return 0;
}

/** Thrown out of the export loop when stdout's reader went away (`| head`): the export stops there. */
class PipeClosed extends Error {}

function toStdout(chunk: string): void {
  // A failed write to a closed pipe destroys the stream at once; its 'error' comes later (main.ts ignores EPIPE).
  if (process.stdout.destroyed) throw new PipeClosed();
  process.stdout.write(chunk);
}

/** `export <out..>`: one batch folder, or the folders of the shards of one input, merged in input order. */
export async function exportCommand(outs: string[], format: ExportFormat, output: string | undefined, reporter: Reporter): Promise<number> {
  const warn = (m: string) => reporter.warn(m);
  if (format === 'parquet') {
    const rows = exportParquet(outs, output, { warn });
    reporter.data('export', { format, output, rows }, `wrote ${rows} rows to ${output}\n`);
    return 0;
  }
  if (format === 'hf') {
    const r = exportHf(outs, output, { warn });
    const left = r.skipped.map((s) => `${s.count} ${s.why}`).join(', ');
    reporter.data(
      'export',
      { format, ...r },
      `wrote a ${r.layout} dataset of ${r.rows} rows to ${r.dir} (${r.layout === 'parquet' ? `${r.files.length} Parquet shards` : `${r.rows} files and metadata.jsonl`}, README.md)` +
        (left ? `; left out: ${left}` : '') +
        '\n',
    );
    return 0;
  }
  try {
    exportBatch(outs, format, output ? { output } : { write: toStdout }, { warn });
  } catch (err) {
    if (!(err instanceof PipeClosed)) throw err;
  }
  return 0;
}

export async function retryCommand(
  out: string,
  reporter: Reporter,
  o: { concurrency?: number | 'auto'; retries?: number; acceptEmptyOutput?: boolean; stream?: boolean },
): Promise<number> {
  const r = await withSignals(reporter, (signal) => retryBatch(out, { ...o, ...engineHooks(reporter), signal }));
  reporter.log(`${r.requeued} rows that had not completed were queued again`);
  reporter.result(r);
  return r.exitCode;
}

export async function cancelCommand(out: string, reporter: Reporter): Promise<number> {
  const c = await cancelBatch(out);
  reporter.data(
    'cancel',
    c,
    `cancelled ${c.cancelled} jobs on RunPod (their rows run again next time); ${c.alreadyEnded} had already ended, ${c.gone} were gone, ${c.failed} failed\n` +
      c.errors.map((e) => `  ${e}\n`).join(''),
  );
  return c.failed > 0 ? 2 : 0;
}
