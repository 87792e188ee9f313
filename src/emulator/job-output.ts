/**
 * What a job shows to the client (RUNPOD_API.md): the /status answer (delayTime, executionTime and
 * workerId once a worker took it, output only when COMPLETED), the /stream chunks, and what /retry wipes.
 */
import { isTerminal, type StatusResponse } from '../core/wire.js';
import type { JobState } from './job-state.js';
import type { EmulatorJob } from './types.js';

/** The /status answer for this job. */
export function statusView(job: EmulatorJob): StatusResponse {
  const v: StatusResponse = { id: job.id, status: job.status };
  if (job.startedAt !== undefined) {
    v.delayTime = job.delayTime;
    if (job.executionTime !== undefined && isTerminal(job.status)) v.executionTime = job.executionTime;
    v.workerId = job.workerId;
  }
  if (job.status === 'COMPLETED' && job.output !== undefined) v.output = job.output;
  if (job.error !== undefined) v.error = job.error;
  return v;
}

/**
 * /stream: the chunks a generator handler yielded since the last call (each read once); for a plain handler, its
 * output once, as a single chunk, after completion.
 */
export function streamView(s: JobState | undefined, job: EmulatorJob): { status: string; stream: unknown[] } {
  if (s?.chunks && s.chunks.length > 0) {
    const chunks = s.chunks.splice(0);
    s.streamed = true;
    return { status: job.status, stream: chunks.map((output) => ({ output })) };
  }
  if (s && job.status === 'COMPLETED' && !s.streamed && job.output !== undefined) {
    s.streamed = true;
    return { status: job.status, stream: [{ output: job.output }] };
  }
  return { status: job.status, stream: [] };
}

/** Drop what the last attempt produced (timings, worker, output, error), before a /retry queues the job again. */
export function clearAttempt(job: EmulatorJob): void {
  delete job.startedAt;
  delete job.finishedAt;
  delete job.delayTime;
  delete job.executionTime;
  delete job.output;
  delete job.error;
  delete job.workerId;
}
