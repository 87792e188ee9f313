import { lockBatch, openBatch } from './open.js';
import type { RunBatchOptions } from './options.js';
import { runBatch, type BatchResult } from './run.js';

export interface RerunOptions extends Partial<Omit<RunBatchOptions, 'input' | 'out' | 'fromState'>> {}

/**
 * `runpod-batch retry`: rows that did not complete (FAILED, TIMED_OUT, CANCELLED) go back to PENDING with a fresh
 * retry budget, then the batch runs from its state with the endpoint and settings it was run with.
 */
export async function retryBatch(outDir: string, o: RerunOptions = {}): Promise<BatchResult & { requeued: number }> {
  const { store, gen, settings, target, run } = openBatch(outDir);
  let requeued: number;
  const release = lockBatch(store, outDir);
  try {
    requeued = store.resetUnfinished(gen);
  } finally {
    store.close();
    release();
  }
  const result = await runBatch({
    input: run.input,
    out: outDir,
    fromState: true,
    endpoint: target.endpoint,
    baseUrl: target.baseUrl,
    concurrency: run.concurrency,
    retries: run.retries,
    acceptEmptyOutput: run.acceptEmptyOutput === true,
    stream: run.stream === true,
    idField: settings.idField,
    pricePerSecond: settings.pricePerSecond,
    media: run.media ?? 'files',
    ...(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RerunOptions),
  });
  return { ...result, requeued };
}
