/** Live counters the tests (and `GET /_emulator/stats`) read. */
import type { EmulatorStats } from './types.js';

const OPS = ['run', 'runsync', 'status', 'status-sync', 'cancel', 'retry', 'purge-queue', 'health', 'stream'];

export function createStats(): EmulatorStats {
  const zeroes = () => Object.fromEntries(OPS.map((op) => [op, 0])) as Record<string, number>;
  return {
    requests: zeroes(),
    rateLimited: zeroes(),
    faults: { http500: 0, http502: 0, reset: 0, slow: 0 },
    jobsCreated: 0,
    submissionsByInput: new Map(),
    maxConcurrentRunning: 0,
    busyMs: 0,
    workerMs: 0,
    workersStarted: 0,
  };
}

/** Count a new job; `first` = no job with this input existed before (first-attempt faults key on it). */
export function recordSubmission(stats: EmulatorStats, input: unknown): { key: string; first: boolean } {
  const key = JSON.stringify(input) ?? 'undefined';
  const n = stats.submissionsByInput.get(key) ?? 0;
  stats.submissionsByInput.set(key, n + 1);
  stats.jobsCreated++;
  return { key, first: n === 0 };
}

export function statsToJson(stats: EmulatorStats): unknown {
  return { ...stats, submissionsByInput: Object.fromEntries(stats.submissionsByInput) };
}
