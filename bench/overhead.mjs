#!/usr/bin/env node
// Client overhead: 20,000 rows against a zero-latency emulator (executionMs 0, 1000 workers) running in another
// process. The client runs alone in a child process under /usr/bin/time:
//   jobs/s      = rows / runBatch wall time (ingest and output writing included; node start-up excluded)
//   CPU per job = (user + sys CPU of the whole client process) / rows, in µs (start-up, ingest, outputs included)
//   peak RSS    = /usr/bin/time %M
// Baseline: bench/baseline-client.mjs (runpod-sdk + p-limit with concurrency = workers + 1 s polls) the same way.
// Each client runs --repeat times (ours 5, the baseline 3 by default) and the medians are the figures: on this shared
// 2-core machine one run's CPU per job swings by ±15 % (how many answers each wake-up of the event loop finds).
// --profile writes a V8 CPU profile of our client's first run (node --cpu-prof) to bench/out/prof-overhead/ and prints
// its top self-time functions.
//
//   node bench/overhead.mjs [--rows 20000] [--workers 1000] [--repeat 5] [--baseline-repeat 3] [--baseline-concurrency 1000]
//                           [--quick] [--profile] [--no-baseline]
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

const args = parseArgs(process.argv.slice(2), {
  rows: 20_000,
  workers: 1000,
  repeat: 5,
  baselineRepeat: 3,
  quick: false,
  profile: false,
  baseline: true,
});
// The baseline's p-limit concurrency: = workers, as a user would set it (--baseline-concurrency 100 = ours' in-flight).
args.baselineConcurrency ??= args.workers;
if (args.quick) {
  args.rows = Math.min(args.rows, 3000);
  args.repeat = 1;
  args.baselineRepeat = 1;
}
watchdog(60 * 60_000, 'overhead');

const input = await ensureInput(args.rows);
const results = [];
let profile = null;

async function measure(client, run) {
  const emu = await startEmu({ workers: args.workers, executionMs: 0, seed: 11 });
  try {
    const out = freshDir(`overhead-${client}`);
    const profDir = join(OUT_DIR, 'prof-overhead');
    const nodeArgs = [];
    const profiling = client === 'ours' && args.profile && run === 1;
    if (profiling) {
      rmSync(profDir, { recursive: true, force: true });
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profDir);
    }
    const script = join(BENCH_DIR, client === 'ours' ? 'run-client.mjs' : 'baseline-client.mjs');
    const cargs = ['--input', input, '--out', out, '--base-url', emu.baseUrl];
    if (client === 'baseline') cargs.push('--concurrency', String(args.baselineConcurrency));
    const t = await timeNode(script, cargs, { nodeArgs, maxMs: 30 * 60_000, label: `overhead ${client}` });
    if (!t.result) throw new Error(`overhead ${client}: no result line (exit ${t.code}):\n${t.stdout}`);
    if (profiling) profile = profileTop(profDir, 20);
    const st = await emu.stats();
    const completed = client === 'ours' ? t.result.rows.completed : t.result.counts.completed;
    const b = client === 'baseline' ? t.result.counts : null;
    return {
      client,
      run,
      rows: args.rows,
      completed,
      // Baseline rows lost: /run failed (429, 5xx, the sdk's 3 s timeout), /status failed, or abandoned at the deadline.
      lost: b ? { onRun: b.lostOnRun, onRun429: b.lostOnRun429, onStatus: b.lostOnStatus, abandoned: b.abandoned } : undefined,
      exitCode: t.code,
      wallS: round(t.result.wallMs / 1000, 2),
      processWallS: t.wallS,
      jobsPerS: round(args.rows / (t.result.wallMs / 1000), 0),
      cpuS: round(t.cpuS, 2),
      userS: t.userS,
      sysS: t.sysS,
      cpuUsPerJob: round((t.cpuS * 1e6) / args.rows, 0),
      peakRssMb: round(t.maxRssMb, 0),
      statusCallsPerJob: round((st.requests.status + st.requests['status-sync']) / Math.max(1, st.jobsCreated), 2),
      profiled: profiling,
    };
  } finally {
    await emu.close();
  }
}

for (let run = 1; run <= args.repeat; run++) {
  console.error(`overhead: ours, ${args.rows} rows, run ${run} of ${args.repeat}…`);
  results.push(await measure('ours', run));
}
if (args.baseline) {
  for (let run = 1; run <= args.baselineRepeat; run++) {
    console.error(`overhead: baseline, ${args.rows} rows, run ${run} of ${args.baselineRepeat}…`);
    results.push(await measure('baseline', run));
  }
}

/** Per client: the median of each figure over its runs, and the range of CPU per job. */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const medians = [...new Set(results.map((r) => r.client))].map((client) => {
  const rs = results.filter((r) => r.client === client);
  const cpu = rs.map((r) => r.cpuUsPerJob);
  return {
    client,
    runs: rs.length,
    completedAll: rs.every((r) => r.completed === args.rows),
    jobsPerS: round(median(rs.map((r) => r.jobsPerS)), 0),
    cpuUsPerJob: round(median(cpu), 0),
    cpuUsPerJobRange: [Math.min(...cpu), Math.max(...cpu)],
    peakRssMb: round(median(rs.map((r) => r.peakRssMb)), 0),
  };
});

printTable(
  `Client overhead: ${args.rows} rows, zero-latency emulator (${args.workers} workers) in another process. Targets: ≥ 2,000 jobs/s, ≤ 200 µs CPU/job`,
  results,
  [
    ['client', 'client'],
    ['run', 'run'],
    ['completed', 'completed'],
    ['lost', (r) => (r.lost ? r.lost.onRun + r.lost.onStatus + r.lost.abandoned : 0)],
    ['wall s', 'wallS'],
    ['jobs/s', 'jobsPerS'],
    ['CPU s (user+sys)', 'cpuS'],
    ['CPU µs/job', 'cpuUsPerJob'],
    ['peak RSS MB', 'peakRssMb'],
    ['status calls/job', 'statusCallsPerJob'],
    ['profiled', 'profiled'],
  ],
);
printTable('Medians over the runs (the figures)', medians, [
  ['client', 'client'],
  ['runs', 'runs'],
  ['all rows completed', 'completedAll'],
  ['jobs/s', 'jobsPerS'],
  ['CPU µs/job', 'cpuUsPerJob'],
  ['CPU µs/job min–max', (r) => r.cpuUsPerJobRange.join('–')],
  ['peak RSS MB', 'peakRssMb'],
]);
printProfile('CPU profile of our client (run 1)', profile);
emit('overhead', { args, target: { jobsPerSMin: 2000, cpuUsPerJobMax: 200 }, medians, results, profile });
