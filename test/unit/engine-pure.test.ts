import { describe, expect, it } from 'vitest';
import { classify } from '../../src/engine/classify.js';
import { errorSignature, HealthMonitor } from '../../src/engine/health.js';
import { RecentWindow } from '../../src/engine/poll-plan.js';
import { RateController } from '../../src/engine/rate-controller.js';
import { HttpError, NetworkError, RunpodBatchError } from '../../src/core/errors.js';
import { redact } from '../../src/core/redact.js';

const http = (op: string, status: number, retryAfterMs?: number) =>
  new HttpError(op, 'POST', 'http://x/v2/e/' + op, status, 'body', retryAfterMs);

describe('classify', () => {
  it.each([
    ['run', http('run', 429, 3000), { kind: 'retry', rateLimited: true, retryAfterMs: 3000 }],
    ['status', http('status', 429), { kind: 'retry', rateLimited: true, retryAfterMs: undefined }],
    ['run', http('run', 500), { kind: 'retry', rateLimited: false }],
    ['run', http('run', 502), { kind: 'retry', rateLimited: false }],
    ['status', http('status', 503), { kind: 'retry', rateLimited: false }],
    ['run', http('run', 408), { kind: 'retry', rateLimited: false }],
    [
      'run',
      new NetworkError('run', 'POST', 'u', Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })),
      { kind: 'retry' },
    ],
    ['run', http('run', 401), { kind: 'fatal', code: 'RPB_AUTH' }],
    ['status', http('status', 403), { kind: 'fatal', code: 'RPB_AUTH' }],
    ['run', http('run', 404), { kind: 'fatal', code: 'RPB_ENDPOINT' }],
    ['status', http('status', 404), { kind: 'lost' }],
    ['stream', http('stream', 404), { kind: 'fatal', code: 'RPB_ENDPOINT', message: expect.stringContaining('run without --stream') }],
    ['run', http('run', 400), { kind: 'bad-row' }],
    ['run', http('run', 413), { kind: 'bad-row' }],
    ['run', http('run', 422), { kind: 'bad-row' }],
    ['status', http('status', 422), { kind: 'fatal', code: 'RPB_HTTP' }],
    ['run', new RunpodBatchError('RPB_ABORTED', 'aborted'), { kind: 'aborted' }],
    ['run', new TypeError('bug'), { kind: 'fatal', code: 'RPB_HTTP' }],
  ] as const)('%s %s', (op, err, want) => {
    expect(classify(op, err)).toMatchObject(want);
  });
  it('never puts the key in a fatal message', () => {
    const v = classify('run', http('run', 401));
    expect(v.kind === 'fatal' && v.message).toMatch(/RUNPOD_API_KEY/);
  });
});

describe('RecentWindow', () => {
  it('keeps the last N values and answers quantiles', () => {
    const w = new RecentWindow(4);
    expect(w.quantile(0.5)).toBeUndefined();
    for (const v of [100, 1, 2, 3, 4]) w.push(v); // 100 falls out
    expect(w.size).toBe(4);
    expect(w.quantile(0)).toBe(1);
    expect(w.quantile(0.5)).toBe(2);
    expect(w.quantile(1)).toBe(4);
  });
});

