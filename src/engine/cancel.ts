import pLimit from 'p-limit';
import type { RunpodClient } from '../runpod/client.js';
import { RequestFailed } from './classify.js';
import type { SchedulerStore } from './ports.js';
import { withRetries } from './retry.js';

export interface CancelSummary {
  /** Jobs RunPod confirmed CANCELLED: their rows go back to PENDING and run again on the next run. */
  cancelled: number;
  /** Jobs that had already ended: their rows keep the job id, so the next run reads the result. */
  alreadyEnded: number;
  /** Jobs RunPod no longer knows (404): their rows run again on the next run. */
  gone: number;
  /** Cancels that failed (the job may still be billing). */
  failed: number;
  errors: string[];
}

/**
 * Cancels every job of the batch that is in flight on RunPod, so it stops billing. RunPod allows /cancel 100 times
 * per 10 s and 20 at once (RUNPOD_API.md "Limits"): a few at a time, with backoff on 429.
 */
export async function cancelInFlight(
  client: Pick<RunpodClient, 'cancel'>,
  store: Pick<SchedulerStore, 'submittedRows' | 'requeue'>,
  gen: number,
  o: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<CancelSummary> {
  const sum: CancelSummary = { cancelled: 0, alreadyEnded: 0, gone: 0, failed: 0, errors: [] };
  const limit = pLimit(o.concurrency ?? 5);
  const rows = store.submittedRows(gen);
  await Promise.all(
    rows.map((r) =>
      limit(async () => {
        const jobId = r.jobId!;
        try {
          const res = await withRetries('cancel', () => client.cancel(jobId, { signal: o.signal }), { signal: o.signal });
          if (res.status === 'CANCELLED') {
            store.requeue(r.key, jobId, 'cancelled', Date.now(), { status: 'CANCELLED', error: 'cancelled by runpod-batch' });
            sum.cancelled++;
          } else {
            sum.alreadyEnded++;
          }
        } catch (err) {
          if (err instanceof RequestFailed && err.verdict.kind === 'lost') {
            store.requeue(r.key, jobId, 'lost', Date.now(), { status: 'LOST' });
            sum.gone++;
          } else {
            sum.failed++;
            if (sum.errors.length < 5) sum.errors.push(`${jobId}: ${(err as Error).message}`);
          }
        }
      }),
    ),
  );
  return sum;
}
