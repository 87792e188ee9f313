import { join } from 'node:path';
import { Store } from '../../src/store/store.js';

/**
 * Splits a batch folder into `n` shard folders as `run --shard k/n` on n machines leaves them: each holds only its
 * shard's rows (row `seq` goes to shard `pick(seq)`, 0 … n-1), each row keeping its seq — its position among all the
 * input's rows — and the state the batch gave it (job id, output, error, timings); the meta `input` is the input's,
 * with `shard: {k, n}`. Written through the store's own API (real SQLite). Returns the folders, shard 0 first.
 */
export function splitIntoShards(fullOut: string, n: number, into: string, pick: (seq: number) => number = (seq) => seq % n): string[] {
  const src = Store.open(fullOut, { readonly: true });
  try {
    const gen = src.getMeta('gen')!;
    const input = src.getMeta('input')!;
    const dirs: string[] = [];
    for (let k = 0; k < n; k++) {
      const dir = join(into, `shard-${k}-of-${n}.runpod`);
      dirs.push(dir);
      const st = Store.open(dir);
      try {
        st.setMeta('target', src.getMeta('target')!);
        st.setMeta('settings', src.getMeta('settings')!);
        st.setMeta('run', src.getMeta('run')!);
        st.setMeta('input', { ...input, shard: { k, n } });
        st.setMeta('gen', gen);
        const mine = [...src.rows(gen)].filter((r) => pick(r.seq) === k);
        st.begin();
        for (const r of mine) {
          const body = JSON.parse(r.body) as object;
          st.ingestRow({ key: r.key, id: JSON.parse(r.idJson), seq: r.seq, line: r.line, body, bodyJson: r.body, hash: r.key }, gen);
        }
        st.commit();
        for (const r of mine) {
          if (r.jobId !== null) {
            st.markSubmitted(
              r.key,
              r.jobId,
              r.attempts,
              r.submittedAt ?? 0,
              r.state === 'SUBMITTED' ? (r.jobStatus ?? 'IN_QUEUE') : 'IN_QUEUE',
            );
          }
          if (r.state === 'PENDING' || r.state === 'SUBMITTED') continue;
          if (r.jobId === null) {
            st.failRow(r.key, r.state, r.error ?? r.state, r.errorCode ?? '', r.finishedAt ?? 0);
            continue;
          }
          st.markTerminal({
            key: r.key,
            jobId: r.jobId,
            status: r.state,
            jobStatus: r.jobStatus ?? r.state,
            finishedAt: r.finishedAt ?? 0,
            e2eMs: r.e2eMs,
            delayTime: r.delayTime,
            executionTime: r.executionTime,
            output: r.output,
            error: r.error,
            errorCode: r.errorCode,
          });
        }
        st.flush();
      } finally {
        st.close();
      }
    }
    return dirs;
  } finally {
    src.close();
  }
}
