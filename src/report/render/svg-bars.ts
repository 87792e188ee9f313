/** Bar charts without a time axis: the rows' final statuses, and failure groups. */
import { escapeHtml as esc, fmtInt, truncate } from './format.js';
import { type Box, COLORS, n1, noDataSvg, openSvg, statusColor, textW } from './svg.js';

/** One stacked horizontal bar of row statuses, with a legend below. */
export function statusBarSvg(name: string, title: string, items: readonly { status: string; count: number }[]): string {
  const total = items.reduce((a, i) => a + i.count, 0);
  if (total === 0) return noDataSvg(name, title, 'no rows', 640, 44);
  const W = 640;
  // Legend layout first: its rows set the height.
  const legend: { it: { status: string; count: number }; label: string; lx: number; ly: number }[] = [];
  let lx = 0;
  let ly = 50;
  for (const it of items) {
    if (it.count === 0) continue;
    const label = `${it.status} ${fmtInt(it.count)} (${((it.count / total) * 100).toFixed(it.count === total ? 0 : 1)}%)`;
    const tw = textW(label, 12) + 28;
    if (lx > 0 && lx + tw > W) {
      lx = 0;
      ly += 18;
    }
    legend.push({ it, label, lx, ly });
    lx += tw;
  }
  const b: Box = { w: W, h: ly + 12, left: 0, right: 0, top: 8, bottom: 0 };
  let s = openSvg(name, title, b);
  let x = 0;
  for (const it of items) {
    if (it.count === 0) continue;
    const w = Math.max(2, (it.count / total) * W);
    s += `<rect class="bar" x="${n1(Math.min(x, W - 2))}" y="${b.top}" width="${n1(Math.min(w, W - Math.min(x, W - 2)))}" height="24" fill="${statusColor(it.status)}"><title>${esc(`${it.status}: ${fmtInt(it.count)}`)}</title></rect>`;
    x += (it.count / total) * W;
  }
  for (const l of legend) {
    s += `<rect x="${n1(l.lx)}" y="${l.ly - 6}" width="12" height="12" rx="2" fill="${statusColor(l.it.status)}"/>`;
    s += `<text x="${n1(l.lx + 17)}" y="${l.ly}" dominant-baseline="middle" font-size="12" fill="${COLORS.text}">${esc(l.label)}</text>`;
  }
  return s + '</svg>';
}

/** Horizontal bars, a label above each (for failure groups: long messages need the full width). */
export function labelledBarsSvg(name: string, title: string, items: readonly { label: string; value: number; note: string }[], empty: string): string {
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
