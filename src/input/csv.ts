import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { parse, type CsvError, type InfoRecord } from 'csv-parse';
import { readError } from './format.js';
import { issue, recordItem, type ReadContext, type SourceItem } from './row.js';

/** Smaller than the JSONL chunk: a CSV chunk turns into many records at once, and this bounds that burst. */
const CSV_CHUNK_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/** Integers and decimals without a leading zero (`007` stays a string: it is a code, not a number). */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * `--csv-cast`: a cell that reads as a finite number or true/false (any case) becomes one; all else stays a string.
 * Kept as strings on purpose, so that no data is lost: leading zeros (`007`), empty cells, hex (`0x10`), `-0`, and
 * integers too large to hold exactly (`12345678901234567890`).
 */
export function castCell(s: string): string | number | boolean {
  if (s.length === 4 || s.length === 5) {
    const lower = s.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  if (!NUMBER.test(s)) return s;
  const n = Number(s);
  if (!Number.isFinite(n) || Object.is(n, -0)) return s;
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && /^-?\d+$/.test(s)) return s;
  return n;
}

/** How many physical line breaks a field holds (CRLF, LF or CR), and how many of them are CRLF. */
function lineBreaks(field: Buffer): { breaks: number; crlf: number } {
  let breaks = 0;
  let crlf = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === LF) breaks++;
    else if (c === CR) {
      breaks++;
      if (field[i + 1] === LF) {
        crlf++;
        i++;
      }
    }
  }
  return { breaks, crlf };
}

function hasBreak(field: Buffer): boolean {
  return field.indexOf(LF) !== -1 || field.indexOf(CR) !== -1;
}

function skipMessage(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'unterminated quoted field: a quote opened in the record starting on this line is never closed';
    case 'INVALID_OPENING_QUOTE':
      return 'quote inside an unquoted field: quote the whole field and double the quotes inside it ("")';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a closing quote must be followed by a comma or a line end (double a quote inside a quoted field: "")';
    case 'CSV_MAX_RECORD_SIZE':
      return 'record is too large for a /run body';
    default:
      return err.message;
  }
}

/**
 * Streams a CSV file: the header names the columns, each data record becomes `{input: {column: value}}`.
 * csv-parse runs in Buffer mode (so invalid UTF-8 can be told apart from a real U+FFFD) and its records are taken
 * from `on_record` as it parses each chunk; the stream side is never read.
 */
