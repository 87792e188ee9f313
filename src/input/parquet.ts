import { open } from 'node:fs/promises';
import {
  type AsyncBuffer,
  asyncBufferFromFile,
  type ColumnChunk,
  type CompressionCodec,
  type Compressors,
  type FileMetaData,
  type OffsetIndex,
  type ParquetParsers,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type SchemaTree,
} from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { fileError, readError } from './format.js';
import { inShard, issue, recordItem, rowIdOf, type ReadContext, type SourceItem } from './row.js';

type PageLocation = OffsetIndex['page_locations'][number];

/**
 * Parquet input (a Hugging Face dataset shard, a pandas/Polars/DuckDB export), read with hyparquet (pure JavaScript).
 * Each row is a record as a JSONL line would be (an object with `input` is a whole /run body, any other object is the
 * input; the id from the id column, else the 1-based row number), and its `line` is its 1-based row number in the
 * file. The file is read one row group at a time, and a large row group in slices of rows, so memory does not grow
 * with the row count.
 */

/** Most uncompressed bytes (the footer's count) decoded in one read: a larger row group is read in row slices. */
export const SLICE_BYTES = 32 * 1024 * 1024;
/** Most rows decoded in one read, whatever their size: bounds the row objects held at once. */
export const SLICE_ROWS = 20_000;

/** Codecs hyparquet decodes itself. */
const BUILT_IN: ReadonlySet<CompressionCodec> = new Set(['UNCOMPRESSED', 'SNAPPY']);
/** Codecs hyparquet-compressors adds (loaded only for a file that uses one). LZO is decoded by neither. */
const EXTRA: ReadonlySet<CompressionCodec> = new Set(['GZIP', 'BROTLI', 'ZSTD', 'LZ4', 'LZ4_RAW']);

/**
 * Timestamps and dates become ISO 8601 text as they are decoded (no Date objects in between): timestamps in UTC to
 * the column's own precision (`2024-05-01T12:00:00.123456Z` for microseconds), dates as `2024-05-01`. A value out of
 * the range of dates JavaScript can show stays its number, as text.
 */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => isoTimestamp(v, 1000n, 3),
  timestampFromMicroseconds: (v: bigint) => isoTimestamp(v, 1_000_000n, 6),
  timestampFromNanoseconds: (v: bigint) => isoTimestamp(v, 1_000_000_000n, 9),
  dateFromDays: (days: number) => {
    const d = new Date(days * 86_400_000);
    if (Number.isNaN(d.getTime())) return String(days);
    const iso = d.toISOString();
    return iso.slice(0, iso.indexOf('T'));
  },
};

export function isoTimestamp(value: bigint, perSecond: bigint, digits: number): string {
  let seconds = value / perSecond;
  let frac = value % perSecond;
  if (frac < 0n) {
    frac += perSecond;
    seconds -= 1n;
  }
  const d = new Date(Number(seconds) * 1000);
  if (Number.isNaN(d.getTime())) return String(value);
  const iso = d.toISOString(); // …ss.000Z
  return `${iso.slice(0, -4)}${frac.toString().padStart(digits, '0')}Z`;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A decoded Parquet value as JSON can carry it: INT64 as a number when it is a safe integer, else as its decimal text;
 * BYTE_ARRAY without a string annotation (and FIXED_LEN_BYTE_ARRAY) as base64 text; other typed arrays, lists and
 * structs as arrays and objects; maps as objects; a missing struct field as null. Lists and objects are converted in
 * place (hyparquet builds them for each row, and converting twice changes nothing): a row is not copied.
 */
export function jsonValue(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'bigint':
      return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
    case 'undefined':
      return null;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) v[i] = jsonValue(v[i]);
        return v;
      }
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, jsonValue);
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
      return jsonObject(v as Record<string, unknown>);
    }
    default:
      return String(v);
  }
}

function jsonObject(obj: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    // Strings and numbers (most columns) stay as they are: no write.
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') obj[key] = jsonValue(v);
  }
  return obj;
}

