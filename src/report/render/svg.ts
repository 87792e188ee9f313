/**
 * Inline SVG charts, drawn in TypeScript: no scripts, fonts or network. Every chart is an `<svg data-chart="name">`;
 * data marks are `rect.bar`, `path.series` and `line.pct` (tests count them). Every text from data is escaped.
 * A chart without data says "no data" instead of showing an empty box.
 */
import { round1 } from '../../core/numbers.js';
import type { Histogram } from './histogram.js';
import type { Pause } from './timeline.js';
import { escapeHtml as esc, fmtCount, fmtDuration, fmtInt, fmtTick, linearTicks, logTicks, niceNum, timeUnit, truncate } from './format.js';

export const COLORS = {
  bar: '#4f7cac',
  completed: '#2e7d32',
  failed: '#c62828',
  warn: '#ef6c00',
  inflight: '#1565c0',
  cost: '#6a1b9a',
  grid: '#e3e6ea',
  axis: '#8a9099',
  text: '#2b2f36',
  muted: '#5f6670',
  pct: ['#1b5e20', '#e65100', '#b71c1c'] as const,
};

const STATUS_COLORS: Record<string, string> = {
  COMPLETED: '#2e7d32',
  FAILED: '#c62828',
  TIMED_OUT: '#ef6c00',
  CANCELLED: '#757575',
  PENDING: '#b0b7c0',
  IN_QUEUE: '#64b5f6',
  IN_PROGRESS: '#1565c0',
  SUBMITTED: '#1565c0',
  LOST: '#8d6e63',
  EXPIRED: '#ad1457',
};

export function statusColor(s: string): string {
  return STATUS_COLORS[s] ?? '#7e57c2';
}

const n1 = (x: number): string => round1(x).toString();

