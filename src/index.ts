/** Public API: the same engine the CLI runs, typed. */
import { DEFAULTS } from './core/defaults.js';

export { runBatch, defaultOutDir, dryRun } from './batch/index.js';
export type { RunBatchOptions, BatchResult, BatchProgress, DryRunOptions, Estimate } from './batch/index.js';
export type { Outcome } from './engine/scheduler.js';
export type { Stats, LatencySummary } from './report/stats.js';
export { startEmulator } from './emulator/index.js';
export type { Emulator, EmulatorOptions, FaultOptions, MediaOutputOptions } from './emulator/index.js';
export { mediaRefsOf } from './output/media.js';
export type { MediaRef } from './output/media.js';
export { createClient } from './runpod/client.js';
export type { RunpodClient, ClientOptions } from './runpod/client.js';
export * from './core/errors.js';
export type { InputRow, InputOptions, InputFormat } from './input/types.js';
/** RunPod's API base, the default of `baseUrl`. */
export const DEFAULT_BASE_URL: string = DEFAULTS.baseUrl;
