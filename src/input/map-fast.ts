/**
 * A compiled form of the simplest JSONata mappings, for speed: JSONata's evaluator is asynchronous node by node and
 * costs ~10 µs and hundreds of short-lived objects per row, which at a million rows is most of a mapped validation
 * pass and a fatter heap. The usual mapping — an object of string, number and literal values, field names of the row,
 * `&` and `$number`/`$string` — compiles here to a plain function, and JSONata stays the language and the authority:
 *
 * - only that subset compiles (any other node, or any other property on a node, and the whole expression is left to
 *   JSONata: `compileFast` returns undefined);
 * - per row, a value the compiled form is not sure to treat exactly as JSONata does — a field holding an array, an
 *   object or nothing, a fraction or a very large number in `&`, a string `$number` would read in another base —
 *   makes it give up on that row (it throws FALLBACK) and JSONata evaluates the row.
 *
 * test/unit/map-fast.test.ts evaluates every case both ways and compares the results.
 */

/** Thrown by a compiled mapping for a row it leaves to JSONata. */
export const FALLBACK: unique symbol = Symbol('jsonata-fallback');

type Fn = (row: Record<string, unknown>) => unknown;

interface Node {
  type?: string;
  value?: unknown;
  position?: number;
  lhs?: unknown;
  rhs?: unknown;
  expressions?: unknown;
  steps?: unknown;
  arguments?: unknown;
  procedure?: Node;
  [k: string]: unknown;
}

/** JSONata's strict number syntax for `$number` on a string (its other forms — 0x, 0o, 0b — go to JSONata). */
const DECIMAL = /^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/;

/** The compiled mapping, or undefined when the expression is outside the subset. */
export function compileFast(ast: unknown): Fn | undefined {
  try {
    return compile(ast as Node);
  } catch (e) {
    if (e === UNSUPPORTED) return undefined;
    throw e;
  }
}

const UNSUPPORTED = Symbol('unsupported');

function only(n: Node, keys: readonly string[]): void {
  for (const k of Object.keys(n)) if (!keys.includes(k)) throw UNSUPPORTED;
}

function compile(n: Node): Fn {
  if (n === null || typeof n !== 'object') throw UNSUPPORTED;
  switch (n.type) {
    case 'string':
    case 'number':
    case 'value': {
      only(n, ['type', 'value', 'position']);
      const v = n.value;
      if (n.type === 'string' && typeof v !== 'string') throw UNSUPPORTED;
      if (n.type === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) throw UNSUPPORTED;
      if (n.type === 'value' && v !== true && v !== false && v !== null) throw UNSUPPORTED;
      return () => v;
    }
    case 'path':
      return compilePath(n);
    case 'unary':
      if (n.value === '{') return compileObject(n);
      if (n.value === '[') return compileArray(n);
      throw UNSUPPORTED;
    case 'binary': {
      only(n, ['type', 'value', 'position', 'lhs', 'rhs']);
      if (n.value !== '&') throw UNSUPPORTED;
      const l = compile(n.lhs as Node);
      const r = compile(n.rhs as Node);
      return (row) => toText(l(row)) + toText(r(row));
    }
    case 'function': {
      // `name` is left undefined by JSONata's parser for a call of a variable.
      only(n, ['type', 'name', 'value', 'position', 'arguments', 'procedure']);
      if (n.name !== undefined) throw UNSUPPORTED;
      const p = n.procedure;
      const args = n.arguments;
      if (p?.type !== 'variable' || !Array.isArray(args) || args.length !== 1) throw UNSUPPORTED;
      only(p, ['type', 'value', 'position']);
      const arg = compile(args[0] as Node);
      if (p.value === 'number') return (row) => toNumber(arg(row));
      if (p.value === 'string') return (row) => toText(arg(row));
      throw UNSUPPORTED;
    }
    default:
      throw UNSUPPORTED;
  }
}

/** `a` or `a.b.c`: field names only, through plain objects, ending on a string, number, boolean or null. */
function compilePath(n: Node): Fn {
  only(n, ['type', 'steps']);
  const steps = n.steps;
  if (!Array.isArray(steps) || steps.length === 0) throw UNSUPPORTED;
  const names: string[] = [];
  for (const s of steps as Node[]) {
    if (s === null || typeof s !== 'object' || s.type !== 'name' || typeof s.value !== 'string') throw UNSUPPORTED;
    only(s, ['type', 'value', 'position']);
    names.push(s.value);
  }
  const scalar = (v: unknown): unknown => {
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    throw FALLBACK;
  };
  if (names.length === 1) {
    const name = names[0]!;
    return (row) => scalar(Object.hasOwn(row, name) ? row[name] : undefined);
  }
  return (row) => {
    let v: unknown = row;
    for (const name of names) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, name)) throw FALLBACK;
      v = (v as Record<string, unknown>)[name];
    }
    return scalar(v);
  };
}

/** `{"key": value, …}` with literal, distinct keys. */
function compileObject(n: Node): Fn {
  only(n, ['type', 'value', 'position', 'lhs']);
  const pairs = n.lhs;
  if (!Array.isArray(pairs)) throw UNSUPPORTED;
  const keys: string[] = [];
  const values: Fn[] = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw UNSUPPORTED;
    const k = pair[0] as Node;
    if (k === null || typeof k !== 'object' || k.type !== 'string' || typeof k.value !== 'string') throw UNSUPPORTED;
    only(k, ['type', 'value', 'position']);
    // JSONata fails a row on a key given twice; an own __proto__ key is left to it too.
    if (keys.includes(k.value) || k.value === '__proto__') throw UNSUPPORTED;
    keys.push(k.value);
    values.push(compile(pair[1] as Node));
  }
  return (row) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]!(row);
    return out;
  };
}

/** `[a, b]`: items kept as they are (objects, nested array constructors, scalars). */
function compileArray(n: Node): Fn {
  only(n, ['type', 'value', 'position', 'expressions', 'consarray']);
  const items = n.expressions;
  if (!Array.isArray(items)) throw UNSUPPORTED;
  const fns = items.map((i) => compile(i as Node));
  return (row) => fns.map((f) => f(row));
}

/** JSONata's `$string` on what the compiled form lets through; anything it might format otherwise falls back. */
function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) < 1e15) return String(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  throw FALLBACK;
}

/** JSONata's `$number` on what the compiled form lets through. */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && DECIMAL.test(v)) {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  throw FALLBACK;
}
