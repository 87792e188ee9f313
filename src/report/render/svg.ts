/**
 * Inline SVG charts, drawn in TypeScript: no scripts, fonts or network. Every chart is an `<svg data-chart="name">`;
 * data marks are `rect.bar`, `path.series` and `line.pct` (tests count them). Every text from data is escaped.
 * A chart without data says "no data" instead of showing an empty box. This file holds what the charts share: colours,
 * the frame, axes, grid lines and labels; each chart is drawn in svg-histogram.ts, svg-line.ts or svg-bars.ts.
 */
import { round1 } from '../../core/numbers.js';
import { escapeHtml as esc, niceNum } from './format.js';

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
  EMPTY_OUTPUT: '#f9a825',
  OUTPUT_ERROR: '#d84315',
};

export function statusColor(s: string): string {
  return STATUS_COLORS[s] ?? '#7e57c2';
}

export const n1 = (x: number): string => round1(x).toString();

export interface Box {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function plotW(b: Box): number {
  return b.w - b.left - b.right;
}
export function plotH(b: Box): number {
  return b.h - b.top - b.bottom;
}

export function openSvg(name: string, label: string, b: Box): string {
  return (
    `<svg data-chart="${esc(name)}" viewBox="0 0 ${b.w} ${b.h}" width="${b.w}" height="${b.h}" role="img" ` +
    `aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="11">`
  );
}

/** A chart frame with a "no data" message (and why, when known). */
export function noDataSvg(name: string, label: string, why = 'no data', w = 640, h = 160): string {
  return (
    openSvg(name, label, { w, h, left: 0, right: 0, top: 0, bottom: 0 }) +
    `<rect x="0.5" y="0.5" width="${w - 1}" height="${h - 1}" fill="#fafbfc" stroke="${COLORS.grid}" rx="4"/>` +
    `<text x="${w / 2}" y="${h / 2}" text-anchor="middle" dominant-baseline="middle" fill="${COLORS.muted}" font-size="14">${esc(why)}</text>` +
    `</svg>`
  );
}

/** Y axis over [0, max]: nice ticks and the axis top. */
export function yAxis(max: number, count = 4): { top: number; ticks: number[] } {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const step = niceNum(max / count, false);
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { top: Math.max(top, step), ticks };
}

export function yGrid(b: Box, ticks: number[], y: (v: number) => number, fmt: (v: number) => string): string {
  let s = '';
  for (const t of ticks) {
    const yy = n1(y(t));
    s += `<line x1="${b.left}" x2="${b.w - b.right}" y1="${yy}" y2="${yy}" stroke="${COLORS.grid}"/>`;
    s += `<text x="${b.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="${COLORS.muted}">${esc(fmt(t))}</text>`;
  }
  return s;
}

export function xAxisLine(b: Box): string {
  const y = b.h - b.bottom;
  return `<line x1="${b.left}" x2="${b.w - b.right}" y1="${y}" y2="${y}" stroke="${COLORS.axis}"/>`;
}

export function xTicks(b: Box, ticks: number[], x: (v: number) => number, fmt: (v: number) => string): string {
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

export function axisLabels(b: Box, xLabel: string, yLabel: string): string {
  const cx = b.left + plotW(b) / 2;
  const cy = b.top + plotH(b) / 2;
  return (
    `<text x="${n1(cx)}" y="${b.h - 6}" text-anchor="middle" fill="${COLORS.text}">${esc(xLabel)}</text>` +
    `<text transform="translate(13 ${n1(cy)}) rotate(-90)" text-anchor="middle" fill="${COLORS.text}">${esc(yLabel)}</text>`
  );
}

/** Approximate text width at 11px (no font metrics in a pure renderer). */
export function textW(s: string, size = 11): number {
  return s.length * size * 0.58;
}
