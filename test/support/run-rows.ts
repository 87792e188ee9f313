import { join } from 'node:path';
import { runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { writeJsonl } from './tmp.js';

/** Runs `rows` generated rows against the emulator, each call with an input and an output folder of its own in `dir`. */
export function rowRunner(dir: string) {
  let n = 0;
  return async (e: Emulator, rows: number, extra: Partial<RunBatchOptions> = {}) => {
    const input = writeJsonl(dir, `in-${++n}.jsonl`, rows);
    const out = join(dir, `out-${n}`);
    const r = await runBatch({ input, out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, ...extra });
    return { r, out };
  };
}
