import { startEmulator } from '../emulator/index.js';
import { UsageError } from '../core/errors.js';

export interface EmulateCommandOptions {
  port: number;
  host: string;
  apiKey: string;
  endpoints: string[];
  dialect: 'cloud' | 'local';
  workers: number;
  minWorkers?: number;
  workerConcurrency?: number;
  streamChunks?: number;
  returnAggregateStream?: boolean;
  scaler: 'queue-delay' | 'request-count';
  scalerValue?: number;
  idleTimeoutMs: number;
  execMs: string;
  coldStartMs: number;
  timeScale: number;
  retentionMs: number;
  failRate: number;
  lostRate: number;
  errorRate: number;
  emptyOutputRate?: number;
  errorOutputRate?: number;
  runLimit?: number;
  seed: number;
  /** Answer worker-comfyui-style outputs of base64 PNGs of this many bytes. */
  imageBytes?: number;
  /** PNGs per output, with imageBytes. */
  images?: number;
}

/** `runpod-batch emulate`: serves until SIGINT/SIGTERM. */
export async function emulateCommand(o: EmulateCommandOptions): Promise<number> {
  const emu = await startEmulator({
    port: o.port,
    host: o.host,
    apiKey: o.apiKey,
    endpoints: o.endpoints,
    dialect: o.dialect,
    workers: o.workers,
    minWorkers: o.minWorkers,
    workerConcurrency: o.workerConcurrency,
    streamChunks: o.streamChunks,
    returnAggregateStream: o.returnAggregateStream,
    scaler: o.scaler,
    scalerValue: o.scalerValue,
    idleTimeoutMs: o.idleTimeoutMs,
    executionMs: parseExecMs(o.execMs),
    coldStartMs: o.coldStartMs,
    timeScale: o.timeScale,
    retentionMs: o.retentionMs,
    seed: o.seed,
    media: o.imageBytes !== undefined ? { bytes: o.imageBytes, images: o.images } : undefined,
    faults: {
      failFirstAttempt: o.failRate,
      lostJobs: o.lostRate,
      http500: o.errorRate,
      emptyOutput: o.emptyOutputRate,
      errorOutput: o.errorOutputRate,
      rateLimits: o.runLimit ? { run: { limit: o.runLimit, windowMs: 10_000, retryAfter: true } } : undefined,
    },
  });
  const where =
    o.dialect === 'local'
      ? `--base-url ${emu.baseUrl}`
      : `--endpoint ${o.endpoints[0]} --base-url ${emu.baseUrl}   (with RUNPOD_API_KEY=${o.apiKey})`;
  process.stdout.write(`RunPod emulator (${o.dialect}) listening on ${emu.url}\n  runpod-batch run <file> ${where}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emu.close();
  return 0;
}

/** "300" → 300; "200-400" → {min: 200, max: 400}. */
export function parseExecMs(s: string): number | { min: number; max: number } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*$/.exec(s);
  if (!m) throw new UsageError(`--exec-ms: expected N or MIN-MAX (ms), got ${JSON.stringify(s)}`);
  const a = Number(m[1]);
  if (m[2] === undefined) return a;
  const b = Number(m[2]);
  if (b < a) throw new UsageError(`--exec-ms: MIN must not exceed MAX in ${JSON.stringify(s)}`);
  return { min: a, max: b };
}
