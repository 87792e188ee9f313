#!/usr/bin/env node
// Resume: rerun the command of a finished 1,000,000-row batch. Measures the rerun's wall time (the whole process,
// under /usr/bin/time, node start-up included) and the jobs it submits (runBatch's `submitted` and the emulator's
// jobsCreated and request counts, all of which must be 0). Target: ≤ 20 s, 0 jobs.
// The finished batch is bench/out/memory-<rows>/ from bench/memory.mjs when it is there and complete; otherwise it is
// made first (a full run: ~6 minutes for 1M rows; that time is reported as setup, not measured against the target).
// Baseline: a p-limit + runpod-sdk script keeps no state: its rerun submits every row again (by construction).
//
//   node bench/resume.mjs [--rows 1000000] [--quick] [--profile]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
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

const args = parseArgs(process.argv.slice(2), { rows: 1_000_000, workers: 1000, quick: false, profile: false });
if (args.quick) args.rows = Math.min(args.rows, 20_000);
watchdog(3 * 3600_000, 'resume');

const input = await ensureInput(args.rows);
const out = join(OUT_DIR, `memory-${args.rows}`);

/** Rows of the batch in a terminal state / all rows, read from state.sqlite (without the engine). */
function finishedState() {
  const db = join(out, 'state.sqlite');
  if (!existsSync(db)) return null;
  try {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const total = d.prepare(`SELECT count(*) FROM rows`).pluck().get();
      const done = d.prepare(`SELECT count(*) FROM rows WHERE state = 'COMPLETED'`).pluck().get();
      return { total, done };
    } finally {
      d.close();
    }
  } catch {
    return null;
  }
}

const emu = await startEmu({ workers: args.workers, executionMs: 0, seed: 17, retentionMs: 10 * 60_000 });
let setup = null;
try {
  const cargs = ['--input', input, '--out', out, '--base-url', emu.baseUrl, '--max-ms', String(150 * 60_000)];
  let state = finishedState();
  if (!state || state.total !== args.rows || state.done !== args.rows) {
    console.error(`resume: no finished ${args.rows}-row batch in ${out}: running it first…`);
    freshDir(`memory-${args.rows}`);
    const t = await timeNode(join(BENCH_DIR, 'run-client.mjs'), cargs, { maxMs: 160 * 60_000, label: 'resume setup' });
    setup = { wallS: t.wallS, exitCode: t.code, peakRssMb: round(t.maxRssMb, 0) };
    state = finishedState();
    if (!state || state.done !== args.rows) throw new Error(`resume: setup run did not finish every row (exit ${t.code})`);
  } else {
    console.error(`resume: reusing the finished batch in ${out}`);
  }
  const before = await emu.stats();
  const nodeArgs = [];
  const profDir = join(OUT_DIR, 'prof-resume');
  if (args.profile) {
    rmSync(profDir, { recursive: true, force: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profDir);
  }
  console.error(`resume: rerunning the finished ${args.rows}-row batch…`);
  const t = await timeNode(join(BENCH_DIR, 'run-client.mjs'), cargs, { nodeArgs, maxMs: 30 * 60_000, label: 'resume rerun' });
  if (!t.result) throw new Error(`resume: no result line (exit ${t.code})`);
  const after = await emu.stats();
  const requests = Object.values(after.requests).reduce((s, x) => s + x, 0) - Object.values(before.requests).reduce((s, x) => s + x, 0);
  const result = {
    rows: args.rows,
    exitCode: t.code,
    wallS: t.wallS,
    runBatchWallS: round(t.result.wallMs / 1000, 2),
    cpuS: round(t.cpuS, 2),
    peakRssMb: round(t.maxRssMb, 0),
    submitted: t.result.submitted,
    jobsCreated: after.jobsCreated - before.jobsCreated,
    requests,
    ingestSkipped: t.result.ingest?.skipped,
    completed: t.result.rows.completed,
    baselineResubmits: args.rows,
  };
  const profile = args.profile ? profileTop(profDir, 20) : null;
  printTable(
    `Resume: rerun of a finished ${args.rows}-row batch. Targets: ≤ 20 s, 0 jobs submitted`,
    [result],
    [
      ['rows', 'rows'],
      ['wall s (process)', 'wallS'],
      ['runBatch s', 'runBatchWallS'],
      ['CPU s', 'cpuS'],
      ['peak RSS MB', 'peakRssMb'],
      ['jobs submitted', 'submitted'],
      ['emulator jobs created', 'jobsCreated'],
      ['emulator requests', 'requests'],
      ['input re-parsed', (r) => (r.ingestSkipped ? 'no' : 'yes')],
      ['baseline rerun submits', 'baselineResubmits'],
    ],
  );
  if (setup)
    console.log(`\n(setup: the first run of the batch took ${setup.wallS} s, exit ${setup.exitCode}, peak RSS ${setup.peakRssMb} MB)`);
  printProfile('CPU profile of the rerun', profile);
  emit('resume', { args, target: { wallSMax: 20, submittedMax: 0 }, setup, result, profile });
} finally {
  await emu.close();
}
