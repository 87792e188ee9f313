#!/usr/bin/env node
// Parquet input (#13): peak RSS (/usr/bin/time %M) of loading a 100,000-row and a 1,000,000-row Parquet input, each
// in a process of its own, next to the same rows as JSONL (the baseline, measured in the same run). Two modes:
// `ingest` — the dry run's validation (src/batch/dry-run.ts: every row read, checked and loaded into a throwaway
// state.sqlite, as a run does before it submits anything); `read` — readInput alone, rows counted and dropped.
// Inputs: bench/out/input-<rows>.jsonl (lib/common.mjs, ~100 bytes a line: {"id", "input": {"prompt", "seed"}}) and
// bench/out/input-<rows>-<codec>.parquet, the same rows (columns id and input, a struct), written once by arrow-rs
// (parquet-wasm) with its default row groups (up to 1,048,576 rows: the 1M file is one row group, which the reader
// takes in slices of rows). `--no-offset-index` writes the files with hyparquet-writer instead, SNAPPY, without an
// offset index (what pyarrow and pandas write by default): the reader then finds the pages from their headers. Target: Parquet 1M ≤ 1.3 × Parquet 100k (memory does not grow with the row count); the
// excess over JSONL of the same size is reported, not a target (a slice of 20,000 decoded rows and V8's slack over it).
// Time at default size: ~1.5 min (the first run also writes the inputs).
//
//   node bench/parquet-input.mjs [--rows 1000000] [--mode ingest,read] [--codec ZSTD] [--row-group 1048576]
//                                [--no-offset-index] [--quick]
//   node bench/parquet-input.mjs --child --input FILE --mode ingest     (one measurement; prints a JSON line)
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST_DIR } from './lib/dist.mjs';
import { emit, ensureInput, makeRow, OUT_DIR, parseArgs, printTable, round, timeNode, watchdog } from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), {
  rows: 1_000_000,
  mode: 'ingest,read',
  codec: 'ZSTD',
  rowGroup: 1_048_576,
  offsetIndex: true,
  quick: false,
});
if (args.offsetIndex === false) args.codec = 'SNAPPY';

if (args.child) {
  // One measurement in this process: the parent reads its peak RSS from /usr/bin/time.
  const mem = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(mem)) mem[k] = Math.max(mem[k], Math.round(m[k] / 1048576));
  };
  setInterval(sample, 200).unref();
  const t0 = performance.now();
  let rows = 0;
  if (args.mode === 'ingest') {
    const { dryRun } = await import(pathToFileURL(join(DIST_DIR, 'batch', 'index.js')).href);
    rows = (await dryRun({ input: args.input })).rows;
  } else {
    const { readInput } = await import(pathToFileURL(join(DIST_DIR, 'input', 'index.js')).href);
    for await (const item of readInput(args.input)) {
      if (item.kind !== 'row') throw new Error(`unexpected ${JSON.stringify(item)}`);
      rows++;
    }
  }
  sample();
  console.log(JSON.stringify({ rows, wallMs: Math.round(performance.now() - t0), maxMemoryMb: mem }));
  process.exit(0);
}

if (args.quick) args.rows = Math.min(args.rows, 20_000);
watchdog(3600_000, 'parquet-input');
const sizes = [Math.round(args.rows / 10), args.rows];
const modes = String(args.mode).split(',');

