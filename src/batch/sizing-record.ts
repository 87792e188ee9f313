import type { SizingPoint, SizingRecord } from '../core/records.js';

/** Mode changes kept in the state: enough for a night of growing, probing and holding, small enough to rewrite. */
export const SIZING_CHANGES_KEPT = 100;

/**
 * The record after one progress tick (pure): null when nothing worth writing changed, so the state is written only
 * when the target or its reason moves. A new mode (or a new run) adds a change; past the bound the oldest change that
 * is not a run's first goes.
 */
export function noteSizing(prev: SizingRecord | undefined, runId: number, now: SizingPoint): SizingRecord | null {
  const cur = prev?.runId === runId ? prev.current : undefined;
  if (cur && cur.target === now.target && cur.reason === now.reason) return null;
  const changes = prev ? prev.changes.slice() : [];
  if (!cur || cur.mode !== now.mode) {
    changes.push({ runId, ...now });
    if (changes.length > SIZING_CHANGES_KEPT) {
      const i = changes.findIndex((c, k) => k > 0 && changes[k - 1]!.runId === c.runId);
      changes.splice(Math.max(i, 0), 1);
    }
  }
  return { runId, current: now, changes };
}
