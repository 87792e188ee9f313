/**
 * The emulated endpoint's per-job bookkeeping, shared by the job table, the worker pool and result
 * retention: the state behind each public EmulatorJob, a worker slot, and the per-status counts /health reports.
 */
import type { JobStatus } from '../core/wire.js';
import type { PlannedFault } from './faults.js';
import type { Cancel } from './timers.js';
import type { EmulatorJob } from './types.js';

/**
 * One RunPod worker: a machine that boots once (cold start) and runs up to `workerConcurrency` jobs at once, one per
 * lane (runpod-python's concurrency_modifier: worker-vllm takes ~30, embedding workers hundreds, image workers 1).
 */
export interface Machine {
  id: string;
  lanes: Worker[];
  /** Lanes running a job (or waiting for the boot to run one). */
  busy: number;
  /** A cold start is under way; lanes given a job meanwhile wait for it. */
  booting: boolean;
  bootWaiters: Array<() => void>;
  cancelBoot?: Cancel;
  /** Real epoch ms the boot under way is due to end. */
  bootEndsAt?: number;
  /** Real epoch ms its last lane went idle; undefined = never ran (cold). */
  idleSince?: number;
  /** Real epoch ms the worker was started (autoscaling: billed from here to its stop). */
  startedAt: number;
}

/** One job slot of a worker. */
export interface Worker {
  machine: Machine;
  phase: 'idle' | 'cold-start' | 'running';
  job?: JobState;
  /** Pending execution timer. */
  cancelTimer?: Cancel;
  /** Bumped whenever the current run is abandoned (cancel, ttl): late results of the old run are dropped. */
  token: number;
  execStartedAt: number;
}

export interface JobState {
  job: EmulatorJob;
  /** Real epoch ms of the last (re)queueing, for delayTime. */
  queuedAt: number;
  /** Real epoch ms past which the job is gone (policy.ttl, scaled). */
  ttlDeadline: number;
  /** Unscaled policy.ttl. */
  ttlMs: number;
  /** Real epoch ms past which the finished result is gone (retention, scaled). */
  expiresAt?: number;
  /** Unscaled retention of this job's result (run vs runsync). */
  retentionMs: number;
  /** Unscaled policy.executionTimeout. */
  executionTimeoutMs?: number;
  planned?: PlannedFault;
  worker?: Worker;
  streamed?: boolean;
  /** A generator handler's chunks not yet read through /stream. */
  chunks?: unknown[];
}

/** Jobs per status, lost and expired jobs left out (what /health counts). */
export class StatusCounts {
  readonly byStatus: Record<JobStatus, number> = {
    IN_QUEUE: 0,
    IN_PROGRESS: 0,
    COMPLETED: 0,
    FAILED: 0,
    CANCELLED: 0,
    TIMED_OUT: 0,
  };

  /** A new job entered the queue. */
  queued(): void {
    this.byStatus.IN_QUEUE++;
  }

  set(s: JobState, status: JobStatus): void {
    const job = s.job;
    if (!job.lost && !job.expired) this.byStatus[job.status]--;
    job.status = status;
    if (!job.lost && !job.expired) this.byStatus[status]++;
  }
}
