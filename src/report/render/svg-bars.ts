/** Bar charts without a time axis: the rows' final statuses, and failure groups. */
import { escapeHtml as esc, fmtInt, truncate } from './format.js';
import { type Box, COLORS, n1, noDataSvg, openSvg, statusColor, textW } from './svg.js';

/**
 * The rows by final status: one bar across the whole width (its segments sized in %, so it spans any page width at a
 * fixed height), and an HTML legend below it that wraps like text.
 */
export function statusBarSvg(name: string, title: string, items: readonly { status: string; count: number }[]): string {
  const total = items.reduce((a, i) => a + i.count, 0);
  if (total === 0) return noDataSvg(name, title, 'no rows', 640, 44);
  let s = `<svg data-chart="${esc(name)}" class="wide" width="100%" height="24" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">`;
  let x = 0;
  let legend = '';
  for (const it of items) {
    if (it.count === 0) continue;
    const share = (it.count / total) * 100;
    s += `<rect class="bar" x="${n1(x)}%" y="0" width="${n1(Math.max(0.3, share))}%" height="24" fill="${statusColor(it.status)}"><title>${esc(`${it.status}: ${fmtInt(it.count)}`)}</title></rect>`;
    x += share;
    const label = `${it.status} ${fmtInt(it.count)} (${share.toFixed(it.count === total ? 0 : 1)}%)`;
    legend += `<span><i style="background:${statusColor(it.status)}"></i>${esc(label)}</span>`;
  }
  return `${s}</svg><div class="legend">${legend}</div>`;
}

/** Horizontal bars, a label above each (for failure groups: long messages need the full width). */
export function labelledBarsSvg(
  name: string,
  title: string,
  items: readonly { label: string; value: number; note: string }[],
  empty: string,
): string {
  if (items.length === 0 || items.every((i) => i.value === 0)) return noDataSvg(name, title, empty, 640, 90);
  const rowH = 36;
  const b: Box = { w: 640, h: items.length * rowH + 8, left: 0, right: 0, top: 4, bottom: 4 };
  const max = Math.max(...items.map((i) => i.value));
  let s = openSvg(name, title, b);
  items.forEach((it, i) => {
    const y0 = b.top + i * rowH;
    const note = it.note;
    const room = Math.floor((b.w - textW(note) - 16) / (11 * 0.58));
    s += `<text x="0" y="${y0 + 11}" fill="${COLORS.text}">${esc(truncate(it.label, Math.max(20, room)))}</text>`;
    const w = Math.max(2, (it.value / max) * (b.w - 4));
    s += `<rect class="bar" x="0" y="${y0 + 16}" width="${n1(w)}" height="12" rx="2" fill="${COLORS.failed}" fill-opacity="0.85"><title>${esc(`${it.label}: ${note}`)}</title></rect>`;
    s += `<text x="${b.w}" y="${y0 + 11}" text-anchor="end" fill="${COLORS.muted}">${esc(note)}</text>`;
  });
  return s + '</svg>';
}
