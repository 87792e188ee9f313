/** Line charts over running time (throughput, jobs in flight, cost, 429s), with the pauses that were cut out marked. */
import { escapeHtml as esc, fmtCount, fmtDuration, fmtTick, linearTicks, timeUnit } from './format.js';
import type { Pause } from './timeline.js';
import { axisLabels, type Box, COLORS, n1, noDataSvg, openSvg, plotH, plotW, textW, xAxisLine, xTicks, yAxis, yGrid } from './svg.js';

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

  let s = openSvg(name, title, b);
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
  s += xTicks(
    b,
    linearTicks(0, opts.elapsedMs / unit.ms, 8).map((v) => v * unit.ms),
    x,
    (v) => fmtTick(v, unit.ms),
  );
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
