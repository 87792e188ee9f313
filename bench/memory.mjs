#!/usr/bin/env node
// Memory: peak RSS (/usr/bin/time %M) of the client, in a process of its own, on a 100,000-row and a 1,000,000-row
// JSONL input (~100 bytes a row, generated once into bench/out/) against a zero-latency emulator (executionMs 0,
// 1000 workers) in another process. Targets: ≤ 200 MB at 1M rows, and 1M ≤ 1.3 × the 100k figure.
// Baseline: bench/baseline-client.mjs (runpod-sdk + p-limit + 1 s polls, streaming its input and its results: a
// careful hand-written script) on --baseline-rows rows (default 100,000; 0 skips it).
// The largest batch's output folder (bench/out/memory-<rows>/) is kept: bench/resume.mjs reruns it.
// Long: at ~2,800 jobs/s the 1M-row batch takes ~6 minutes. --rows N runs the sizes N/10 and N instead.
//
//   node bench/memory.mjs [--rows 1000000] [--baseline-rows 100000] [--quick] [--profile]
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import {
  ensureInput,
  freshDir,
  startEmu,
  parseArgs,
  printTable,
  emit,
  round,
  watchdog,
  timeNode,
  profileTop,
  printProfile,
  OUT_DIR,
  BENCH_DIR,
} from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), { rows: 1_000_000, baselineRows: 100_000, workers: 1000, quick: false, profile: false });
if (args.quick) {
  args.rows = Math.min(args.rows, 20_000);
  args.baselineRows = Math.min(args.baselineRows, 2000);
}
const sizes = [Math.round(args.rows / 10), args.rows];
watchdog(3 * 3600_000, 'memory');

async function measure(client, rows) {
  const input = await ensureInput(rows);
  const emu = await startEmu({ workers: args.workers, executionMs: 0, seed: 13, retentionMs: 10 * 60_000 });
  try {
    const out = freshDir(`memory-${client === 'ours' ? '' : 'baseline-'}${rows}`);
    const script = join(BENCH_DIR, client === 'ours' ? 'run-client.mjs' : 'baseline-client.mjs');
    const cargs = ['--input', input, '--out', out, '--base-url', emu.baseUrl, '--max-ms', String(150 * 60_000)];
    if (client === 'baseline') cargs.push('--concurrency', String(args.workers));
    const nodeArgs = [];
    const profDir = join(OUT_DIR, `prof-memory-${rows}`);
    if (client === 'ours' && args.profile) {
      rmSync(profDir, { recursive: true, force: true });
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profDir);
    }
    console.error(`memory: ${client}, ${rows} rows…`);
    const t = await timeNode(script, cargs, { nodeArgs, maxMs: 160 * 60_000, label: `memory ${client} ${rows}` });
    if (!t.result) throw new Error(`memory ${client} ${rows}: no result line (exit ${t.code})`);
    const st = await emu.stats();
    const completed = client === 'ours' ? t.result.rows.completed : t.result.counts.completed;
    const b = client === 'baseline' ? t.result.counts : null;
    return {
      client,
      rows,
      completed,
      // Baseline rows lost: /run failed (429, 5xx, the sdk's 3 s timeout), /status failed, or abandoned at the deadline.
      lost: b ? { onRun: b.lostOnRun, onRun429: b.lostOnRun429, onStatus: b.lostOnStatus, abandoned: b.abandoned } : undefined,
      exitCode: t.code,
      peakRssMb: round(t.maxRssMb, 0),
      processWallS: t.wallS,
      jobsPerS: round(rows / t.wallS, 0),
      cpuS: round(t.cpuS, 1),
      cpuUsPerJob: round((t.cpuS * 1e6) / rows, 0),
      jobsCreated: st.jobsCreated,
      emulatorRssMb: round(st.rssBytes / 1048576, 0),
      outDir: out.replace(BENCH_DIR + '/', 'bench/'),
      // When the peak happened (s after start, of processWallS), and RSS over time [s, MB]: which phase holds it.
      rss: t.rss,
      // Largest process.memoryUsage() figures the client saw (MB): V8 heap vs native (SQLite, buffers).
      clientMemoryMb: t.result.maxMemoryMb,
      profile: client === 'ours' && args.profile ? profileTop(profDir, 20) : undefined,
    };
  } finally {
    await emu.close();
  }
}

const results = [];
for (const rows of sizes) results.push(await measure('ours', rows));
if (args.baselineRows > 0) results.push(await measure('baseline', args.baselineRows));

const small = results.find((r) => r.client === 'ours' && r.rows === sizes[0]);
const big = results.find((r) => r.client === 'ours' && r.rows === sizes[1]);
const growth = round(big.peakRssMb / small.peakRssMb, 2);
printTable(`Memory: peak RSS of the client process. Targets: ≤ 200 MB at 1M rows, ≤ 1.3× the 100k figure (here ${growth}×)`, results, [
  ['client', 'client'],
  ['rows', 'rows'],
  ['completed', 'completed'],
  ['peak RSS MB', 'peakRssMb'],
  ['peak at s', (r) => r.rss?.peakAtS],
  ['process wall s', 'processWallS'],
  ['jobs/s', 'jobsPerS'],
  ['CPU µs/job', 'cpuUsPerJob'],
  ['emulator RSS MB', 'emulatorRssMb'],
]);
for (const r of results) printProfile(`CPU profile, ours, ${r.rows} rows`, r.profile);
emit('memory', { args, target: { peakRssMbMax: 200, growthMax: 1.3 }, growth, results });
