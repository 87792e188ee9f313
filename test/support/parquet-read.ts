import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { ParquetFile, readParquet } from 'parquet-wasm';

/**
 * Reads a Parquet file with an implementation independent of the writer's: parquet-wasm (the Rust arrow-rs
 * `parquet` crate compiled to WebAssembly), decoded through Apache Arrow's own JavaScript IPC reader. Rows come back
 * as plain values: INT64 as bigint (so a test sees the type), lists as arrays, structs as objects.
 */
export function readParquetFile(path: string): { types: Record<string, string>; rows: Record<string, unknown>[] } {
  const table = tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
  const types: Record<string, string> = {};
  for (const f of table.schema.fields) types[f.name] = String(f.type);
  const rows: Record<string, unknown>[] = [];
  for (const r of table) rows.push(plain(r) as Record<string, unknown>);
  return { types, rows };
}

function plain(v: unknown): unknown {
  if (v === null || v === undefined || typeof v !== 'object') return v ?? null;
  if (Array.isArray(v)) return v.map(plain);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, plain);
  const j = (v as { toJSON?: () => unknown }).toJSON;
  if (typeof j === 'function') {
    const out = j.call(v);
    if (out !== v) return plain(out);
  }
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
}

/** The row count of each row group, from the file's footer as parquet-wasm reads it. */
export async function rowGroupSizes(path: string): Promise<number[]> {
  const file = await ParquetFile.fromFile(new Blob([readFileSync(path)]));
  const meta = file.metadata();
  return Array.from({ length: meta.numRowGroups() }, (_, i) => meta.rowGroup(i).numRows());
}
