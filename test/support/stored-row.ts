import type { StoredRow } from '../../src/core/records.js';

/** A row as the store returns it: COMPLETED, with timings, unless `over` says otherwise. */
export function storedRow(over: Partial<StoredRow> = {}): StoredRow {
  return {
    key: 'k1',
    idJson: '"a-1"',
    seq: 1,
    line: 3,
    body: '{}',
    inputOnly: 0,
    state: 'COMPLETED',
    jobId: 'j1',
    jobStatus: 'COMPLETED',
    attempts: 1,
    failures: 0,
    lost: 0,
    expired: 0,
    submittedAt: 1,
    finishedAt: 2,
    delayTime: 10,
    executionTime: 20,
    e2eMs: 40,
    output: '{}',
    error: null,
    errorCode: null,
    ...over,
  };
}
