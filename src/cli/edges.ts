/** The CLI's edges: arguments that need parsing, the config file, closed pipes, and errors mapped to exit codes. */
import { readFileSync } from 'node:fs';
import { ConfigError, InputError, RunpodBatchError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { LogFormat } from './reporter.js';

/**
 * A closed pipe (`export … | head`, `run … | head`) ends the output quietly: the reader has what it wanted, and the
 * batch's state is saved whatever happens to stdout. Other stream errors stay loud.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

/** --concurrency: `auto`, or a number (checked with the other options). */
export function concurrencyArg(v: unknown): number | 'auto' | undefined {
  if (v === undefined) return undefined;
  if (v === 'auto') return 'auto';
  const n = typeof v === 'number' ? v : Number(String(v).trim() === '' ? Number.NaN : v);
  return n;
}

/** A --config file: a JSON object, or a sentence naming the file. */
export function readConfig(path: string): { file: string; values: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new ConfigError(`--config ${path}: must hold a JSON object of options, e.g. {"endpoint": "abc", "concurrency": 50}`);
  }
  return { file: path, values: values as Record<string, unknown> };
}

/** Says the error in the asked format and returns its exit code (1). */
export function report(err: unknown, format: LogFormat): number {
  const key = process.env.RUNPOD_API_KEY;
  const say = (message: string) =>
    process.stderr.write(format === 'json' ? JSON.stringify({ event: 'error', message }) + '\n' : `runpod-batch: ${message}\n`);
  if (err instanceof InputError) {
    say(`invalid input, nothing was submitted:\n${redact(err.message, key)}`);
    return 1;
  }
  if (err instanceof RunpodBatchError) {
    say(redact(err.message, key));
    return 1;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  say(`unexpected error: ${redact(e.message, key)}`);
  if (process.env.RUNPOD_BATCH_DEBUG) process.stderr.write(`${redact(e.stack ?? '', key)}\n`);
  return 1;
}
