import { describe, expect, it } from 'vitest';
import type { SizingRecord } from '../../src/core/records.js';
import { noteSizing, SIZING_CHANGES_KEPT } from '../../src/batch/sizing-record.js';

const at = (t: number, target: number, mode: string, reason = `${mode}: x`) => ({ t, target, mode, reason });

describe('noteSizing', () => {
  it('starts a record at the first decision of a run', () => {
    const r = noteSizing(undefined, 1, at(10, 10, 'starting'))!;
    expect(r).toEqual({ runId: 1, current: at(10, 10, 'starting'), changes: [{ runId: 1, ...at(10, 10, 'starting') }] });
  });

  it('writes nothing while the target and reason stay', () => {
    const r = noteSizing(undefined, 1, at(10, 10, 'starting'))!;
    expect(noteSizing(r, 1, at(20, 10, 'starting'))).toBeNull();
  });

  it('moves the current target without a change entry while the mode stays; a new mode adds one', () => {
    let r = noteSizing(undefined, 1, at(10, 10, 'growing', 'growing: 5 idle workers'))!;
    r = noteSizing(r, 1, at(20, 15, 'growing', 'growing: 3 idle workers'))!;
    expect(r.current.target).toBe(15);
    expect(r.changes).toHaveLength(1);
    r = noteSizing(r, 1, at(30, 20, 'holding'))!;
    expect(r.changes.map((c) => c.mode)).toEqual(['growing', 'holding']);
  });

  it('a new run adds a change even in the same mode and with the same figures', () => {
    const r1 = noteSizing(undefined, 1, at(10, 20, 'holding'))!;
    const r2 = noteSizing(r1, 2, at(99, 20, 'holding'))!;
    expect(r2.runId).toBe(2);
    expect(r2.changes.map((c) => c.runId)).toEqual([1, 2]);
  });

  it('past the bound drops the oldest change that is not the first of its run', () => {
    let r: SizingRecord | undefined;
    for (let i = 0; i < SIZING_CHANGES_KEPT + 5; i++) r = noteSizing(r, 1, at(i, i, i % 2 ? 'growing' : 'holding'))!;
    expect(r!.changes).toHaveLength(SIZING_CHANGES_KEPT);
    expect(r!.changes[0]!.t).toBe(0); // the run's first is kept
    expect(r!.changes[1]!.t).toBe(6); // 1…5 went
    expect(r!.changes.at(-1)!.t).toBe(SIZING_CHANGES_KEPT + 4);
  });
});