describe('RateController', () => {
  it('does not pace until the first 429, then paces at what got through', () => {
    let t = 0;
    const rc = new RateController(() => t);
    for (let i = 0; i < 100; i++) {
      expect(rc.reserve()).toBe(0);
      rc.onSuccess();
      t += 10; // 100 per second
    }
    rc.onRateLimited();
    expect(rc.rate).toBeCloseTo(100, 0);
    expect(rc.reserve()).toBe(0);
    expect(rc.reserve()).toBeCloseTo(10, 5); // 10 ms apart at 100/s
  });
  it('decreases once per cooldown, increases ~1% per second of successes', () => {
    let t = 0;
    const rc = new RateController(() => t);
    rc.onSuccess();
    t = 1000;
    rc.onRateLimited();
    const r0 = rc.rate;
    rc.onRateLimited(); // same burst: ignored
    expect(rc.rate).toBe(r0);
    t += 1500;
    rc.onRateLimited();
    expect(rc.rate).toBeCloseTo(r0 * 0.85, 6);
    const r1 = rc.rate;
    for (let i = 0; i < 100; i++) rc.onSuccess();
    expect(rc.rate).toBeCloseTo(r1 + 1, 6);
  });
  it('429s while requests still get through do not collapse the pace below 90% of that', () => {
    let t = 0;
    const rc = new RateController(() => t);
    // 50 requests per second get through, and every second one 429 arrives (a fixed window refilled late).
    for (let s = 0; s < 30; s++) {
      for (let i = 0; i < 50; i++) {
        rc.onSuccess();
        t += 20;
      }
      rc.onRateLimited();
    }
    expect(rc.rate).toBeGreaterThanOrEqual(45 - 1e-9);
    expect(rc.rate).toBeLessThanOrEqual(55);
  });
  it.each([
    ['with Retry-After: successes over (time so far + the wait)', 9500, 97],
    ['without: successes over the time until the window turned (between the last 429 and the next success)', undefined, 98.5],
  ])('learns a fixed window from one burst, %s', (_n, retryAfter, want) => {
    let t = 0;
    const rc = new RateController(() => t);
    for (let i = 0; i < 1000; i++) {
      rc.onSuccess(); // 1,000 allowed per 10 s window, all used in the first half second
      t += 0.5;
    }
    rc.onRateLimited(retryAfter);
    for (t = 1500; t < 10_000; t += 2000) rc.onRateLimited(retryAfter); // probes during the pause: 429, last at 9.5 s
    t = 10_200; // the window freed at 10 s; the first request through came at 10.2 s
    rc.onSuccess();
    expect(rc.rate).toBeCloseTo(want, 0);
  });
  it('never drops under the minimum rate', () => {
    let t = 0;
    const rc = new RateController(() => t);
    for (let i = 0; i < 200; i++) {
      t += 2000;
      rc.onRateLimited();
    }
    expect(rc.rate).toBeGreaterThanOrEqual(0.1);
  });
});

describe('HealthMonitor', () => {
  it('spots a crash loop: N jobs in a row FAILED with the same error', () => {
    const h = new HealthMonitor({ crashLoopJobs: 3, maxFailureRate: 1, window: 10 });
    const e = JSON.stringify({ error_type: 'OSError', error_message: 'model not found', error_traceback: 'x\ny' });
    expect(h.job('FAILED', e)).toBeNull();
    expect(h.job('FAILED', e)).toBeNull();
    expect(h.job('FAILED', e)).toMatch(/last 3 jobs all FAILED.*OSError: model not found/);
  });
  it('a success or another error resets the run', () => {
    const h = new HealthMonitor({ crashLoopJobs: 3, maxFailureRate: 1, window: 10 });
    h.job('FAILED', 'a');
    h.job('FAILED', 'a');
    expect(h.job('COMPLETED', null)).toBeNull();
    h.job('FAILED', 'a');
    h.job('FAILED', 'b');
    expect(h.job('FAILED', 'a')).toBeNull();
  });
  it('spots a sustained failure rate over a full window only', () => {
    const h = new HealthMonitor({ crashLoopJobs: 0, maxFailureRate: 0.5, window: 10 });
    for (let i = 0; i < 9; i++) expect(h.row(false)).toBeNull(); // window not full yet
    expect(h.row(false)).toMatch(/10 of the last 10 rows/);
    const ok = new HealthMonitor({ crashLoopJobs: 0, maxFailureRate: 0.5, window: 10 });
    for (let i = 0; i < 100; i++) expect(ok.row(i % 2 === 0)).toBeNull(); // exactly 50%: not over
  });
  it.each([
    [null, ''],
    ['plain\nsecond line', 'plain'],
    [JSON.stringify({ error_type: 'ValueError', error_message: 'bad', error_traceback: 't' }), 'ValueError: bad'],
  ])('errorSignature(%j)', (e, want) => expect(errorSignature(e)).toBe(want));
});

describe('redact', () => {
  it.each([
    ['key echoed: sk-abc123456', 'sk-abc123456', 'key echoed: [REDACTED]'],
    ['Authorization: Bearer abc.def-123', null, 'Authorization: Bearer [REDACTED]'],
    ['nothing here', 'sk-abc123456', 'nothing here'],
  ])('%s', (text, secret, want) => expect(redact(text, secret)).toBe(want));
});
