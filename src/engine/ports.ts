/**
 * What the engine needs from the layers it works with, as interfaces: the batch layer passes the real store
 * (store/store.ts) and client (runpod/client.ts); unit tests pass in-memory ones. The engine never sees SQL or sockets.
 */
import type { RequeueDetail, RequeueReason, RowState, Terminal, WorkRow } from '../core/records.js';
import type { RunpodClient } from '../runpod/client.js';

/** The state as the scheduler reads and writes it. */
export interface SchedulerStore {
  /** PENDING rows of generation `gen` after `afterSeq`, in input order, at most `limit`. */
  pendingPage(gen: number, afterSeq: number, limit: number): WorkRow[];
  /** Rows holding a job id not yet seen terminal: followed by id, never submitted again. */
  submittedRows(gen: number): WorkRow[];
  /** Makes a job id durable before anything else happens. */
  markSubmitted(key: string, jobId: string, attempt: number, submittedAt: number, status: string): void;
  /** Records a terminal status (it may be grouped with later writes: the job id is already durable). */
  markTerminal(t: Terminal): void;
  /**
   * The JSON text to keep for a COMPLETED job's output, called just before that job's markTerminal. The batch layer
   * moves base64 media to files here (batch/media.ts); without it, JSON.stringify.
   */
  encodeOutput?(key: string, jobId: string, output: unknown): string;
  /** The row's job gives no result: the row goes back to PENDING. */
  requeue(key: string, jobId: string, reason: RequeueReason, at: number, detail: RequeueDetail): void;
  /** A row ends without a job (its body was refused). */
  failRow(key: string, status: RowState, error: string, code: string, at: number): void;
  /** Writes whatever is grouped now. */
  flush(): void;
}

/** The RunPod calls the scheduler makes. */
export type SchedulerClient = Pick<RunpodClient, 'run' | 'status' | 'statusSync'> & Partial<Pick<RunpodClient, 'health' | 'stream'>>;