/** The row slices [start, end) (0-based, within the file) a row group is read in. */
export function groupSlices(groupStart: number, rows: number, bytes: number): [number, number][] {
  const bySize = bytes > SLICE_BYTES ? Math.max(1, Math.floor((rows * SLICE_BYTES) / bytes)) : rows;
  const step = Math.max(1, Math.min(SLICE_ROWS, bySize));
  const out: [number, number][] = [];
  for (let at = 0; at < rows; at += step) out.push([groupStart + at, groupStart + Math.min(rows, at + step)]);
  return out;
}

/** Streams a Parquet file's rows in order, one row group (or row slice) decoded at a time. */
export async function* readParquet(ctx: ReadContext): AsyncGenerator<SourceItem> {
  const { file, metadata } = await openParquet(ctx.file);
  const compressors = await compressorsFor(ctx.file, metadata);
  if (Number(metadata.num_rows) === 0) {
    yield issue(ctx, 1, 'empty input: no rows');
    return;
  }
  const groups = metadata.row_groups.length;
  const schema = parquetSchema(metadata);
  const topColumns = schema.children.map((c) => c.element.name);
  let groupStart = 0;
  for (let g = 0; g < groups; g++) {
    const group = metadata.row_groups[g]!;
    const rows = Number(group.num_rows);
    const slices = groupSlices(groupStart, rows, Number(group.total_byte_size));
    let pageLocationsByGroup: Record<string, PageLocation[]>[] | undefined;
    // Nested columns no page can be located in are decoded whole by any read of the group: once, not once a slice.
    let whole: { columns: Set<string>; records: Record<string, unknown>[] } | undefined;
    const read = (rowStart: number, rowEnd: number, columns?: string[]) =>
      parquetReadObjects({
        file,
        metadata,
        rowStart,
        rowEnd,
        ...(columns ? { columns } : {}),
        compressors,
        parsers: PARSERS,
        // Bytes without a string annotation stay bytes (sent as base64), not text guessed as UTF-8.
        utf8: false,
        // Read only the pages of a slice when the file has an offset index …
        useOffsetIndex: true,
        // … or, for the columns it has none for, where pageLocationsOf found them (hyparquet's own option, untyped).
        ...(pageLocationsByGroup === undefined ? {} : { pageLocationsByGroup }),
      } as Parameters<typeof parquetReadObjects>[0]);
    for (const [rowStart, rowEnd] of slices) {
      let records: Record<string, unknown>[];
      try {
        if (slices.length > 1 && pageLocationsByGroup === undefined) {
          pageLocationsByGroup = [];
          pageLocationsByGroup[g] = await pageLocationsOf(file, group.columns, schema);
          const unlocated = unlocatedNested(group.columns, schema);
          if (unlocated.size > 0) whole = { columns: unlocated, records: await read(groupStart, groupStart + rows, [...unlocated]) };
        }
        if (whole === undefined) records = await read(rowStart, rowEnd);
        else {
          const rest = topColumns.filter((c) => !whole!.columns.has(c));
          const part = rest.length > 0 ? await read(rowStart, rowEnd, rest) : [];
          records = joinColumns(topColumns, whole.columns, whole.records, rowStart - groupStart, part, rowEnd - rowStart);
        }
      } catch (e) {
        throw fileError(ctx.file, `cannot read row group ${g + 1} of ${groups}: ${messageOf(e)}`, e);
      }
      for (let i = 0; i < records.length; i++) {
        const item = rowItem(ctx, rowStart + i + 1, records[i]!);
        if (item !== undefined) yield item;
      }
    }
    groupStart += rows;
  }
}

/**
 * The top-level columns holding a repeated level (a list, a map) whose chunk in this row group has no offset index:
 * hyparquet cannot read part of such a chunk, and pageLocationsOf cannot locate its pages (a page's value count is not
 * its row count there), so every read of the group decodes it whole.
 */
