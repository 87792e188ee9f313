/** Formatting and escaping shared by the Markdown and HTML renderers. Pure; no locale: output is the same everywhere. */

/** Escapes text for HTML element content and attribute values (both quote kinds). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/**
 * Escapes text for a Markdown table cell or paragraph: no raw HTML (viewers that render it would run it), no cell
 * breaks (`|`), no line breaks, and no emphasis/code/link syntax taken from data.
 */
export function escapeMd(s: string): string {
  return s
    .replace(/\r?\n|\r/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1');
}

/** Cuts `s` to `max` characters, with an ellipsis. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(0, max - 1)) + '…';
}

/** 1234567 → "1,234,567" (thousands separated by commas, whatever the locale). */
export function fmtInt(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const r = Math.round(n);
  const s = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return r < 0 ? '-' + s : s;
}

/** A number with up to `digits` significant decimals, thousands separated: 12.5, 0.031, 1,234. */
export function fmtNum(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1000) return fmtInt(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  const d = abs >= 100 ? 0 : abs >= 10 ? Math.min(digits, 1) : abs >= 1 ? digits : Math.max(digits, 1 - Math.floor(Math.log10(abs)) + 1);
  return String(Number(n.toFixed(Math.min(d, 8))));
}

export function fmtPct(part: number, whole: number): string {
  if (whole <= 0) return '–';
  const p = (part / whole) * 100;
  if (p === 100 || p === 0) return `${p}%`;
  if (p > 99.9 && p < 100) return '99.9%';
  if (p < 0.1) return '<0.1%';
  return `${p.toFixed(1)}%`;
}

/** USD with enough decimals to be meaningful for small sums: $0.0123, $1.23, $1,234.56. */
export function fmtUsd(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n === 0) return '$0';
  const abs = Math.abs(n);
  if (abs >= 1000) return `$${fmtInt(Math.floor(n))}.${n.toFixed(2).slice(-2)}`;
  if (abs >= 0.1) return `$${n.toFixed(2)}`;
  if (abs >= 0.01) return `$${n.toFixed(3)}`;
  return `$${Number(n.toPrecision(2))}`;
}

/** A duration for people: 850 ms, 1.25 s, 42 s, 4 min 12 s, 3 h 05 min. */
export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const neg = ms < 0 ? '-' : '';
  ms = Math.abs(ms);
  if (ms < 1000) return `${neg}${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${neg}${Number(s.toFixed(2))} s`;
  if (s < 60) return `${neg}${Number(s.toFixed(1))} s`;
  const totalS = Math.round(s);
  if (totalS < 3600) {
    const m = Math.floor(totalS / 60);
    const r = totalS % 60;
    return `${neg}${m} min${r ? ` ${r} s` : ''}`;
  }
  const totalM = Math.round(totalS / 60);
  const h = Math.floor(totalM / 60);
  const m = totalM % 60;
  if (h < 48) return `${neg}${h} h ${String(m).padStart(2, '0')} min`;
  return `${neg}${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Epoch ms → "2026-01-05 22:01 UTC" (UTC: the same report reads the same everywhere). */
/** A time of day to the second, UTC ("16:39:05 UTC"): for events minutes apart or less. */
export function fmtTimeOfDay(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return '–';
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toISOString().slice(11, 19) + ' UTC';
}

export function fmtClock(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return '–';
  const d = new Date(epochMs);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** A value shown in `null` → "–". */
export function orDash<T>(v: T | null | undefined, f: (v: T) => string): string {
  return v === null || v === undefined ? '–' : f(v);
}

/**
 * A time unit for an axis spanning up to `maxMs`: ms below 2 s, s below 2 min, min below 2 h, else h.
 */
export function timeUnit(maxMs: number): { name: string; ms: number } {
  if (maxMs < 2000) return { name: 'ms', ms: 1 };
  if (maxMs < 120_000) return { name: 's', ms: 1000 };
  if (maxMs < 7_200_000) return { name: 'min', ms: 60_000 };
  return { name: 'h', ms: 3_600_000 };
}

/** A "nice" number near `x` (1, 2, 2.5, 5 × 10^k), rounded up when `up`, else to the nearest. */
export function niceNum(x: number, up = true): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  let nf: number;
  if (up) nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  else nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
  return nf * 10 ** exp;
}

/** Tick values covering [lo, hi] on a linear axis, about `count` of them, at nice steps. */
export function linearTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceNum((hi - lo) / count, false);
  const start = Math.ceil(lo / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = start; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Tick values for a log axis over [lo, hi] (lo > 0): 1-2-5 per decade, thinned to about `max`. */
export function logTicks(lo: number, hi: number, max = 8): number[] {
  if (!(lo > 0) || !(hi > lo)) return [lo];
  const out: number[] = [];
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.ceil(Math.log10(hi));
  for (const mult of [[1], [1, 5], [1, 2, 5]]) {
    out.length = 0;
    for (let e = e0; e <= e1; e++) {
      for (const m of mult) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
      }
    }
    if (out.length * 2 > max || mult.length === 3) break;
  }
  if (out.length <= max) return out;
  // Too many decades: keep every k-th power of ten.
  const k = Math.ceil(out.length / max);
  return out.filter((_, i) => i % k === 0);
}

/** A tick label in `unit` (value given in ms): trims needless decimals. */
export function fmtTick(ms: number, unitMs: number): string {
  const v = ms / unitMs;
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1000) return fmtInt(v);
  if (abs >= 10) return String(Number(v.toFixed(1)));
  if (abs >= 1) return String(Number(v.toFixed(2)));
  return String(Number(v.toPrecision(2)));
}

/** Count-axis tick label: 1200 → "1.2k", 3 → "3". */
export function fmtCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${Number((n / 1e6).toFixed(1))}M`;
  if (abs >= 1e4) return `${Number((n / 1e3).toFixed(0))}k`;
  if (abs >= 1e3) return `${Number((n / 1e3).toFixed(1))}k`;
  if (abs >= 10 || Number.isInteger(n)) return String(Number(n.toFixed(0)));
  return String(Number(n.toPrecision(2)));
}
