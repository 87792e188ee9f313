/** The latency histogram chart: bars, a log or linear time axis, and percentile lines labelled above the plot. */
import { escapeHtml as esc, fmtCount, fmtDuration, fmtInt, fmtTick, linearTicks, logTicks, timeUnit } from './format.js';
import type { Histogram } from './histogram.js';
import { axisLabels, type Box, COLORS, n1, noDataSvg, openSvg, plotH, plotW, textW, xAxisLine, xTicks, yAxis, yGrid } from './svg.js';

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
export function histogramSvg(
  name: string,
  title: string,
  h: Histogram | null,
  opts: { what: string; noun: string; extra?: Marker[] },
): string {
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
    // A guide outside the axis would sit on its edge and say a wrong value there: left out.
    ...(opts.extra ?? []).filter((m) => m.value >= E[0]! && m.value <= E[E.length - 1]!),
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

  let s = openSvg(name, title, b);
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
