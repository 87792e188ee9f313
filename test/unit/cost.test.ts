import { describe, expect, it } from 'vitest';
import { billedSeconds } from '../../src/core/billing.js';
import { findGpuClass, resolvePrice } from '../../src/report/cost.js';
import { PRICE_TABLE } from '../../src/report/prices.js';

describe('billedSeconds', () => {
  it.each([
    [0, 0],
    [1, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [1999.5, 2],
    [2000, 2],
    [61_000, 61],
    [-5, 0],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, 0],
  ])('%d ms → %d s', (ms, s) => {
    expect(billedSeconds(ms)).toBe(s);
  });
});

describe('PRICE_TABLE', () => {
  it('has the nine documented classes with date and source', () => {
    expect(PRICE_TABLE.asOf).toBe('2026');
    expect(PRICE_TABLE.source).toMatch(/RunPod/);
    expect(PRICE_TABLE.classes.map((c) => c.id)).toEqual([
      '16gb',
      '24gb',
      '24gb-pro',
      '48gb',
      '48gb-pro',
      '80gb',
      '80gb-pro',
      '141gb',
      '180gb',
    ]);
  });
  it('prices per second match the docs table (per hour = per second × 3600, ±1 cent)', () => {
    const perHour: Record<string, number> = {
      '16gb': 0.58,
      '24gb': 0.68,
      '24gb-pro': 1.12,
      '48gb': 1.22,
      '48gb-pro': 1.91,
      '80gb': 2.74,
      '80gb-pro': 4.18,
      '141gb': 5.58,
      '180gb': 8.64,
    };
    for (const c of PRICE_TABLE.classes) expect(Math.abs(c.perSecond * 3600 - perHour[c.id]!)).toBeLessThan(0.011);
  });
  it('aliases are unique across classes', () => {
    const all = PRICE_TABLE.classes.flatMap((c) => [c.id, ...c.aliases].map((a) => a.toLowerCase()));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('resolvePrice', () => {
  it.each([
    ['16gb', 0.00016],
    ['24GB', 0.00019],
    ['24gb-pro', 0.00031],
    ['24GB PRO', 0.00031],
    ['48gb', 0.00034],
    ['48gb-pro', 0.00053],
    ['80gb', 0.00076],
    ['80gb-pro', 0.00116],
    ['141gb', 0.00155],
    ['180gb', 0.0024],
    ['a4000', 0.00016],
    ['L4', 0.00019],
    ['4090', 0.00031],
    ['RTX 4090', 0.00031],
    ['a6000', 0.00034],
    ['L40S', 0.00053],
    ['l40', 0.00053],
    ['A100', 0.00076],
    ['nvidia-a100', 0.00076],
    ['H100', 0.00116],
    ['h200', 0.00155],
    ['B200', 0.0024],
  ])('gpu %s → %d $/s', (gpu, perSecond) => {
    const r = resolvePrice({ gpu });
    expect(r.perSecond).toBe(perSecond);
    expect(r.source).toMatch(/2026/);
    expect(findGpuClass(gpu)?.perSecond).toBe(perSecond);
  });

  it('explicit pricePerSecond wins over gpu', () => {
    expect(resolvePrice({ gpu: 'h100', pricePerSecond: 0.001 })).toEqual({
      perSecond: 0.001,
      source: 'given with --price-per-second',
    });
    // even over an unknown gpu
    expect(resolvePrice({ gpu: 'tpu', pricePerSecond: 0 }).perSecond).toBe(0);
  });

  it('unknown price when neither is given', () => {
    expect(resolvePrice({}).perSecond).toBeNull();
    expect(resolvePrice({ gpu: '  ' }).perSecond).toBeNull();
  });

  it('throws an Error listing the valid classes for an unknown gpu', () => {
    expect(() => resolvePrice({ gpu: 'v100' })).toThrow(Error);
    try {
      resolvePrice({ gpu: 'v100' });
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('v100');
      for (const c of PRICE_TABLE.classes) expect(msg).toContain(c.id);
    }
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('rejects price %d', (p) => {
    expect(() => resolvePrice({ pricePerSecond: p })).toThrow(/price/);
  });
});
