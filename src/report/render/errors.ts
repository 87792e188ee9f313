/**
 * Failure grouping. RunPod's FAILED jobs carry `error`, often a JSON *string* holding error_type, error_message and
 * error_traceback (RUNPOD_API.md, "Job states"); a handler returning {"error": "…"} gives a plain string. Errors are
 * grouped by type + message, so a million rows with the same CUDA OOM make one line of the report.
 */
import { truncate } from './format.js';

export interface NormalizedError {
  /** Grouping key: type and message, whitespace collapsed. */
  key: string;
  /** error_type when the error carried one, else null. */
  type: string | null;
  message: string;
  /** Last lines of error_traceback, when present. */
  traceback: string | null;
}

const MAX_MESSAGE = 500;
const MAX_TRACEBACK = 1200;

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return null;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function parseJson(s: string): unknown {
  const t = s.trim();
  if (!(t.startsWith('{') || t.startsWith('"'))) return s;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return s;
  }
}

/** Keeps the end of a traceback: the last frames and the exception line say most. */
function tracebackTail(tb: string): string {
  const lines = tb.replace(/\s+$/, '').split(/\r?\n/);
  const tail = lines.slice(-6).join('\n');
  return tail.length > MAX_TRACEBACK ? '…' + tail.slice(-MAX_TRACEBACK) : tail;
}

/** Normalizes one stored error (a JSON string, a JSON string of a JSON string, or plain text). */
export function normalizeError(raw: string | null | undefined, fallback: string): NormalizedError {
  if (raw === null || raw === undefined || raw.trim() === '') {
    return { key: fallback, type: null, message: fallback, traceback: null };
  }
  let v: unknown = parseJson(raw);
  // Double-encoded ("\"{\\\"error_type\\\": …}\""): unwrap once more.
  if (typeof v === 'string' && v !== raw) v = parseJson(v);
  let type: string | null = null;
  let message: string;
  let traceback: string | null = null;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    // Handler results like {"error": {...}} nest the RunPod fields one level down.
    const inner =
      o.error_type === undefined && o.error_message === undefined && o.error !== null && typeof o.error === 'object'
        ? (o.error as Record<string, unknown>)
        : o;
    type = str(inner.error_type ?? inner.type ?? null);
    message = str(inner.error_message ?? inner.message ?? (typeof inner.error === 'string' ? inner.error : null)) ?? str(v) ?? fallback;
    const tb = str(inner.error_traceback ?? inner.traceback ?? null);
    traceback = tb ? tracebackTail(tb) : null;
  } else {
    message = typeof v === 'string' ? v : (str(v) ?? fallback);
  }
  message = truncate(message.replace(/\s+/g, ' ').trim(), MAX_MESSAGE);
  if (type !== null) type = truncate(type.replace(/\s+/g, ' ').trim(), 200);
  const key = type ? `${type}: ${message}` : message;
  return { key, type, message, traceback };
}

export interface FailureGroup {
  key: string;
  type: string | null;
  message: string;
  traceback: string | null;
  /** Rows whose final state carries this error. */
  rows: number;
  /** Jobs (attempts, retried ones included) that ended with this error. */
  jobs: number;
  /** Final row statuses seen in the group, with counts. */
  statuses: Record<string, number>;
  /** A few row ids (as strings) to look up in errors.jsonl. */
  exampleIds: string[];
}

/** Most distinct groups kept; further distinct errors are counted in one "other" group (memory stays bounded). */
export const MAX_GROUPS = 500;
export const OTHER_KEY = '(other errors)';
const EXAMPLES = 5;

/** Accumulates failure groups with bounded memory. */
export class FailureGrouper {
  private readonly groups = new Map<string, FailureGroup>();

  private group(e: NormalizedError): FailureGroup {
    let g = this.groups.get(e.key);
    if (g) return g;
    if (this.groups.size >= MAX_GROUPS) {
      g = this.groups.get(OTHER_KEY);
      if (g) return g;
      e = { key: OTHER_KEY, type: null, message: `more than ${MAX_GROUPS} distinct errors: the rest are counted here`, traceback: null };
    }
    g = { key: e.key, type: e.type, message: e.message, traceback: e.traceback, rows: 0, jobs: 0, statuses: {}, exampleIds: [] };
    this.groups.set(e.key, g);
    return g;
  }

  addRow(id: string, status: string, error: string | null): void {
    const g = this.group(normalizeError(error, `(no error message; ${status})`));
    g.rows++;
    g.statuses[status] = (g.statuses[status] ?? 0) + 1;
    if (g.exampleIds.length < EXAMPLES) g.exampleIds.push(id);
  }

  addJob(status: string, error: string | null): void {
    const g = this.group(normalizeError(error, `(no error message; ${status})`));
    g.jobs++;
  }

  /** Groups by rows, then jobs, descending; at most `limit`. */
  result(limit: number): { groups: FailureGroup[]; distinct: number } {
    const all = [...this.groups.values()].sort((a, b) => b.rows - a.rows || b.jobs - a.jobs || (a.key < b.key ? -1 : 1));
    return { groups: all.slice(0, limit), distinct: all.length };
  }
}
