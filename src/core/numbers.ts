/** Rounding and number checks shared by the stats, the reports and the estimates. */

/** A finite number (not null, undefined or NaN). */
export function isNum(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Rounds to 6 decimals: USD to the micro-dollar. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Rounds to 1 decimal. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
