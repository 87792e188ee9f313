/** Public API: the same engine the CLI runs, typed. */
export { runBatch, defaultOutDir, DEFAULT_BASE_URL } from './engine/run-batch.js';
export type { RunBatchOptions, BatchResult, BatchProgress } from './engine/run-batch.js';
export type { Outcome } from './engine/scheduler.js';
export type { Stats, LatencySummary } from './report/stats.js';
export { startEmulator } from './emulator/index.js';
export type { Emulator, EmulatorOptions, FaultOptions } from './emulator/index.js';
export { createClient } from './runpod/client.js';
export type { RunpodClient, ClientOptions } from './runpod/client.js';
export * from './errors.js';
export type { InputRow, InputOptions, InputFormat } from './input/types.js';
