import { ConfigError } from '../core/errors.js';
import { cancelInFlight, type CancelSummary } from '../engine/cancel.js';
import { createClient } from '../runpod/client.js';
import { lockBatch, openBatch } from './open.js';

export type { CancelSummary } from '../engine/cancel.js';

/** `runpod-batch cancel`: cancels the batch's jobs in flight on RunPod (they stop billing); their rows run again next time. */
export async function cancelBatch(outDir: string, o: { apiKey?: string | null; timeoutMs?: number } = {}): Promise<CancelSummary> {
  const { store, gen, target } = openBatch(outDir);
  const release = lockBatch(store, outDir);
  const apiKey = o.apiKey ?? process.env.RUNPOD_API_KEY ?? null;
  try {
    if (target.endpoint !== null && !apiKey) throw new ConfigError('RUNPOD_API_KEY: not set (the API key is read from the environment)');
    const client = createClient({ baseUrl: target.baseUrl, endpointId: target.endpoint, apiKey, timeoutMs: o.timeoutMs });
    try {
      store.setMeta('viewsOf', null); // rows change: the next run must rewrite the views
      return await cancelInFlight(client, store, gen);
    } finally {
      await client.close();
    }
  } finally {
    store.close();
    release();
  }
}
