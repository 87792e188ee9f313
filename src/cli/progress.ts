import type { BatchProgress } from '../batch/index.js';

/**
 * One progress line: rows done / failed / in flight / waiting, jobs per minute, ETA, dollars spent and projected,
 * and why it waits when it does. Pure.
 */
export function progressLine(p: BatchProgress): string {
  const minutes = p.elapsedMs / 60_000;
  // Rate of this run (earlier runs' rows do not make this one look fast).
  const rate = minutes > 0 ? p.completedThisRun / minutes : 0;
  const left = p.total - p.done;
  const etaMs = rate > 0 && left > 0 ? (left / rate) * 60_000 : null;
  const parts = [
    `${p.done}/${p.total} done`,
    `${p.failed} failed`,
    `${p.inFlight} in flight`,
    `${p.waiting} waiting`,
    `${Math.round(rate)}/min`,
  ];
  if (etaMs !== null) parts.push(`ETA ${formatDuration(etaMs)}`);
  if (p.spentUsd !== null) parts.push(`$${p.spentUsd.toFixed(2)} spent${p.projectedUsd !== null ? ` of ~$${p.projectedUsd.toFixed(2)}` : ''}`);
  if (p.paused) parts.push(`paused ${Math.ceil(p.paused.ms / 1000)} s: ${p.paused.reason}`);
  else if (p.runRate !== null) parts.push(`/run paced at ${p.runRate.toFixed(1)}/s after 429s`);
  return parts.join(' · ');
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
