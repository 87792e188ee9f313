/** A local RunPod Serverless stand-in speaking real HTTP (cloud /v2 dialect or runpod-python's dev server). */
export { startEmulator } from './server.js';
export type {
  Emulator,
  EmulatorJob,
  EmulatorOp,
  EmulatorOptions,
  EmulatorStats,
  ExecutionMsOption,
  FaultOptions,
  HandlerFn,
  MediaOutputOptions,
  RateLimitedOp,
  RateLimitRule,
} from './types.js';
