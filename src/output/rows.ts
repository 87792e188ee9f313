import type { StoredRow } from '../store/store.js';

/** The status a row shows in results: its terminal state, or where it stands (PENDING, IN_QUEUE, IN_PROGRESS). */
export function rowStatus(r: StoredRow): string {
  return r.state === 'SUBMITTED' ? (r.jobStatus ?? 'IN_QUEUE') : r.state;
}

/** One results.jsonl line: input and output merged, with the job's timings (ms, as RunPod reports them). */
export function resultLine(r: StoredRow, body: { input: unknown }): string {
  const line: Record<string, unknown> = {
    id: JSON.parse(r.idJson),
    status: rowStatus(r),
    input: body.input,
  };
  if (r.output !== null) line.output = JSON.parse(r.output);
  if (r.error !== null && r.state !== 'COMPLETED') line.error = parseMaybeJson(r.error);
  line.jobId = r.jobId;
  line.delayTime = r.delayTime;
  line.executionTime = r.executionTime;
  line.endToEndMs = r.e2eMs;
  line.attempts = r.attempts;
  line.line = r.line;
  if (r.lost > 0) line.lost = r.lost;
  if (r.expired > 0) line.expired = r.expired;
  return JSON.stringify(line);
}

/**
 * One errors.jsonl line for a row that did not complete, in the request form the input reader accepts
 * (`{"id", "input", "webhook"?, "policy"?}`), so the file can be fed back as input; status and error ride along.
 */
export function errorLine(r: StoredRow, body: Record<string, unknown>, idField: string): string {
  const line: Record<string, unknown> = { [idField]: JSON.parse(r.idJson), ...body };
  line.status = rowStatus(r);
  line.error = r.error === null ? null : parseMaybeJson(r.error);
  if (r.errorCode) line.errorCode = r.errorCode;
  line.attempts = r.attempts;
  return JSON.stringify(line);
}

/** RunPod's error is often a JSON string holding error_type, error_message, error_traceback: show it as an object. */
function parseMaybeJson(s: string): unknown {
  const t = s.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(s);
    } catch {
      return s;
    }
  }
  return s;
}