interface Box {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function plotW(b: Box): number {
  return b.w - b.left - b.right;
}
function plotH(b: Box): number {
  return b.h - b.top - b.bottom;
}

function open(name: string, label: string, b: Box): string {
  return (
    `<svg data-chart="${esc(name)}" viewBox="0 0 ${b.w} ${b.h}" width="${b.w}" height="${b.h}" role="img" ` +
    `aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="11">`
  );
}

/** A chart frame with a "no data" message (and why, when known). */
export function noDataSvg(name: string, label: string, why = 'no data', w = 640, h = 160): string {
  return (
    open(name, label, { w, h, left: 0, right: 0, top: 0, bottom: 0 }) +
    `<rect x="0.5" y="0.5" width="${w - 1}" height="${h - 1}" fill="#fafbfc" stroke="${COLORS.grid}" rx="4"/>` +
    `<text x="${w / 2}" y="${h / 2}" text-anchor="middle" dominant-baseline="middle" fill="${COLORS.muted}" font-size="14">${esc(why)}</text>` +
    `</svg>`
  );
}

/** Y axis over [0, max]: nice ticks and the axis top. */
function yAxis(max: number, count = 4): { top: number; ticks: number[] } {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const step = niceNum(max / count, false);
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { top: Math.max(top, step), ticks };
}

function yGrid(b: Box, ticks: number[], y: (v: number) => number, fmt: (v: number) => string): string {
  let s = '';
  for (const t of ticks) {
    const yy = n1(y(t));
    s += `<line x1="${b.left}" x2="${b.w - b.right}" y1="${yy}" y2="${yy}" stroke="${COLORS.grid}"/>`;
    s += `<text x="${b.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="${COLORS.muted}">${esc(fmt(t))}</text>`;
  }
  return s;
}

function xAxisLine(b: Box): string {
  const y = b.h - b.bottom;
  return `<line x1="${b.left}" x2="${b.w - b.right}" y1="${y}" y2="${y}" stroke="${COLORS.axis}"/>`;
}

function xTicks(b: Box, ticks: number[], x: (v: number) => number, fmt: (v: number) => string): string {
  const y = b.h - b.bottom;
  let s = '';
  let lastX = -Infinity;
  for (const t of ticks) {
    const xx = x(t);
    if (xx < b.left - 0.5 || xx > b.w - b.right + 0.5 || xx - lastX < 34) continue;
    lastX = xx;
    s += `<line x1="${n1(xx)}" x2="${n1(xx)}" y1="${y}" y2="${y + 4}" stroke="${COLORS.axis}"/>`;
    s += `<text x="${n1(xx)}" y="${y + 15}" text-anchor="middle" fill="${COLORS.muted}">${esc(fmt(t))}</text>`;
  }
  return s;
}

function axisLabels(b: Box, xLabel: string, yLabel: string): string {
  const cx = b.left + plotW(b) / 2;
  const cy = b.top + plotH(b) / 2;
  return (
    `<text x="${n1(cx)}" y="${b.h - 6}" text-anchor="middle" fill="${COLORS.text}">${esc(xLabel)}</text>` +
    `<text transform="translate(13 ${n1(cy)}) rotate(-90)" text-anchor="middle" fill="${COLORS.text}">${esc(yLabel)}</text>`
  );
}

/** Approximate text width at 11px (no font metrics in a pure renderer). */
function textW(s: string, size = 11): number {
  return s.length * size * 0.58;
}

export interface Marker {
  /** Drawn as line.pct when `pct`, else as a dashed guide line. */
  pct: boolean;
  label: string;
  value: number;
  color: string;
}

/**
 * A latency histogram with percentile lines (p50/p90/p99) labelled above the plot. Log-binned histograms get a
 * log x axis; a first bin starting at 0 is drawn one bin wide left of the first power.
 */
export function histogramSvg(name: string, title: string, h: Histogram | null, opts: { what: string; noun: string; extra?: Marker[] }): string {
  if (!h || h.count === 0) return noDataSvg(name, title);
  const b: Box = { w: 640, h: 270, left: 56, right: 18, top: 50, bottom: 44 };
  const E = h.edges;
  const log = h.scale === 'log';
  const firstPos = log ? (E[0]! > 0 ? E[0]! : E[1]!) : 0;
  const step0 = log && E.length > 2 ? Math.log10(E[2]!) - Math.log10(E[1]!) : 0.1;
  const tx = (v: number): number => (log ? (v <= 0 ? Math.log10(firstPos) - step0 : Math.log10(v)) : v);
  const d0 = tx(E[0]!);
  const d1 = tx(E[E.length - 1]!);
  const span = d1 - d0 || 1;
  const x = (v: number): number => b.left + ((tx(v) - d0) / span) * plotW(b);
  const maxCount = Math.max(...h.counts);
  const ya = yAxis(maxCount);
  const y = (c: number): number => b.top + plotH(b) - (c / ya.top) * plotH(b);
  const unit = timeUnit(h.max);

  // Percentile lines, labels stacked in rows above the plot so they never overlap: lay them out first, since the
  // number of label rows sets the plot's top.
  const markers: Marker[] = [
    { pct: true, label: 'p50', value: h.p50, color: COLORS.pct[0] },
    { pct: true, label: 'p90', value: h.p90, color: COLORS.pct[1] },
    { pct: true, label: 'p99', value: h.p99, color: COLORS.pct[2] },
    ...(opts.extra ?? []),
  ];
  // Row r is drawn above row r+1; a marker's line runs from its label down through the rows below it. A label goes
  // in the first row where it overlaps no label, crosses no line from the rows above, and its own line crosses no
  // label in the rows below.
  // Placed right to left; each label extends right of its line when there is room, else left of it.
  const placed: { m: Marker; mx: number; text: string; anchorEnd: boolean; row: number; left: number; right: number }[] = [];
  const byX = markers
    .map((m) => ({ m, mx: Math.min(b.w - b.right, Math.max(b.left, x(Math.min(Math.max(m.value, E[0]!), E[E.length - 1]!)))) }))
    .sort((p, q) => q.mx - p.mx);
  for (const { m, mx } of byX) {
    const text = `${m.label} ${fmtDuration(m.value)}`;
    const tw = textW(text) + 6;
    const anchors = [false, true].filter((end) => (end ? mx - tw >= 2 : mx + tw <= b.w - 2));
    if (anchors.length === 0) anchors.push(true);
    const span = (end: boolean): [number, number] => (end ? [mx - tw, mx] : [mx, mx + tw]);
    const fits = (row: number, [left, right]: [number, number]): boolean =>
      placed.every((p) => {
        if (p.row === row) return p.right < left || p.left > right;
        if (p.row < row) return p.mx < left - 1 || p.mx > right + 1;
        return mx < p.left - 1 || mx > p.right + 1;
      });
    const rows = placed.reduce((a, p) => Math.max(a, p.row + 1), 0);
    let choice: { row: number; end: boolean } | null = null;
    for (let r = 0; r < rows && !choice; r++) for (const end of anchors) if (!choice && fits(r, span(end))) choice = { row: r, end };
    if (!choice) {
      // A new row on top (its line then runs through every row below) when its line crosses no label; else at the bottom.
      if (placed.every((p) => mx < p.left - 1 || mx > p.right + 1)) {
        for (const p of placed) p.row++;
        choice = { row: 0, end: anchors[0]! };
      } else {
        const bottom = rows;
        choice = { row: bottom, end: anchors.find((end) => fits(bottom, span(end))) ?? anchors[0]! };
      }
    }
    const [left, right] = span(choice.end);
    placed.push({ m, mx, text, anchorEnd: choice.end, row: choice.row, left, right });
  }
  const rowCount = placed.reduce((a, p) => Math.max(a, p.row + 1), 1);
  const rowH = 13;
  b.top = 10 + rowCount * rowH;

  let s = open(name, title, b);
  s += yGrid(b, ya.ticks, y, fmtCount);
  // Bars.
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c === 0) continue;
    const x0 = x(E[i]!);
    const x1 = x(E[i + 1]!);
    const bw = Math.max(1, x1 - x0 - (x1 - x0 > 4 ? 1 : 0));
    const top = y(c);
    const bh = Math.max(1.5, b.top + plotH(b) - top); // a single slow row in a long tail stays visible
    const range = `${fmtDuration(E[i]!)}–${fmtDuration(E[i + 1]!)}`;
    s += `<rect class="bar" x="${n1(x0)}" y="${n1(b.top + plotH(b) - bh)}" width="${n1(bw)}" height="${n1(bh)}" fill="${COLORS.bar}"><title>${esc(`${range}: ${fmtInt(c)} ${opts.noun}`)}</title></rect>`;
  }
  s += xAxisLine(b);
  const ticks = log ? logTicks(Math.max(firstPos, 1e-9), E[E.length - 1]!, 9) : linearTicks(E[0]!, E[E.length - 1]!, 6);
  if (log && E[0] === 0) ticks.unshift(0);
  s += xTicks(b, ticks, x, (v) => fmtTick(v, unit.ms));
  s += axisLabels(b, `${opts.what} (${unit.name}${log ? ', log scale' : ''})`, opts.noun);
  // Drawn in marker order (p50, p90, p99, …), whatever the placement order.
  for (const { m, mx, text, anchorEnd, row } of [...placed].sort((p, q) => markers.indexOf(p.m) - markers.indexOf(q.m))) {
    const ty = b.top - 6 - (rowCount - 1 - row) * rowH;
    const cls = m.pct ? 'pct' : 'guide';
    s += `<line class="${cls}" data-label="${esc(m.label)}" data-value="${m.value}" x1="${n1(mx)}" x2="${n1(mx)}" y1="${n1(ty + 3)}" y2="${b.h - b.bottom}" stroke="${m.color}" stroke-width="1.5"${m.pct ? '' : ' stroke-dasharray="5 3"'}/>`;
    s += `<text x="${n1(anchorEnd ? mx - 3 : mx + 3)}" y="${n1(ty)}" text-anchor="${anchorEnd ? 'end' : 'start'}" fill="${m.color}" font-weight="600">${esc(text)}</text>`;
  }
  return s + '</svg>';
}