/** bench/out/input-<rows>-<codec>.parquet: the rows of input-<rows>.jsonl, written once with parquet-wasm. */
async function ensureParquet(rows) {
  const noIndex = args.offsetIndex === false ? '-noindex' : '';
  const path = join(OUT_DIR, `input-${rows}-${String(args.codec).toLowerCase()}-rg${args.rowGroup}${noIndex}.parquet`);
  if (existsSync(path)) return path;
  if (noIndex) {
    const { parquetWriteFile } = await import('hyparquet-writer');
    const ids = new Array(rows);
    const inputs = new Array(rows);
    for (let i = 1; i <= rows; i++) {
      const r = makeRow(i);
      ids[i - 1] = r.id;
      inputs[i - 1] = r.input;
    }
    parquetWriteFile({
      filename: `${path}.tmp`,
      rowGroupSize: args.rowGroup,
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'input', repetition_type: 'REQUIRED', num_children: 2 },
        { name: 'prompt', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'seed', type: 'INT32', repetition_type: 'REQUIRED' },
      ],
      columnData: [
        { name: 'id', data: ids, offsetIndex: false },
        { name: 'input', data: inputs, offsetIndex: false },
      ],
    });
    renameSync(`${path}.tmp`, path);
    return path;
  }
  const A = await import('apache-arrow');
  const pw = await import('parquet-wasm');
  const ids = new Array(rows);
  const prompts = new Array(rows);
  const seeds = new Int32Array(rows);
  for (let i = 1; i <= rows; i++) {
    const r = makeRow(i);
    ids[i - 1] = r.id;
    prompts[i - 1] = r.input.prompt;
    seeds[i - 1] = r.input.seed;
  }
  const input = A.makeVector({
    type: new A.Struct([new A.Field('prompt', new A.Utf8(), false), new A.Field('seed', new A.Int32(), false)]),
    length: rows,
    nullCount: 0,
    children: [A.vectorFromArray(prompts, new A.Utf8()).data[0], A.makeData({ type: new A.Int32(), data: seeds })],
  });
  const table = new A.Table({ id: A.vectorFromArray(ids, new A.Utf8()), input });
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression[args.codec]).setMaxRowGroupSize(args.rowGroup).build();
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(A.tableToIPC(table, 'stream')), props);
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
  return path;
}

async function measure(format, mode, rows) {
  const input = format === 'jsonl' ? await ensureInput(rows) : await ensureParquet(rows);
  console.error(`parquet-input: ${mode} ${format}, ${rows} rows…`);
  const t = await timeNode(fileURLToPath(import.meta.url), ['--child', '--input', input, '--mode', mode], {
    maxMs: 30 * 60_000,
    label: `${mode} ${format} ${rows}`,
  });
  if (!t.result || t.result.rows !== rows) throw new Error(`${mode} ${format} ${rows}: got ${JSON.stringify(t.result)} (exit ${t.code})`);
  return {
    mode,
    format,
    rows,
    fileMb: round(statSync(input).size / 1048576, 1),
    peakRssMb: round(t.maxRssMb, 0),
    wallS: round(t.result.wallMs / 1000, 1),
    rowsPerS: round(rows / (t.result.wallMs / 1000), 0),
    cpuS: round(t.cpuS, 1),
    heapUsedMb: t.result.maxMemoryMb.heapUsed,
    arrayBuffersMb: t.result.maxMemoryMb.arrayBuffers,
    peakAtS: t.rss?.peakAtS,
    rss: t.rss?.series,
  };
}

const results = [];
for (const mode of modes)
  for (const rows of sizes) for (const format of ['jsonl', 'parquet']) results.push(await measure(format, mode, rows));

const fig = (mode, format, rows) => results.find((r) => r.mode === mode && r.format === format && r.rows === rows);
const checks = modes.map((mode) => {
  const [small, big] = sizes.map((n) => fig(mode, 'parquet', n));
  const jsonl = fig(mode, 'jsonl', sizes[1]);
  return {
    mode,
    growth: round(big.peakRssMb / small.peakRssMb, 2),
    overJsonlMb: round(big.peakRssMb - jsonl.peakRssMb, 0),
    parquetOverJsonl: round(big.peakRssMb / jsonl.peakRssMb, 2),
  };
});
printTable(
  `Parquet input (${args.codec}, row groups ≤ ${args.rowGroup} rows${args.offsetIndex === false ? ', no offset index' : ''}): peak RSS of one process. Target: 1M ≤ 1.3 × 100k (${checks.map((c) => `${c.mode}: ${c.growth}×, ${c.overJsonlMb >= 0 ? '+' : ''}${c.overJsonlMb} MB over JSONL`).join('; ')})`,
  results,
  [
    ['mode', 'mode'],
    ['format', 'format'],
    ['rows', 'rows'],
    ['file MB', 'fileMb'],
    ['peak RSS MB', 'peakRssMb'],
    ['peak at s', 'peakAtS'],
    ['wall s', 'wallS'],
    ['rows/s', 'rowsPerS'],
    ['CPU s', 'cpuS'],
    ['max heap MB', 'heapUsedMb'],
  ],
);
emit('parquet-input', { args, target: { growthMax: 1.3 }, checks, results });
