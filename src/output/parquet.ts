import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { rowStatus, type StoredRow } from '../core/records.js';
import { conform, finalize, observe, type Shape, schemaOf } from './parquet-shape.js';
import { inputJson } from './rows.js';

/**
 * Parquet exports of a batch's rows, written with hyparquet-writer (pure JavaScript, one dependency by the same
 * authors, nested types, one row group per `write` call). Two passes over the rows, as the CSV export makes: the
 * first learns the schema (parquet-shape.ts), the second writes. Rows are buffered only up to one row group
 * ({@link ROW_GROUP_ROWS} rows or {@link ROW_GROUP_BYTES} of JSON text, whichever comes first), so memory stays flat
 * whatever the row count.
 */

/** Most rows in one row group. */
export const ROW_GROUP_ROWS = 10_000;
/** Most JSON text (inputs and outputs as stored) buffered for one row group. */
export const ROW_GROUP_BYTES = 32 * 1024 * 1024;

/** One exported row: the results.jsonl fields, with `error` as RunPod gave it (text) and the error code. */
export interface ParquetRecord {
  id: unknown;
  status: string;
  input: unknown;
  output: unknown;
  error: string | null;
  errorCode: string | null;
  jobId: string | null;
  delayTime: number | null;
  executionTime: number | null;
  endToEndMs: number | null;
  attempts: number;
  line: number;
  lost: number;
  expired: number;
}

const STRING: Shape = { kind: 'string' };
const INT: Shape = { kind: 'int' };

/**
 * The columns in order, and the shape a column takes when every row holds null there (a run with no timings, a batch
 * where every row failed): timings stay integers, texts stay strings. `id`, `input` and `output` are learnt.
 */
export const COLUMNS: { name: keyof ParquetRecord; fallback?: Shape }[] = [
  { name: 'id', fallback: STRING },
  { name: 'status', fallback: STRING },
  { name: 'input' },
  { name: 'output' },
  { name: 'error', fallback: STRING },
  { name: 'errorCode', fallback: STRING },
  { name: 'jobId', fallback: STRING },
  { name: 'delayTime', fallback: INT },
  { name: 'executionTime', fallback: INT },
  { name: 'endToEndMs', fallback: INT },
  { name: 'attempts', fallback: INT },
  { name: 'line', fallback: INT },
  { name: 'lost', fallback: INT },
  { name: 'expired', fallback: INT },
];

export function recordOf(r: StoredRow): ParquetRecord {
  return {
    id: JSON.parse(r.idJson),
    status: rowStatus(r),
    input: JSON.parse(inputJson(r)),
    output: r.output === null ? null : JSON.parse(r.output),
    error: r.error !== null && r.state !== 'COMPLETED' ? r.error : null,
    errorCode: r.state !== 'COMPLETED' ? r.errorCode : null,
    jobId: r.jobId,
    delayTime: r.delayTime,
    executionTime: r.executionTime,
    endToEndMs: r.e2eMs,
    attempts: r.attempts,
    line: r.line,
    lost: r.lost,
    expired: r.expired,
  };
}

/** About how much memory a row's values take while buffered: the JSON text they came from. */
export function recordWeight(r: StoredRow): number {
  return r.body.length + (r.output?.length ?? 0) + (r.error?.length ?? 0) + 200;
}

/** A learnt schema: the columns' shapes, built by `learn` over the rows. */
export class SchemaLearner {
  private readonly shapes = new Map<string, Shape>();
  rows = 0;
  weight = 0;

  learn(rec: Record<string, unknown>, weight = 0): void {
    this.rows++;
    this.weight += weight;
    for (const [k, v] of Object.entries(rec)) this.shapes.set(k, observe(this.shapes.get(k) ?? { kind: 'null' }, v));
  }

  /** Every field seen, in the order first seen. */
  seen(): { name: string; shape: Shape }[] {
    return finalize([...this.shapes].map(([name, shape]) => ({ name, shape })));
  }

  columns(order: { name: string; fallback?: Shape }[]): { name: string; shape: Shape }[] {
    return finalize(order.map((c) => ({ name: c.name, shape: this.shapes.get(c.name) ?? { kind: 'null' }, fallback: c.fallback })));
  }
}

/** A ByteWriter that drains to a file descriptor every MiB: the file is never held in memory. */
class FdWriter extends ByteWriter {
  constructor(private readonly fd: number) {
    super(1 << 20);
  }

  override ensure(size: number): void {
    if (this.index > 1 << 20) this.drain();
    super.ensure(size);
  }

  private drain(): void {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.index = 0;
  }

  override finish(): void {
    this.drain();
  }
}

/**
 * One Parquet file written row by row: rows are buffered into columns and written as a row group when the group is
 * full; `commit` writes the footer and renames the file into place (a reader never sees half a file, nor does a
 * crash leave one under the final name). `abort` removes the temporary file.
 */
export class ParquetFile {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly writer: ParquetWriter;
  private readonly columns: { name: string; shape: Shape }[];
  private buffered: unknown[][];
  private weight = 0;
  rows = 0;

  constructor(
    private readonly path: string,
    columns: { name: string; shape: Shape }[],
    private readonly limits = { rows: ROW_GROUP_ROWS, bytes: ROW_GROUP_BYTES },
    kvMetadata: { key: string; value: string }[] = [],
  ) {
    this.columns = columns;
    this.buffered = columns.map(() => []);
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w', 0o600);
    this.writer = new ParquetWriter({
      writer: new FdWriter(this.fd),
      schema: schemaOf(columns) as ConstructorParameters<typeof ParquetWriter>[0]['schema'],
      // An empty list is written with no element type, which arrow-rs refuses: no list at all then.
      kvMetadata: kvMetadata.length > 0 ? kvMetadata : undefined,
      createdBy: 'runpod-batch',
    });
  }

  add(rec: Record<string, unknown>, weight = 0): void {
    for (let i = 0; i < this.columns.length; i++) this.buffered[i]!.push(conform(this.columns[i]!.shape, rec[this.columns[i]!.name]));
    this.rows++;
    this.weight += weight;
    if (this.buffered[0]!.length >= this.limits.rows || this.weight >= this.limits.bytes) this.flush();
  }

  private flush(): void {
    const n = this.buffered[0]!.length;
    if (n === 0) return;
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: this.buffered[i]! }));
    // One call, one row group: the whole buffer is the group.
    void this.writer.write({ columnData: columnData as never, rowGroupSize: n });
    this.buffered = this.columns.map(() => []);
    this.weight = 0;
  }

  commit(): void {
    // hyparquet-writer writes an empty Thrift list with no element type, which arrow-rs (pyarrow's sibling) refuses:
    // a file with no row group would be unreadable there. The exports never write one.
    if (this.rows === 0) throw new Error(`${this.path}: no rows to write (a Parquet file without row groups is refused by readers)`);
    this.flush();
    void this.writer.finish();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {}
    rmSync(this.tmp, { force: true });
  }
}

/** Names of `count` shards in the Hugging Face convention: `<prefix>-00000-of-00003.parquet`. */
export function shardNames(prefix: string, count: number): string[] {
  const pad = (i: number) => String(i).padStart(5, '0');
  return Array.from({ length: count }, (_, i) => `${prefix}-${pad(i)}-of-${pad(count)}.parquet`);
}
