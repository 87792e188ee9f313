/** Emulator defaults, filled in one place, and validation that reports every problem at once. */
import { UsageError } from '../core/errors.js';
import { RUNPOD } from '../core/wire.js';
import { echoHandler, streamingEchoHandler } from './handler.js';
import { comfyImageHandler } from './media-output.js';
import type { EmulatorOptions, FaultOptions } from './types.js';

export type ResolvedOptions = Required<Omit<EmulatorOptions, 'faults' | 'media'>> & { faults: FaultOptions };

export function resolveOptions(o: EmulatorOptions = {}): ResolvedOptions {
  const r: ResolvedOptions = {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    apiKey: o.apiKey === undefined ? 'test-key' : o.apiKey,
    endpoints: o.endpoints ?? ['test-endpoint'],
    dialect: o.dialect ?? 'cloud',
    workers: o.workers ?? 4,
    minWorkers: o.minWorkers ?? o.workers ?? 4,
    scaler: o.scaler ?? 'queue-delay',
    scalerValue: o.scalerValue ?? ((o.scaler ?? 'queue-delay') === 'queue-delay' ? 4000 : 4),
    workerConcurrency: o.workerConcurrency ?? 1,
    executionMs: o.executionMs ?? { min: 50, max: 150 },
    coldStartMs: o.coldStartMs ?? 0,
    idleTimeoutMs: o.idleTimeoutMs ?? 5000,
    timeScale: o.timeScale ?? 1,
    retentionMs: o.retentionMs ?? RUNPOD.runRetentionMs, // RUNPOD_API.md: /run results stay 30 min
    handler:
      o.handler ??
      (o.media ? comfyImageHandler(o.seed ?? 1, o.media) : o.streamChunks ? streamingEchoHandler(o.streamChunks) : echoHandler),
    returnAggregateStream: o.returnAggregateStream ?? false,
    streamChunks: o.streamChunks ?? 0,
    seed: o.seed ?? 1,
    faults: o.faults ?? {},
  };
  const problems: string[] = [];
  const nonNeg = (path: string, v: number) => {
    if (!Number.isFinite(v) || v < 0) problems.push(`${path}: must be a number >= 0, got ${v}`);
  };
  if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) problems.push(`port: must be an integer 0-65535, got ${r.port}`);
  if (r.dialect !== 'cloud' && r.dialect !== 'local') problems.push(`dialect: must be 'cloud' or 'local', got ${String(r.dialect)}`);
  if (!Number.isInteger(r.workers) || r.workers < 1) problems.push(`workers: must be an integer >= 1, got ${r.workers}`);
  if (!Number.isInteger(r.minWorkers) || r.minWorkers < 0 || r.minWorkers > r.workers)
    problems.push(`minWorkers: must be an integer 0-${r.workers} (workers), got ${r.minWorkers}`);
  if (!Number.isInteger(r.workerConcurrency) || r.workerConcurrency < 1)
    problems.push(`workerConcurrency: must be an integer >= 1, got ${r.workerConcurrency}`);
  if (!Number.isInteger(r.streamChunks) || r.streamChunks < 0)
    problems.push(`streamChunks: must be an integer >= 0, got ${r.streamChunks}`);
  if (r.scaler !== 'queue-delay' && r.scaler !== 'request-count')
    problems.push(`scaler: must be 'queue-delay' or 'request-count', got ${String(r.scaler)}`);
  if (!(r.scalerValue > 0)) problems.push(`scalerValue: must be > 0, got ${r.scalerValue}`);
  if (!(r.timeScale > 0) || !Number.isFinite(r.timeScale)) problems.push(`timeScale: must be a number > 0, got ${r.timeScale}`);
  if (o.media && !(Number.isInteger(o.media.bytes) && o.media.bytes >= 57))
    problems.push(`media.bytes: must be a whole number >= 57 (a PNG's fixed chunks), got ${o.media.bytes}`);
  if (o.media?.images !== undefined && !(Number.isInteger(o.media.images) && o.media.images >= 1))
    problems.push(`media.images: must be a whole number >= 1, got ${o.media.images}`);
  nonNeg('coldStartMs', r.coldStartMs);
  nonNeg('idleTimeoutMs', r.idleTimeoutMs);
  nonNeg('retentionMs', r.retentionMs);
  if (typeof r.executionMs === 'number') nonNeg('executionMs', r.executionMs);
  else if (typeof r.executionMs === 'object') {
    nonNeg('executionMs.min', r.executionMs.min);
    nonNeg('executionMs.max', r.executionMs.max);
    if (r.executionMs.max < r.executionMs.min) problems.push('executionMs: max must be >= min');
  }
  if (!Array.isArray(r.endpoints) || r.endpoints.some((e) => typeof e !== 'string' || e === '' || e.includes('/'))) {
    problems.push('endpoints: must be a list of non-empty ids without "/"');
  }
  problems.push(...faultProblems(r.faults));
  if (problems.length > 0) throw new UsageError(`invalid emulator options:\n  ${problems.join('\n  ')}`);
  return r;
}

export function faultProblems(f: FaultOptions): string[] {
  const problems: string[] = [];
  for (const k of [
    'http500',
    'http502',
    'reset',
    'slow',
    'lostJobs',
    'failFirstAttempt',
    'timedOut',
    'emptyOutput',
    'errorOutput',
  ] as const) {
    const v = f[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) problems.push(`faults.${k}: must be a fraction 0-1, got ${v}`);
  }
  if (f.slowMs !== undefined && !(f.slowMs >= 0)) problems.push(`faults.slowMs: must be >= 0, got ${f.slowMs}`);
  for (const [op, rule] of Object.entries(f.rateLimits ?? {})) {
    if (!rule) continue;
    if (!(rule.limit >= 0)) problems.push(`faults.rateLimits.${op}.limit: must be >= 0, got ${rule.limit}`);
    if (!(rule.windowMs > 0)) problems.push(`faults.rateLimits.${op}.windowMs: must be > 0, got ${rule.windowMs}`);
  }
  return problems;
}
