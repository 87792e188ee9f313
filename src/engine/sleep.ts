import { RunpodBatchError } from '../errors.js';

/** A wait that an AbortSignal ends early (rejecting with RPB_ABORTED), like p-retry's abortable sleep. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
    const onAbort = () => {
      clearTimeout(t);
      reject(new RunpodBatchError('RPB_ABORTED', 'aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
