import { rowStatus, type StoredRow } from '../core/records.js';

/** The JSON text of a row's input, cut from its stored body without a parse where the body is just {"input": …}. */
export function inputJson(r: Pick<StoredRow, 'body' | 'inputOnly'>): string {
  if (r.inputOnly === 1 && r.body.startsWith('{"input":') && r.body.endsWith('}')) return r.body.slice(9, -1);
  return JSON.stringify((JSON.parse(r.body) as { input: unknown }).input);
}

/**
 * One results.jsonl line: input and output merged, with the job's timings (ms, as RunPod reports them). Built from
 * the stored JSON texts (id, input, output are stored as JSON.stringify wrote them): a million rows are written
 * without parsing and re-serialising each input and output.
 */
export function resultLine(r: StoredRow): string {
  let line = `{"id":${r.idJson},"status":${JSON.stringify(rowStatus(r))},"input":${inputJson(r)}`;
  if (r.output !== null) line += `,"output":${r.output}`;
  if (r.error !== null && r.state !== 'COMPLETED') line += `,"error":${JSON.stringify(parseMaybeJson(r.error))}`;
  line +=
    `,"jobId":${r.jobId === null ? 'null' : JSON.stringify(r.jobId)},"delayTime":${r.delayTime},"executionTime":${r.executionTime}` +
    `,"endToEndMs":${r.e2eMs},"attempts":${r.attempts},"line":${r.line}`;
  if (r.lost > 0) line += `,"lost":${r.lost}`;
  if (r.expired > 0) line += `,"expired":${r.expired}`;
  return line + '}';
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
