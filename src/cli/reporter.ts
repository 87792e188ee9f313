import type { BatchProgress, BatchResult, LatencySummary } from '../batch/index.js';
import { redact } from '../core/redact.js';
import { progressLine } from './progress.js';

export type LogFormat = 'text' | 'json';

export interface ReporterOptions {
  format: LogFormat;
  /** Progress line (TTY) or a plain line every ~10 s (not a TTY). */
  progress: boolean;
  /** Only errors and the final message. */
  quiet: boolean;
  tty?: boolean;
}

/** Everything `run` says goes through here: text for people, or one JSON object per line for machines. */
export class Reporter {
  private lastPlain = -Infinity;
  private drawn = false;
  readonly tty: boolean;
  constructor(private readonly o: ReporterOptions) {
    this.tty = o.tty ?? process.stderr.isTTY === true;
  }

  /** How often the engine should call progress(). */
  get intervalMs(): number {
    return this.tty && this.o.format === 'text' ? 500 : 1000;
  }

  progress(p: BatchProgress): void {
    if (!this.o.progress || this.o.quiet) return;
    if (this.o.format === 'json') {
      if (p.elapsedMs - this.lastPlain < 10_000) return;
      this.lastPlain = p.elapsedMs;
      this.json(process.stderr, { event: 'progress', ...p });
      return;
    }
    if (this.tty) {
      // One column short of the width: a line that fills the last column wraps on some terminals.
      process.stderr.write(`\r\x1b[2K${progressLine(p, Math.max(20, (process.stderr.columns ?? 80) - 1))}`);
      this.drawn = true;
    } else if (p.elapsedMs - this.lastPlain >= 10_000) {
      this.lastPlain = p.elapsedMs;
      process.stderr.write(`${progressLine(p)}\n`);
    }
  }

  log(message: string): void {
    if (this.o.quiet) return;
    this.clearLine();
    if (this.o.format === 'json') this.json(process.stderr, { event: 'log', message });
    else process.stderr.write(`runpod-batch: ${message}\n`);
  }

  /** Something the user must know about a result (rows left out of an export): shown even with --quiet. */
  warn(message: string): void {
    this.clearLine();
    if (this.o.format === 'json') this.json(process.stderr, { event: 'warning', message });
    else process.stderr.write(`runpod-batch: warning: ${message}\n`);
  }

  /** Errors and the run's final message: shown even with --quiet. */
  error(message: string): void {
    this.clearLine();
    const m = redact(message, process.env.RUNPOD_API_KEY);
    if (this.o.format === 'json') this.json(process.stderr, { event: 'error', message: m });
    else process.stderr.write(`runpod-batch: ${m}\n`);
  }

  result(r: BatchResult): void {
    this.clearLine();
    if (this.o.format === 'json') {
      this.json(process.stdout, {
        event: 'result',
        exitCode: r.exitCode,
        outcome: r.outcome.kind,
        message: r.message ?? null,
        next: r.next,
        submitted: r.submitted,
        files: r.files,
        rows: r.stats.rows,
        latencyMs: r.stats.latencyMs,
        billedSeconds: r.stats.billedSeconds,
        estimatedCostUsd: r.stats.estimatedCostUsd,
      });
    } else if (!this.o.quiet) {
      process.stdout.write(summary(r));
    }
    if (this.o.format !== 'text') return;
    if (r.message) this.error(r.message);
    // The last line says what to do now; with --quiet, only when there is something to do.
    const next = r.next.text.replaceAll('`', '');
    if (!this.o.quiet) process.stdout.write(`next: ${next}\n`);
    else if (r.next.tone !== 'ok') this.error(`next: ${next}`);
  }

  /** Any other machine-readable answer (status, dry-run). */
  data(event: string, obj: object, text: string): void {
    this.clearLine();
    if (this.o.format === 'json') this.json(process.stdout, { event, ...obj });
    else process.stdout.write(text);
  }

  private clearLine(): void {
    if (this.drawn) {
      process.stderr.write('\r\x1b[2K');
      this.drawn = false;
    }
  }

  private json(stream: NodeJS.WriteStream, obj: object): void {
    stream.write(JSON.stringify(obj) + '\n');
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
    `${s.rows.total} rows: ${by} — ${r.submitted} jobs submitted by this run\n` +
    lat('delay', s.latencyMs.delay) +
    lat('execution', s.latencyMs.execution) +
    lat('end-to-end', s.latencyMs.endToEnd) +
    (s.timingsMissing > 0 ? `  ${s.timingsMissing} rows without RunPod timings (end-to-end measured by the client)\n` : '') +
    `  billed ${s.billedSeconds} s` +
    (s.estimatedCostUsd !== null ? ` · estimated cost $${s.estimatedCostUsd.toFixed(4)}` : ' · cost: pass --gpu or --price-per-second') +
    `\n  results: ${r.files.results}\n  errors:  ${r.files.errors} (${s.rows.failed} failed rows)\n` +
    (s.rows.unfinished > 0 ? `  unfinished: ${s.rows.unfinished} rows (not in errors.jsonl)\n` : '') +
    `  stats:   ${r.files.stats}\n  report:  ${r.files.reportHtml} (and report.md)\n`
  );
}
