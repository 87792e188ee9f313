import type { BatchProgress } from '../batch/index.js';

/** A field of the progress line; the lower `keep`, the longer it stays when the terminal is narrow. */
interface Field {
  text: string;
  keep: number;
}

/**
 * One progress line: rows done / failed / retried / in flight / waiting, this run's pace, ETA, dollars spent and
 * projected, and why it waits or what it retries when it does. Fitted to `width` columns (a redraw that wraps leaves
 * a line behind on every refresh): the least important fields go first, and a line still too long is cut. Pure.
 */
export function progressLine(p: BatchProgress, width = Infinity): string {
  const fields: Field[] = [{ text: `${p.done}/${p.total} done`, keep: 0 }];
  fields.push({ text: `${p.failed} failed`, keep: 2 });
  if (p.requeued > 0) fields.push({ text: `${p.requeued} retried`, keep: 6 });
  fields.push({ text: `${p.inFlight} in flight`, keep: 3 });
  fields.push({ text: `${p.waiting} waiting`, keep: 8 });
  fields.push({ text: `${Math.round(p.ratePerMinute)}/min`, keep: 5 });
  if (p.etaMs !== null) fields.push({ text: `ETA ${formatDuration(p.etaMs)}`, keep: 4 });
  if (p.spentUsd !== null) {
    fields.push({ text: `$${p.spentUsd.toFixed(2)} spent${p.projectedUsd !== null ? ` of ~$${p.projectedUsd.toFixed(2)}` : ''}`, keep: 5 });
  }
  if (p.paused) fields.push({ text: `paused ${Math.ceil(p.paused.ms / 1000)} s: ${p.paused.reason}`, keep: 1 });
  else if (p.runRate !== null) fields.push({ text: `/run paced at ${p.runRate.toFixed(1)}/s after 429s`, keep: 7 });
  if (p.retrying) fields.push({ text: `retrying: ${p.retrying.label} ${p.retrying.count}/${p.retrying.of}`, keep: 1 });
  if (p.sizing) fields.push({ text: `target ${p.sizing.target} (${p.sizing.reason})`, keep: 7 });
  return fitFields(fields, width);
}

const SEP = ' · ';

/** Joins the fields, dropping the least important (highest `keep`, later first) until the line fits. */
export function fitFields(fields: Field[], width: number): string {
  const kept = [...fields];
  const length = () => kept.reduce((n, f) => n + f.text.length, 0) + SEP.length * Math.max(0, kept.length - 1);
  while (kept.length > 1 && length() > width) {
    let drop = kept.length - 1;
    for (let i = kept.length - 1; i >= 0; i--) if ((kept[i]?.keep ?? 0) > (kept[drop]?.keep ?? 0)) drop = i;
    kept.splice(drop, 1);
  }
  const line = kept.map((f) => f.text).join(SEP);
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
