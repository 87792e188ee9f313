import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { UsageError } from '../core/errors.js';
import { compileFast, FALLBACK } from './map-fast.js';
import type { Mapper } from './row.js';

/**
 * `--map`: a JSONata expression (https://jsonata.org) evaluated on each row — the JSONL object, the CSV row (typed
 * with --csv-cast), the Parquet record or the OpenAI Batch line — that returns the request. JSONata was chosen because
 * it is JSON-native (an object literal is an expression: `{"prompt": "a photo of " & subject}`), has one well-kept,
 * dependency-free JavaScript implementation, and cannot reach the file system or the network: a mapping is data
 * shaping, not code.
 */

/** Functions whose value changes from one evaluation to the next: a row's request (and its content hash) would too. */
const UNSTABLE = new Set(['now', 'millis', 'random']);

/** The expression's text: `@path` reads it from a file, anything else is the expression itself. */
export function mappingText(arg: string): string {
  if (!arg.startsWith('@')) return arg;
  const path = arg.slice(1);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--map ${arg}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Compiles the expression; a syntax error (or an unstable function) is a UsageError naming the position. */
export function compileMapping(text: string): Mapper {
  if (text.trim() === '') throw new UsageError('--map: the expression is empty');
  let expr: jsonata.Expression;
  try {
    expr = jsonata(text);
  } catch (e) {
    const err = e as jsonata.JsonataError;
    const at = typeof err.position === 'number' ? ` (at character ${err.position})` : '';
    throw new UsageError(`--map: the expression does not parse: ${err.message}${at}`);
  }
  const unstable = unstableFunction(expr.ast());
  if (unstable !== undefined) {
    throw new UsageError(
      `--map: $${unstable}() gives another value on every evaluation, so a row's request would change on every run and run again: take the value from the row instead`,
    );
  }
  const fast = compileFast(expr.ast());
  if (fast === undefined) return (record) => expr.evaluate(record);
  return (record) => {
    try {
      return fast(record);
    } catch (e) {
      if (e !== FALLBACK) throw e;
      return expr.evaluate(record);
    }
  };
}

/** The name of an unstable function the expression calls, if any. */
function unstableFunction(node: unknown): string | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const n = node as { type?: string; value?: unknown; procedure?: { type?: string; value?: unknown } };
  if (n.type === 'function' && n.procedure?.type === 'variable' && UNSTABLE.has(String(n.procedure.value))) {
    return String(n.procedure.value);
  }
  for (const v of Object.values(node)) {
    if (Array.isArray(v)) {
      for (const item of v) {
        const found = unstableFunction(item);
        if (found !== undefined) return found;
      }
    } else if (v !== null && typeof v === 'object') {
      const found = unstableFunction(v);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Why a mapping's result cannot be a request, or undefined when it is an object (JSONata's sequences are arrays). */
export function mappedProblem(value: unknown): string | undefined {
  if (value === undefined) return '--map gave nothing for this row (a field it reads is missing?)';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return `--map must give a JSON object (the input, or a body with "input"), got ${kind}`;
  }
  return undefined;
}