export async function* readCsv(ctx: ReadContext): AsyncGenerator<SourceItem> {
  const pending: SourceItem[] = [];
  let stopped = false;
  let header: string[] | undefined;
  let headerLine = 1;
  let idIndex = -1;
  let dataRows = 0;
  // csv-parse counts a CRLF inside a quoted field as two lines: `excess` is that overcount so far.
  let excess = 0;
  let lastEnd = 0;
  let lastEmpty = 0;
  let skipLine = 0; // line of the last parse error since the last good record (0: none)

  const onHeader = (record: Buffer[], line: number): void => {
    headerLine = line;
    const names: string[] = [];
    const problems: string[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < record.length; i++) {
      const cell = record[i]!;
      if (!isUtf8(cell)) {
        problems.push(`invalid UTF-8 in the header (column ${i + 1})`);
        continue;
      }
      const name = cell.toString('utf8');
      if (name.trim() === '') problems.push(`empty column name in the header (column ${i + 1})`);
      else if (seen.has(name)) problems.push(`duplicate column name '${name}'`);
      seen.add(name);
      names.push(name);
    }
    if (problems.length > 0) {
      for (const p of new Set(problems)) pending.push(issue(ctx, line, p));
      stopped = true;
      return;
    }
    header = names;
    idIndex = names.indexOf(ctx.idField);
  };

  const onData = (record: Buffer[], line: number, cols: string[]): void => {
    const rowNo = ++dataRows;
    if (record.length !== cols.length) {
      const s = cols.length === 1 ? '' : 's';
      pending.push(issue(ctx, line, `expected ${cols.length} column${s}, got ${record.length}`));
      return;
    }
    const input: Record<string, unknown> = {};
    for (let i = 0; i < record.length; i++) {
      const cell = record[i]!;
      if (!isUtf8(cell)) {
        pending.push(issue(ctx, line, `invalid UTF-8 in column '${cols[i]}'`));
        return;
      }
      const text = cell.toString('utf8');
      const value = ctx.csvCast ? castCell(text) : text;
      const name = cols[i]!;
      if (name === '__proto__') Object.defineProperty(input, name, { value, enumerable: true, writable: true, configurable: true });
      else input[name] = value;
    }
    // The id is the cell's text even with --csv-cast, so the key does not depend on casting ("1e3" stays "1e3").
    let id: string | number = rowNo;
    if (idIndex >= 0 && record[idIndex]!.length > 0) {
      id = record[idIndex]!.toString('utf8');
    }
    const item = recordItem(ctx, line, id, input, 'input');
    if (item !== undefined) pending.push(item);
  };

  const onRecord = (record: Buffer[], info: InfoRecord): null => {
    if (stopped) return null;
    let breaks = 0;
    for (const field of record) {
      if (hasBreak(field)) {
        const b = lineBreaks(field);
        breaks += b.breaks;
        excess += b.crlf;
      }
    }
    const end = info.lines - excess;
    const start = end - breaks;
    lastEnd = end;
    lastEmpty = info.empty_lines;
    skipLine = 0;
    if (header === undefined) {
      // Whitespace before the header (e.g. a stray CR or spaces on a line) is a blank line, not a one-column header.
      if (record.length === 1 && record[0]!.toString('utf8').trim() === '') return null;
      onHeader(record, start);
    } else {
      onData(record, start, header);
    }
    return null;
  };

  const onSkip = (err: CsvError | undefined): undefined => {
    if (stopped || err === undefined) return;
    const notClosed = err.code === 'CSV_QUOTE_NOT_CLOSED';
    let line: number;
    if (notClosed) {
      // Detected at the end of the file: report the line where the broken record starts.
      if (skipLine !== 0) return; // same record as the error just reported (e.g. a bad closing quote)
      line = lastEnd + 1 + (Number(err.empty_lines) - lastEmpty);
    } else {
      line = Number(err.lines) - excess;
      if (line === skipLine) return; // another error in the same record
    }
    skipLine = line;
    pending.push(issue(ctx, line, skipMessage(err)));
    if (header === undefined || notClosed) stopped = true;
    else dataRows++; // the record is dropped but keeps its data-row number
  };

  const parser = parse({
    encoding: null,
    bom: false, // stripped below: with bom: true csv-parse switches to string mode
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: ctx.maxLineBytes,
    on_record: onRecord as unknown as (record: string[], context: InfoRecord) => null,
    on_skip: onSkip,
  });
  let parserError: unknown;
  parser.on('error', (e) => {
    parserError ??= e;
  });
  const stream = createReadStream(ctx.file, { highWaterMark: CSV_CHUNK_BYTES });
  const chunks = stream[Symbol.asyncIterator]();
  let first = true;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<Buffer>;
      } catch (e) {
        throw readError(ctx.file, e);
      }
      if (next.done) break;
      let chunk = next.value;
      if (first) {
        first = false;
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      if (chunk.length > 0) parser.write(chunk);
      if (parserError !== undefined) throw readError(ctx.file, parserError);
      for (let i = 0; i < pending.length; i++) yield pending[i]!;
      pending.length = 0;
      if (stopped) return;
    }
    await new Promise<void>((resolve) => parser.end(() => resolve()));
    if (parserError !== undefined) throw readError(ctx.file, parserError);
    yield* pending;
    if (stopped) return;
    if (header === undefined) yield issue(ctx, 1, 'empty input: no rows');
    else if (dataRows === 0) yield issue(ctx, headerLine, 'no data rows: the CSV file has a header only');
  } finally {
    stream.destroy();
    parser.destroy();
  }
}
