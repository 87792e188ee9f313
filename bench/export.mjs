#!/usr/bin/env node
// Export: peak RSS (/usr/bin/time %M), wall and CPU time of `runpod-batch export` of a finished 100,000-row and
// 1,000,000-row batch (the bench's ~100-byte rows, echoed back by a zero-latency emulator), each in a process of its
// own. Baseline, in the same run on the same batch: `export --format jsonl` (results.jsonl's lines, streamed).
// Measured: `--format parquet` (two passes over the state: schema, then row groups of ≤ 10,000 rows / 32 MB) and
// `--format hf` (the same as Parquet shards plus a card). Target: ≤ 200 MB at 1M rows, and flat: 1M ≤ 1.3 × 100k.
// The finished batches are made once into bench/out/export-<rows>/ (a run against the emulator, not measured here)
// and reused. --reps N repeats each export and reports medians.
//
//   node bench/export.mjs [--rows 1000000] [--reps 1] [--quick]
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_DIR,
  OUT_DIR,
  emit,
  ensureInput,
  printTable,
  quantile,
  round,
  startEmu,
  timeNode,
  watchdog,
  parseArgs,
} from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), { rows: 1_000_000, reps: 1, quick: false });
if (args.quick) args.rows = Math.min(args.rows, 20_000);
const sizes = [Math.round(args.rows / 10), args.rows];
watchdog(3 * 3600_000, 'export');

/** A finished batch of `rows` rows in bench/out/export-<rows>/, made by a run when it is not there yet. */
async function finishedBatch(rows) {
  const out = join(OUT_DIR, `export-${rows}`);
  if (existsSync(join(out, 'results.jsonl')) && existsSync(join(out, 'state.sqlite'))) return out;
  rmSync(out, { recursive: true, force: true });
  const input = await ensureInput(rows);
  const emu = await startEmu({ workers: 1000, executionMs: 0, seed: 17, retentionMs: 10 * 60_000 });
  try {
    console.error(`export: making a finished ${rows}-row batch…`);
    const cargs = ['--input', input, '--out', out, '--base-url', emu.baseUrl, '--max-ms', String(150 * 60_000)];
    const t = await timeNode(join(BENCH_DIR, 'run-client.mjs'), cargs, { maxMs: 160 * 60_000, label: `export: run ${rows}` });
    if (t.result?.exitCode !== 0) throw new Error(`export: the ${rows}-row run did not finish (exit ${t.code})`);
  } finally {
    await emu.close();
  }
  return out;
}

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  let n = 0;
  for (const e of readdirSync(path)) n += sizeOf(join(path, e));
  return n;
}

const median = (xs) => quantile(xs, 0.5);
const results = [];
for (const rows of sizes) {
  const out = await finishedBatch(rows);
  for (const format of ['jsonl', 'parquet', 'hf']) {
    const runs = [];
    for (let rep = 0; rep < args.reps; rep++) {
      const target = join(OUT_DIR, `export-${rows}.${format === 'hf' ? 'hf' : format}`);
      rmSync(target, { recursive: true, force: true });
      console.error(`export: ${format}, ${rows} rows (${rep + 1}/${args.reps})…`);
      const t = await timeNode(join(BENCH_DIR, 'export-client.mjs'), [out, format, target], { label: `export ${format} ${rows}` });
      if (t.code !== 0) throw new Error(`export ${format} ${rows}: exit ${t.code}`);
      runs.push({
        rss: t.maxRssMb,
        wall: t.wallS,
        cpu: t.cpuS,
        bytes: sizeOf(target),
        peakAtS: t.rss?.peakAtS,
        heap: t.result?.heapUsedMb,
      });
      rmSync(target, { recursive: true, force: true });
    }
    results.push({
      format,
      rows,
      peakRssMb: round(median(runs.map((r) => r.rss)), 0),
      wallS: round(median(runs.map((r) => r.wall)), 1),
      cpuS: round(median(runs.map((r) => r.cpu)), 1),
      rowsPerS: round(rows / median(runs.map((r) => r.wall)), 0),
      outputMb: round(median(runs.map((r) => r.bytes)) / 1048576, 1),
      runs,
    });
  }
}

const of = (format, rows) => results.find((r) => r.format === format && r.rows === rows);
const growth = Object.fromEntries(
  ['jsonl', 'parquet', 'hf'].map((f) => [f, round(of(f, sizes[1]).peakRssMb / of(f, sizes[0]).peakRssMb, 2)]),
);
const vsJsonl = (r) => round(r.wallS / of('jsonl', r.rows).wallS, 2);
printTable(
  `Export: peak RSS of the export process; baseline --format jsonl of the same batch. Target ≤ 200 MB at 1M rows, ` +
    `1M ≤ 1.3 × 100k (here jsonl ${growth.jsonl}×, parquet ${growth.parquet}×, hf ${growth.hf}×)`,
  results,
  [
    ['format', 'format'],
    ['rows', 'rows'],
    ['peak RSS MB', 'peakRssMb'],
    ['wall s', 'wallS'],
    ['× jsonl wall', vsJsonl],
    ['CPU s', 'cpuS'],
    ['rows/s', 'rowsPerS'],
    ['output MB', 'outputMb'],
  ],
);
emit('export', { args, target: { peakRssMbMax: 200, growthMax: 1.3 }, growth, results });