export interface Series {
  name: string;
  color: string;
  /** x (elapsed ms) and y values; a null y breaks the line. */
  xs: readonly number[];
  ys: readonly (number | null)[];
  area?: boolean;
}

/** A line chart over running time, with markers where pauses between runs were cut out. */
export function lineChartSvg(
  name: string,
  title: string,
  series: Series[],
  opts: { elapsedMs: number; yLabel: string; yFmt?: (v: number) => string; pauses?: readonly Pause[]; empty?: string },
): string {
  const hasData = series.some((se) => se.ys.some((v) => v !== null));
  if (!hasData || !(opts.elapsedMs > 0)) return noDataSvg(name, title, opts.empty ?? 'no data');
  const b: Box = { w: 640, h: 250, left: 60, right: 18, top: 34, bottom: 44 };
  let maxY = 0;
  for (const se of series) for (const v of se.ys) if (v !== null && v > maxY) maxY = v;
  const ya = yAxis(maxY);
  const unit = timeUnit(opts.elapsedMs);
  const x = (t: number): number => b.left + (Math.min(Math.max(t, 0), opts.elapsedMs) / opts.elapsedMs) * plotW(b);
  const y = (v: number): number => b.top + plotH(b) - (v / ya.top) * plotH(b);
  const yFmt = opts.yFmt ?? fmtCount;

  let s = open(name, title, b);
  s += yGrid(b, ya.ticks, y, yFmt);
  // Pauses (resumes, sleeping laptop): dashed guides, labelled when there is room.
  let lastLabel = -Infinity;
  for (const p of opts.pauses ?? []) {
    const px = x(p.at);
    s += `<line class="pause" x1="${n1(px)}" x2="${n1(px)}" y1="${b.top}" y2="${b.h - b.bottom}" stroke="${COLORS.axis}" stroke-dasharray="3 3"/>`;
    if (px - lastLabel > 110 && px < b.w - b.right - 20) {
      lastLabel = px;
      const label = `${p.newRun ? 'resumed' : 'gap'} after ${fmtDuration(p.pausedMs)}`;
      s += `<text x="${n1(px + 3)}" y="${b.top + 10}" fill="${COLORS.muted}" font-size="10">${esc(label)}</text>`;
    }
  }
  for (const se of series) {
    let d = '';
    let pen = false;
    let points = 0;
    let area = '';
    let segStart = 0;
    let lastX = 0;
    const base = n1(y(0));
    for (let i = 0; i < se.xs.length; i++) {
      const v = se.ys[i];
      if (v === null || v === undefined) {
        if (se.area && pen) area += `L${n1(lastX)} ${base}L${n1(segStart)} ${base}Z`;
        pen = false;
        continue;
      }
      const xx = x(se.xs[i]!);
      const yy = y(v);
      if (!pen) {
        segStart = xx;
        if (se.area) area += `M${n1(xx)} ${base}L${n1(xx)} ${n1(yy)}`;
      } else if (se.area) area += `L${n1(xx)} ${n1(yy)}`;
      d += `${pen ? 'L' : 'M'}${n1(xx)} ${n1(yy)}`;
      pen = true;
      lastX = xx;
      points++;
    }
    if (se.area && pen) area += `L${n1(lastX)} ${base}L${n1(segStart)} ${base}Z`;
    if (points === 1) d += 'h0.01'; // one point: a dot (round cap) rather than nothing
    if (se.area && area) s += `<path class="area" d="${area}" fill="${se.color}" fill-opacity="0.12" stroke="none"/>`;
    s += `<path class="series" data-name="${esc(se.name)}" data-points="${points}" d="${d}" fill="none" stroke="${se.color}" stroke-width="${points === 1 ? 4 : 1.6}" stroke-linejoin="round" stroke-linecap="round"/>`;
  }
  s += xAxisLine(b);
  s += xTicks(b, linearTicks(0, opts.elapsedMs / unit.ms, 8).map((v) => v * unit.ms), x, (v) => fmtTick(v, unit.ms));
  s += axisLabels(b, `time running (${unit.name})`, opts.yLabel);
  // Legend, top right.
  let lx = b.w - b.right;
  for (const se of [...series].reverse()) {
    const tw = textW(se.name);
    lx -= tw + 26;
    s += `<line x1="${n1(lx)}" x2="${n1(lx + 16)}" y1="12" y2="12" stroke="${se.color}" stroke-width="3"/>`;
    s += `<text x="${n1(lx + 20)}" y="12" dominant-baseline="middle" fill="${COLORS.text}">${esc(se.name)}</text>`;
    lx -= 8;
  }
  return s + '</svg>';
}

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
  let s = open(name, title, b);
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
  let s = open(name, title, b);
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
