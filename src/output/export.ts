import type { StoredRow } from '../core/records.js';
import { openaiLine } from './openai.js';
import { resultLine } from './rows.js';

/** Most columns a CSV export gets; fields past it stay inside the JSON of their parent column. */
const MAX_COLUMNS = 500;

/** The line formats `exportRows` writes. */
export type LineFormat = 'jsonl' | 'csv' | 'openai';

/**
 * Writes the results in input order as JSONL (the results.jsonl lines), OpenAI's Batch output lines (openai.ts;
 * `salt` goes into their ids) or CSV. The CSV flattens `input` and `output` objects into dotted columns (`input.prompt`,
 * `output.images.0` is kept as JSON: arrays are not spread), found in a first pass so every line has the same columns.
 * `rows` is called once per pass.
 */
export function exportRows(rows: () => Iterable<StoredRow>, format: LineFormat, write: (chunk: string) => void, salt = ''): number {
  let n = 0;
  if (format === 'jsonl' || format === 'openai') {
    for (const r of rows()) {
      write((format === 'jsonl' ? resultLine(r) : openaiLine(r, salt)) + '\n');
      n++;
    }
    return n;
  }
  const columns = new Map<string, true>();
  for (const r of rows()) {
    for (const key of Object.keys(flatten(JSON.parse(resultLine(r)) as Record<string, unknown>))) {
      if (columns.size >= MAX_COLUMNS) break;
      columns.set(key, true);
    }
  }
  const cols = [...columns.keys()];
  write(cols.map(csvCell).join(',') + '\r\n');
  for (const r of rows()) {
    const flat = flatten(JSON.parse(resultLine(r)) as Record<string, unknown>);
    write(cols.map((c) => csvCell(flat[c])).join(',') + '\r\n');
    n++;
  }
  return n;
}

/** {a: {b: 1}, c: [1, 2]} → {"a.b": 1, "c": "[1,2]"}. Objects nest with dots; arrays and scalars are leaves. */
export function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0)
      flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

/** RFC 4180: quote when needed, double the quotes; objects and arrays as JSON; null/undefined as empty. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) || s.startsWith(' ') || s.endsWith(' ') ? `"${s.replace(/"/g, '""')}"` : s;
}
