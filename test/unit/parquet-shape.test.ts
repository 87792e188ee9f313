import { describe, expect, it } from 'vitest';
import { conform, finalize, MAX_FIELDS, MAX_LEAVES, observe, schemaOf, type Shape } from '../../src/output/parquet-shape.js';
import { shapeType } from '../../src/output/hf.js';

const learn = (...values: unknown[]): Shape => values.reduce<Shape>((s, v) => observe(s, v), { kind: 'null' });
const typeOf = (...values: unknown[]) => shapeType(finalize([{ name: 'c', shape: learn(...values) }])[0]!.shape);

describe('Parquet shapes learnt from values', () => {
  it.each([
    ['integers', [1, 2, null, 3], 'int64'],
    ['an integer column with one fraction', [1, 2.5, 3], 'float64'],
    ['a fraction first, then integers', [0.5, 2], 'float64'],
    ['integers past 2^53 (already rounded by JSON)', [1, 2 ** 60], 'float64'],
    ['booleans', [true, false], 'bool'],
    ['strings', ['a', null, 'b'], 'string'],
    ['only nulls', [null, undefined], 'string (JSON)'],
    ['a string on one row, a number on another', ['a', 1], 'string (JSON)'],
    ['a boolean and a number', [true, 1], 'string (JSON)'],
    ['an object and a string', [{ a: 1 }, 'x'], 'string (JSON)'],
    ['an object and an array', [{ a: 1 }, [1]], 'string (JSON)'],
    ['objects with different keys', [{ a: 1 }, { b: 'x' }, { a: 2.5 }], 'struct<a: float64, b: string>'],
    ['an empty object, always', [{}, {}], 'string (JSON)'],
    ['lists of numbers (embeddings)', [[0.1, 0.2], [], [1]], 'list<float64>'],
    ['a list of mixed kinds', [[1, 'a']], 'string (JSON)'],
    ['lists of objects', [[{ t: 'a', n: 1 }], [{ t: 'b' }, null]], 'list<struct<t: string, n: int64>>'],
    ['a list of only nulls', [[null]], 'list<string (JSON)>'],
    [
      'a nested conflict stays local',
      [
        { a: { x: 1 }, b: 1 },
        { a: 'text', b: 2 },
      ],
      'struct<a: string (JSON), b: int64>',
    ],
  ])('%s', (_name, values, type) => {
    expect(typeOf(...values)).toBe(type);
  });

  it('an object wider than MAX_FIELDS keys (a map keyed by ids) is JSON', () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => [`k${i}`, i]));
    expect(typeOf({ a: 1 }, wide)).toBe('string (JSON)');
    const narrow = Object.fromEntries(Array.from({ length: MAX_FIELDS }, (_, i) => [`k${i}`, i]));
    expect(typeOf(narrow)).toMatch(/^struct</);
  });

  it('nesting deeper than the limit is JSON below it', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(typeOf(deep)).toMatch(/string \(JSON\)>+$/);
  });

  it('past MAX_LEAVES leaves in all, the widest column becomes JSON', () => {
    const obj = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    const cols = finalize([
      { name: 'small', shape: learn(obj(3)) },
      ...Array.from({ length: 6 }, (_, i) => ({ name: `w${i}`, shape: learn(obj(MAX_FIELDS)) })),
    ]);
    const json = cols.filter((c) => c.shape.kind === 'json').map((c) => c.name);
    expect(json.length).toBeGreaterThan(0);
    expect(json).not.toContain('small');
    expect(cols.reduce((a, c) => a + (c.shape.kind === 'struct' ? c.shape.fields.size : 1), 0)).toBeLessThanOrEqual(MAX_LEAVES);
  });

  it('a fallback names the type of a column that only held nulls', () => {
    const [c] = finalize([{ name: 'delayTime', shape: learn(null), fallback: { kind: 'int' } }]);
    expect(c!.shape.kind).toBe('int');
  });
});

describe('values conformed to their shape', () => {
  it('integers become bigint, missing struct fields null, JSON parts stay values', () => {
    const shape = finalize([{ name: 'o', shape: learn({ n: 1, s: 'a', l: [1.5], j: 1 }, { n: 2, j: 'x' }) }])[0]!.shape;
    expect(conform(shape, { n: 2, j: 'x' })).toEqual({ n: 2n, s: null, l: null, j: 'x' });
    expect(conform(shape, { n: 1, s: 'a', l: [1.5], j: { deep: true } })).toEqual({ n: 1n, s: 'a', l: [1.5], j: { deep: true } });
    expect(conform(shape, null)).toBeNull();
  });
});

describe('the Parquet schema', () => {
  it('nullable columns, groups with their child count, lists in three levels', () => {
    const cols = finalize([
      { name: 'id', shape: learn('a') },
      { name: 'out', shape: learn({ v: [1], ok: true }) },
    ]);
    expect(schemaOf(cols)).toEqual([
      { name: 'root', num_children: 2 },
      { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'out', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'v', converted_type: 'LIST', repetition_type: 'OPTIONAL', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'ok', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
    ]);
  });
});