function unlocatedNested(chunks: ColumnChunk[], schema: SchemaTree): Set<string> {
  const out = new Set<string>();
  for (const chunk of chunks) {
    const path = chunk.meta_data?.path_in_schema;
    if (path === undefined || chunk.offset_index_offset !== undefined || !hasRepeatedLevel(schema, path)) continue;
    out.add(path[0]!);
  }
  return out;
}

/** Rows of a slice with their columns in the file's order: `whole` columns from the group's read, the rest from `part`. */
function joinColumns(
  order: string[],
  wholeColumns: Set<string>,
  whole: Record<string, unknown>[],
  offset: number,
  part: Record<string, unknown>[],
  count: number,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const from = whole[offset + i]!;
    const rest = part[i];
    const row: Record<string, unknown> = {};
    for (const name of order) {
      const v = wholeColumns.has(name) ? from[name] : rest?.[name];
      if (name === '__proto__') Object.defineProperty(row, name, { value: v, enumerable: true, writable: true, configurable: true });
      else row[name] = v;
    }
    out[i] = row;
  }
  return out;
}

/** Most bytes read to parse one page header (they are small; a page's statistics can make one larger). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Where the data pages of a row group's column chunks start, and their first rows: what an offset index tells, found
 * by reading the page headers, for the chunks that have no offset index (pyarrow writes none by default). Without it
 * hyparquet reads a whole column chunk for each slice, and decodes it all when the column is nested. Only for columns
 * with no repeated level, where a page's value count is its row count (DATA_PAGE_V2 gives rows itself).
 */
export async function pageLocationsOf(
  file: AsyncBuffer,
  chunks: ColumnChunk[],
  schema: SchemaTree,
): Promise<Record<string, PageLocation[]>> {
  const out: Record<string, PageLocation[]> = {};
  for (const chunk of chunks) {
    const meta = chunk.meta_data;
    if (meta === undefined || chunk.offset_index_offset !== undefined || hasRepeatedLevel(schema, meta.path_in_schema)) continue;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const end = start + Number(meta.total_compressed_size);
    const pages: PageLocation[] = [];
    let pos = start;
    let rows = 0n;
    while (pos < end) {
      let window = 64 * 1024;
      let header: ReturnType<typeof parquetHeader> | undefined;
      let headerBytes = 0;
      while (header === undefined) {
        const view = new DataView(await file.slice(pos, Math.min(end, pos + window)));
        const reader = { view, offset: 0 };
        try {
          header = parquetHeader(reader);
          headerBytes = reader.offset;
        } catch (e) {
          // A header cut by the window: read more. Past the chunk's end, or huge: the chunk is not what it says.
          if (!(e instanceof RangeError) || pos + window >= end || window >= MAX_HEADER_BYTES) throw e;
          window *= 4;
        }
      }
      const pageRows = header.data_page_header_v2?.num_rows ?? header.data_page_header?.num_values;
      if (header.type === 'DATA_PAGE' || header.type === 'DATA_PAGE_V2') {
        if (pageRows === undefined) break;
        pages.push({ offset: BigInt(pos), compressed_page_size: headerBytes + header.compressed_page_size, first_row_index: rows });
        rows += BigInt(pageRows);
      }
      pos += headerBytes + header.compressed_page_size;
    }
    if (pages.length > 0 && pos === end) out[meta.path_in_schema.join('.')] = pages;
  }
  return out;
}

/** Whether a column (its path in the schema) sits under a repeated level: a list, a map, a repeated field. */
function hasRepeatedLevel(schema: SchemaTree, path: string[]): boolean {
  let node: SchemaTree | undefined = schema;
  for (const name of path) {
    node = node.children.find((c) => c.element.name === name);
    if (node === undefined) return true;
    if (node.element.repetition_type === 'REPEATED') return true;
  }
  return false;
}

