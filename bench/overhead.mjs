#!/usr/bin/env node
// Client overhead: 20,000 rows against a zero-latency emulator (executionMs 0, 1000 workers) running in another
// process. The client runs alone in a child process under /usr/bin/time:
//   jobs/s      = rows / runBatch wall time (ingest and output writing included; node start-up excluded)
//   CPU per job = (user + sys CPU of the whole client process) / rows, in µs (start-up, ingest, outputs included)
//   peak RSS    = /usr/bin/time %M
// Baseline: bench/baseline-client.mjs (runpod-sdk + p-limit with concurrency = workers + 1 s polls) the same way.
// --profile writes a V8 CPU profile of our client (node --cpu-prof) to bench/out/prof-overhead/ and prints its top
// self-time functions.
//
//   node bench/overhead.mjs [--rows 20000] [--workers 1000] [--baseline-concurrency 1000] [--quick] [--profile] [--no-baseline]
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { ensureInput, freshDir, startEmu, parseArgs, printTable, emit, round, watchdog, timeNode, profileTop, printProfile, OUT_DIR, BENCH_DIR } from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), { rows: 20_000, workers: 1000, quick: false, profile: false, baseline: true });
// The baseline's p-limit concurrency: = workers, as a user would set it (--baseline-concurrency 100 = ours' in-flight).
args.baselineConcurrency ??= args.workers;
if (args.quick) args.rows = Math.min(args.rows, 3000);
watchdog(60 * 60_000, 'overhead');

const input = await ensureInput(args.rows);
const results = [];
let profile = null;

async function measure(client) {
  const emu = await startEmu({ workers: args.workers, executionMs: 0, seed: 11 });
  try {
    const out = freshDir(`overhead-${client}`);
    const profDir = join(OUT_DIR, 'prof-overhead');
    const nodeArgs = [];
    if (client === 'ours' && args.profile) {
      rmSync(profDir, { recursive: true, force: true });
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profDir);
    }
    const script = join(BENCH_DIR, client === 'ours' ? 'run-client.mjs' : 'baseline-client.mjs');
    const cargs = ['--input', input, '--out', out, '--base-url', emu.baseUrl];
    if (client === 'baseline') cargs.push('--concurrency', String(args.baselineConcurrency));
    const t = await timeNode(script, cargs, { nodeArgs, maxMs: 30 * 60_000, label: `overhead ${client}` });
    if (!t.result) throw new Error(`overhead ${client}: no result line (exit ${t.code}):\n${t.stdout}`);
    if (client === 'ours' && args.profile) profile = profileTop(profDir, 20);
    const st = await emu.stats();
    const completed = client === 'ours' ? t.result.rows.completed : t.result.counts.completed;
    const b = client === 'baseline' ? t.result.counts : null;
    return {
      client,
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
      profiled: client === 'ours' && args.profile,
    };
  } finally {
    await emu.close();
  }
}

console.error(`overhead: ours, ${args.rows} rows…`);
results.push(await measure('ours'));
if (args.baseline) {
  console.error(`overhead: baseline, ${args.rows} rows…`);
  results.push(await measure('baseline'));
}

printTable(
  `Client overhead: ${args.rows} rows, zero-latency emulator (${args.workers} workers) in another process. Targets: ≥ 2,000 jobs/s, ≤ 200 µs CPU/job`,
  results,
  [
    ['client', 'client'],
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
printProfile('CPU profile of our client', profile);
emit('overhead', { args, target: { jobsPerSMin: 2000, cpuUsPerJobMax: 200 }, results, profile });
