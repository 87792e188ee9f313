import type { RowState, StoredRow, SummaryRow } from '../core/records.js';

// Rows read as arrays and made into objects here: about half the CPU of better-sqlite3's own row objects, which
// matters when the views are rewritten from a million rows. The indexes follow the SELECTs' column order
// (statements.ts: allRows, summaryRows).

export function* storedRows(it: IterableIterator<unknown[]>): Generator<StoredRow> {
  for (const c of it) {
    yield {
      key: c[0] as string,
      idJson: c[1] as string,
      seq: c[2] as number,
      line: c[3] as number,
      body: c[4] as string,
      inputOnly: c[5] as number,
      state: c[6] as RowState,
      jobId: c[7] as string | null,
      jobStatus: c[8] as string | null,
      attempts: c[9] as number,
      failures: c[10] as number,
      lost: c[11] as number,
      expired: c[12] as number,
      submittedAt: c[13] as number | null,
      finishedAt: c[14] as number | null,
      delayTime: c[15] as number | null,
      executionTime: c[16] as number | null,
      e2eMs: c[17] as number | null,
      output: c[18] as string | null,
      error: c[19] as string | null,
      errorCode: c[20] as string | null,
    };
  }
}

export function* summaryRowsOf(it: IterableIterator<unknown[]>): Generator<SummaryRow> {
  for (const c of it) {
    yield {
      idJson: c[0] as string,
      line: c[1] as number,
      state: c[2] as RowState,
      jobStatus: c[3] as string | null,
      attempts: c[4] as number,
      delayTime: c[5] as number | null,
      executionTime: c[6] as number | null,
      e2eMs: c[7] as number | null,
      error: c[8] as string | null,
    };
  }
}
