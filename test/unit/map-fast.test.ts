/**
 * The compiled form of simple mappings (input/map-fast.ts) against JSONata itself: for every expression and every
 * row, the compiled form gives JSONata's answer (value or error), or leaves the row to JSONata.
 */
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { compileFast, FALLBACK } from '../../src/input/map-fast.js';

const COMPILED = [
  '{"messages": [{"role": "user", "content": question}], "sampling_params": {"max_tokens": 512}}',
  '{"prompt": "a photo of " & subject, "seed": $number(seed)}',
  '{"a": a, "b": b, "t": true, "f": false, "n": null, "x": -1.5e3}',
  '{"s": $string(a), "t": a & "|" & b}',
  '{"nested": {"deep": x.y.z}, "list": [[1, 2], [a]], "empty": {}, "none": []}',
  '{"input": {"prompt": a}, "webhook": "https://example.invalid/h"}',
  '{"n": $number(a)}',
  'a',
  '[a, b]',
  '"const"',
];
const NOT_COMPILED = [
  '{"p": a.b[0]}', // a predicate
  '{"p": $uppercase(a)}',
  '{"p": a + 1}',
  '{a: 1}', // a key from the row
  '{"p": a ? b : c}',
  '$.a',
  '{"p": a, "p": b}', // JSONata's own error for a key given twice
  '{"__proto__": a}',
  '{"p": $number(a, 10)}',
  'a.*',
  '{"items": a.b.c ~> $join(",")}',
];

const ROWS: Record<string, unknown>[] = [
  { question: 'What is 2+2?', subject: 'cat', seed: '42', a: 'x', b: 'y', x: { y: { z: 'deep' } } },
  { question: '', subject: '', seed: '-0.5e2', a: '', b: 'é', x: { y: { z: 0 } } },
  { question: 'q', subject: 7, seed: 3, a: 12, b: -4, x: { y: { z: null } } },
  { question: 'q', subject: true, seed: false, a: true, b: false, x: { y: { z: true } } },
  { question: 'q', subject: null, seed: null, a: null, b: null, x: { y: {} } },
  { question: 'q', subject: 1.25, seed: '0x10', a: 0.1, b: 1e21, x: { y: [1] } },
  { question: ['arr'], subject: ['one'], seed: ['1', '2'], a: ['x'], b: [], x: [{ y: { z: 1 } }] },
  { question: { o: 1 }, subject: { s: 1 }, seed: { n: 1 }, a: { k: 'v' }, b: {}, x: { y: { z: [1, 2] } } },
  { seed: '007', a: '1e400', b: 'NaN' },
  { seed: ' 42', a: '9007199254740993', b: 123456789012345680 },
  {},
];

/** JSONata's answer: the value, or the error's code. */
async function viaJsonata(expr: string, row: Record<string, unknown>): Promise<unknown> {
  try {
    return { value: await jsonata(expr).evaluate(row) };
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) };
  }
}

describe('compileFast', () => {
  it.each(COMPILED)('compiles %s, and agrees with JSONata on every row it does not leave to it', async (expr) => {
    const fast = compileFast(jsonata(expr).ast());
    expect(fast).toBeTypeOf('function');
    let answered = 0;
    for (const row of ROWS) {
      let mine: unknown;
      try {
        mine = { value: fast!(row) };
      } catch (e) {
        if (e === FALLBACK) continue;
        throw e;
      }
      answered++;
      // Through JSON, as the request is sent: JSONata's sequences are arrays with extra properties.
      expect(JSON.parse(JSON.stringify(mine))).toEqual(JSON.parse(JSON.stringify(await viaJsonata(expr, row))));
    }
    expect(answered).toBeGreaterThan(0);
  });

  it.each(NOT_COMPILED)('leaves %s to JSONata', (expr) => {
    expect(compileFast(jsonata(expr).ast())).toBeUndefined();
  });

  it('leaves rows with arrays, objects, missing fields or numbers it might format otherwise to JSONata', () => {
    const fast = compileFast(jsonata('{"p": "x" & a, "n": $number(seed)}').ast())!;
    expect(fast({ a: 'ok', seed: '1' })).toEqual({ p: 'xok', n: 1 });
    for (const row of [
      { a: ['x'], seed: '1' },
      { a: { k: 1 }, seed: '1' },
      { seed: '1' },
      { a: 0.1, seed: '1' },
      { a: 'x', seed: '0x10' },
    ]) {
      expect(() => fast(row)).toThrow();
      try {
        fast(row);
      } catch (e) {
        expect(e).toBe(FALLBACK);
      }
    }
  });
});
