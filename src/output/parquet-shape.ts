/**
 * The Parquet schema of a batch's values, learnt from the values themselves in one pass over the rows (pure).
 *
 * Why structs and lists, not JSON strings: a dataset user opens the file in pandas, DuckDB, Polars or `datasets` and
 * expects `output.score` to be a number and `output.data[0].embedding` a list of floats, queryable without parsing
 * text. Worker outputs are mostly regular (the same keys with the same kinds on every row), so they map onto nested
 * Parquet types. Where they are not — a field that is a string on one row and an object on another, an object wider
 * than {@link MAX_FIELDS} keys (a map keyed by ids), nesting deeper than {@link MAX_DEPTH}, or more leaves than
 * {@link MAX_LEAVES} in all — that part is kept as JSON text (Parquet's JSON logical type): lossless, and still one
 * `json.loads` away. Integers (safe ones, as JSON gives them) are INT64, any fraction makes the field DOUBLE: numbers
 * stay numbers.
 */

export type Shape =
  /** Only nulls (or nothing) seen so far. */
  | { kind: 'null' }
  | { kind: 'boolean' }
  | { kind: 'int' }
  | { kind: 'double' }
  | { kind: 'string' }
  /** Kept as JSON text: kinds that conflict, or too wide or deep to be a struct. */
  | { kind: 'json' }
  | { kind: 'struct'; fields: Map<string, Shape> }
  | { kind: 'list'; element: Shape };

/** Most keys an object may have and still be a struct; wider objects are maps in disguise, kept as JSON. */
export const MAX_FIELDS = 200;
/** Deepest nesting of structs and lists; below it, JSON. */
export const MAX_DEPTH = 12;
/** Most leaf columns in the whole file; past it the widest columns are turned into JSON until it fits. */
export const MAX_LEAVES = 1000;

const NULL: Shape = { kind: 'null' };
const JSON_SHAPE: Shape = { kind: 'json' };

/** The shape of `shape` once `value` has been seen too. Structs are grown in place; other shapes are replaced. */
export function observe(shape: Shape, value: unknown, depth = 0): Shape {
  if (value === null || value === undefined || shape.kind === 'json') return shape;
  if (typeof value === 'boolean') return scalar(shape, 'boolean');
  if (typeof value === 'number') {
    const kind = Number.isSafeInteger(value) ? 'int' : 'double';
    if (shape.kind === 'int' && kind === 'double') return { kind: 'double' };
    if (shape.kind === 'double') return shape;
    return scalar(shape, kind);
  }
  if (typeof value === 'string') return scalar(shape, 'string');
  if (typeof value !== 'object' || depth >= MAX_DEPTH) return JSON_SHAPE;
  if (Array.isArray(value)) {
    if (shape.kind !== 'null' && shape.kind !== 'list') return JSON_SHAPE;
    let element = shape.kind === 'list' ? shape.element : NULL;
    for (const v of value) {
      element = observe(element, v, depth + 1);
      if (element.kind === 'json') return JSON_SHAPE;
    }
    return shape.kind === 'list' && shape.element === element ? shape : { kind: 'list', element };
  }
  if (shape.kind !== 'null' && shape.kind !== 'struct') return JSON_SHAPE;
  const s = shape.kind === 'struct' ? shape : { kind: 'struct' as const, fields: new Map<string, Shape>() };
  for (const [k, v] of Object.entries(value)) {
    const before = s.fields.get(k);
    if (before === undefined && s.fields.size >= MAX_FIELDS) return JSON_SHAPE;
    const after = observe(before ?? NULL, v, depth + 1);
    if (after !== before) s.fields.set(k, after);
  }
  return s;
}

function scalar(shape: Shape, kind: 'boolean' | 'int' | 'double' | 'string'): Shape {
  if (shape.kind === kind) return shape;
  if (shape.kind === 'null') return { kind };
  return JSON_SHAPE;
}

/**
 * The shape as it is written: what is still unknown (only nulls seen, an object that never had a key) becomes
 * `fallback` or JSON, and past {@link MAX_LEAVES} leaves the widest top-level columns become JSON.
 */
export function finalize(columns: { name: string; shape: Shape; fallback?: Shape }[]): { name: string; shape: Shape }[] {
  const out = columns.map((c) => ({ name: c.name, shape: settle(c.shape, c.fallback) }));
  for (;;) {
    const counts = out.map((c) => leaves(c.shape));
    if (counts.reduce((a, b) => a + b, 0) <= MAX_LEAVES) return out;
    const widest = counts.indexOf(Math.max(...counts));
    out[widest]!.shape = JSON_SHAPE;
  }
}

function settle(shape: Shape, fallback: Shape = JSON_SHAPE): Shape {
  if (shape.kind === 'null') return fallback;
  if (shape.kind === 'list') return { kind: 'list', element: settle(shape.element) };
  if (shape.kind !== 'struct') return shape;
  if (shape.fields.size === 0) return JSON_SHAPE;
  return { kind: 'struct', fields: new Map([...shape.fields].map(([k, v]) => [k, settle(v)])) };
}

export function leaves(shape: Shape): number {
  if (shape.kind === 'list') return leaves(shape.element);
  if (shape.kind !== 'struct') return 1;
  let n = 0;
  for (const f of shape.fields.values()) n += leaves(f);
  return n;
}

/**
 * A value in the form the Parquet writer takes for `shape`: INT64 as bigint, structs with every field (null where the
 * row lacks it), JSON parts as the values themselves (the writer serialises them). Observed values always fit their
 * shape; a value that does not (a shape turned to JSON above it aside) is written as null rather than guessed at.
 */
export function conform(shape: Shape, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (shape.kind) {
    case 'json':
      return value;
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : null;
    case 'double':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'string':
      return typeof value === 'string' ? value : null;
    case 'list':
      return Array.isArray(value) ? value.map((v) => conform(shape.element, v)) : null;
    case 'struct': {
      if (typeof value !== 'object' || Array.isArray(value)) return null;
      const o = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, f] of shape.fields) out[k] = conform(f, o[k]);
      return out;
    }
    case 'null':
      return null;
  }
}

/** A Parquet schema element, as the writer takes them (a depth-first list, groups giving their child count). */
export interface SchemaElement {
  name: string;
  type?: 'BOOLEAN' | 'INT64' | 'DOUBLE' | 'BYTE_ARRAY';
  converted_type?: 'UTF8' | 'JSON' | 'LIST';
  /** Absent on the root only: readers (arrow-rs) take a root with a repetition for a nested field. */
  repetition_type?: 'OPTIONAL' | 'REPEATED' | 'REQUIRED';
  num_children?: number;
}

/** The Parquet schema of the columns: every column nullable; lists in the standard three-level form. */
export function schemaOf(columns: { name: string; shape: Shape }[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) elements(c.name, c.shape, out);
  return out;
}

function elements(name: string, shape: Shape, out: SchemaElement[]): void {
  switch (shape.kind) {
    case 'boolean':
      out.push({ name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' });
      return;
    case 'int':
      out.push({ name, type: 'INT64', repetition_type: 'OPTIONAL' });
      return;
    case 'double':
      out.push({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' });
      return;
    case 'string':
      out.push({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
      return;
    case 'null':
    case 'json':
      out.push({ name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' });
      return;
    case 'list':
      out.push({ name, converted_type: 'LIST', repetition_type: 'OPTIONAL', num_children: 1 });
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      elements('element', shape.element, out);
      return;
    case 'struct':
      out.push({ name, repetition_type: 'OPTIONAL', num_children: shape.fields.size });
      for (const [k, f] of shape.fields) elements(k, f, out);
      return;
  }
}
