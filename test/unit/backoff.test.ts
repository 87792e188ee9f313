import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../../src/engine/backoff.js';
import { parseRetryAfter } from '../../src/runpod/retry-after.js';

const noJitter: BackoffPolicy = { ...DEFAULT_BACKOFF, jitter: 0 };
const fixed = (x: number) => () => x;

describe('DEFAULT_BACKOFF', () => {
  it('has the documented defaults and is frozen', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 500, factor: 2, maxMs: 30_000, maxRetryAfterMs: 120_000, jitter: 0.5 });
    expect(Object.isFrozen(DEFAULT_BACKOFF)).toBe(true);
  });
});

describe('backoffDelay without Retry-After', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [6, 16_000],
    [7, 30_000], // 32 000 capped
    [50, 30_000],
    [5000, 30_000], // factor^4999 overflows to Infinity → cap
    [0, 500], // attempt < 1 counts as 1
    [-3, 500],
    [Number.NaN, 500],
  ])('attempt %d → %d ms (no jitter)', (attempt, expected) => {
    expect(backoffDelay(attempt, undefined, noJitter, fixed(0.99))).toBe(expected);
  });

  it.each([
    // jitter, random, expected for attempt 3 (d = 2000)
    [0.5, 0, 1000],
    [0.5, 0.5, 1500],
    [0.5, 0.999999, 2000 * (0.5 + 0.5 * 0.999999)],
    [1, 0, 0],
    [1, 0.25, 500],
    [0.2, 0, 1600],
    [2, 0.25, 500], // jitter clamped to 1
    [-1, 0.25, 2000], // jitter clamped to 0
    [0.5, 7, 2000], // random clamped to 1
    [0.5, -7, 1000], // random clamped to 0
  ])('jitter %d, random %d → %d', (jitter, r, expected) => {
    expect(backoffDelay(3, undefined, { ...DEFAULT_BACKOFF, jitter }, fixed(r))).toBeCloseTo(expected, 9);
  });

  it('stays within [d*(1-jitter), d] for many random draws', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let attempt = 1; attempt <= 12; attempt++) {
      const d = Math.min(30_000, 500 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const v = backoffDelay(attempt, undefined, DEFAULT_BACKOFF, rnd);
        expect(v).toBeGreaterThanOrEqual(d * 0.5);
        expect(v).toBeLessThanOrEqual(d);
      }
    }
  });

  it('does not call random when jitter is 0', () => {
    const rnd = () => {
      throw new Error('random called');
    };
    expect(backoffDelay(2, undefined, noJitter, rnd)).toBe(1000);
  });
});

describe('backoffDelay with Retry-After', () => {
  it.each([
    // retryAfterMs, random, expected
    [3000, 0, 3000],
    [3000, 1, 3300],
    [3000, 0.5, 3150],
    [0, 0.5, 0],
    [500_000, 0, 120_000], // capped at maxRetryAfterMs
    [500_000, 1, 132_000], // spread applies on top of the capped value
  ])('Retry-After %d ms, random %d → %d', (ra, r, expected) => {
    expect(backoffDelay(1, ra, DEFAULT_BACKOFF, fixed(r))).toBeCloseTo(expected, 9);
  });

  it('wins over the exponential part and is never reduced by jitter', () => {
    for (const r of [0, 0.1, 0.5, 0.9, 0.999]) {
      const v = backoffDelay(10, 2000, { ...DEFAULT_BACKOFF, jitter: 1 }, fixed(r));
      expect(v).toBeGreaterThanOrEqual(2000);
      expect(v).toBeLessThanOrEqual(2200);
    }
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('ignores a bad Retry-After (%d)', (ra) => {
    expect(backoffDelay(2, ra, noJitter, fixed(0))).toBe(1000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2015-10-21T07:28:00Z');
  it.each<[string | string[] | undefined, number | undefined]>([
    ['3', 3000],
    ['0', 0],
    ['1.5', 1500],
    ['  10  ', 10_000],
    ['0.001', 1],
    [['2', '9'], 2000],
    [[], undefined],
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['-1', undefined],
    ['-0.5', undefined],
    ['abc', undefined],
    ['3s', undefined],
    ['1e3', undefined],
    ['abc 3', undefined],
    ['+3', undefined],
    ['Wed, 21 Oct 2015 07:28:05 GMT', 5000], // IMF-fixdate
    ['Wed, 21 Oct 2015 07:30:00 GMT', 120_000],
    ['Wednesday, 21-Oct-15 07:28:10 GMT', 10_000], // RFC 850
    ['Wed Oct 21 07:28:20 2015', 20_000], // asctime, GMT by definition
    ['Wed, 21 Oct 2015 07:28:00 GMT', 0],
    ['Wed, 21 Oct 2015 07:27:00 GMT', undefined], // in the past
    ['Wed, 99 Foo 2015 07:28:00 GMT', undefined],
  ])('%j → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