/** One decoded row → row, issue or record to map (undefined for a row of another shard). `row` is 1-based. */
function rowItem(ctx: ReadContext, row: number, raw: Record<string, unknown>): SourceItem | undefined {
  // The id first: a row of another shard has its id checked and its place counted, and is not converted further.
  if (Object.hasOwn(raw, ctx.idField)) raw[ctx.idField] = jsonValue(raw[ctx.idField]);
  const id = rowIdOf(ctx, raw, row);
  if ('problem' in id) return issue(ctx, row, id.problem);
  if (!inShard(ctx, id.id)) {
    ctx.seq++;
    return undefined;
  }
  const obj = jsonObject(raw);
  if (Object.hasOwn(obj, 'input')) {
    // A whole /run body per row: a null in an optional column means the field is absent from that row (in JSONL a
    // row leaves the key out; a Parquet column is there for every row) — for a mapping too, which sees the record
    // as it would the JSONL object.
    for (const key of BODY_OPTIONAL) if (obj[key] === null) delete obj[key];
  }
  return recordItem(ctx, row, id.id, obj, 'request');
}

/** The /run body's optional fields (row.ts requestBody). */
const BODY_OPTIONAL = ['webhook', 'policy', 's3Config'] as const;

const MAGIC = 'PAR1';
const ENCRYPTED_MAGIC = 'PARE';

/** Checks the file's magic numbers, then reads its footer: each failure is one clear file error. */
async function openParquet(path: string): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  let head: string;
  let tail: string;
  let size: number;
  try {
    const fh = await open(path, 'r');
    try {
      size = (await fh.stat()).size;
      const magicAt = async (position: number): Promise<string> => {
        const buf = Buffer.alloc(4);
        await fh.read(buf, 0, 4, position);
        return buf.toString('latin1');
      };
      head = size >= 4 ? await magicAt(0) : '';
      tail = size >= 8 ? await magicAt(size - 4) : '';
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw readError(path, e);
  }
  if (size === 0) throw fileError(path, 'not a Parquet file: the file is empty');
  if (head !== MAGIC && head !== ENCRYPTED_MAGIC) {
    throw fileError(path, `not a Parquet file: it does not start with ${MAGIC} (if it is JSONL or CSV, name it so or pass --format)`);
  }
  if (head === ENCRYPTED_MAGIC || tail === ENCRYPTED_MAGIC) throw fileError(path, 'encrypted Parquet files are not supported');
  if (size < 12 || tail !== MAGIC) {
    throw fileError(path, `truncated Parquet file: it does not end with ${MAGIC} (the footer is missing; was the download cut short?)`);
  }
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file, { parsers: PARSERS });
    // An ENUM column (Avro, parquet-mr) holds text: read it as a string column, not as bytes (utf8: false below).
    for (const el of metadata.schema) if (el.converted_type === 'ENUM' || el.logical_type?.type === 'ENUM') el.converted_type = 'UTF8';
    return { file, metadata };
  } catch (e) {
    throw fileError(path, `unreadable Parquet footer (corrupt or truncated file): ${messageOf(e)}`, e);
  }
}

/** The decompressors the file's codecs need, checked before any row is read; undefined when hyparquet has them all. */
async function compressorsFor(path: string, metadata: FileMetaData): Promise<Compressors | undefined> {
  const codecs = new Set<CompressionCodec>();
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      if (chunk.file_path !== undefined) {
        throw fileError(path, `column chunks in another file (${chunk.file_path}) are not supported: give one self-contained Parquet file`);
      }
      if (chunk.meta_data !== undefined) codecs.add(chunk.meta_data.codec);
    }
  }
  const unknown = [...codecs].filter((c) => !BUILT_IN.has(c) && !EXTRA.has(c));
  if (unknown.length > 0) {
    throw fileError(
      path,
      `unsupported Parquet compression ${unknown.join(', ')}: rewrite the file with SNAPPY, ZSTD, GZIP, BROTLI, LZ4_RAW or none`,
    );
  }
  if ([...codecs].every((c) => BUILT_IN.has(c))) return undefined;
  const { compressors } = await import('hyparquet-compressors');
  return compressors as Compressors;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
