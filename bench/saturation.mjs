#!/usr/bin/env node
// Saturation: makespan / ideal makespan, ours (runBatch with default settings) vs the baseline (runpod-sdk + p-limit
// with concurrency = workers + a status poll every simulated second), on an emulator with 20 workers.
// ideal = Σ executionTime / workers (executionTime as the emulator reports it, i.e. simulated ms).
// makespan = wall time of the whole client call (ingest and output writing included, for ours), × timeScale.
//
//   node bench/saturation.mjs [--rows 2000] [--baseline-rows 400] [--workers 20] [--quick] [--only short,long,cold]
import {
  readJsonl,
  ensureInput,
  freshDir,
  startEmu,
  parseArgs,
  printTable,
  emit,
  round,
  watchdog,
  API_KEY,
  ENDPOINT,
} from './lib/common.mjs';
import { runOurs } from './lib/ours.mjs';
import { runBaseline } from './lib/baseline.mjs';

const args = parseArgs(process.argv.slice(2), {
  rows: 2000,
  baselineRows: 400,
  workers: 20,
  quick: false,
  only: 'short,long,cold',
  baseline: true,
});
if (args.quick) {
  args.rows = Math.min(args.rows, 300);
  args.baselineRows = Math.min(args.baselineRows, 100);
}
watchdog(60 * 60_000, 'saturation');

const SCENARIOS = {
  // 200–400 ms jobs, real time.
  short: { label: '200–400 ms jobs', emu: { executionMs: { min: 200, max: 400 }, timeScale: 1 } },
  // 10–30 s jobs, simulated 100× faster (0.1–0.3 s real).
  long: { label: '10–30 s jobs (timeScale 100)', emu: { executionMs: { min: 10_000, max: 30_000 }, timeScale: 100 } },
  // 1–3 s jobs, 5 s cold start, workers go cold after 1 s idle; simulated 10× faster.
  cold: {
    label: '1–3 s jobs, 5 s cold start, 1 s idle timeout (timeScale 10)',
    emu: { executionMs: { min: 1000, max: 3000 }, coldStartMs: 5000, idleTimeoutMs: 1000, timeScale: 10 },
  },
};

const rowsOf = async (path, n) => {
  const out = [];
  for await (const r of readJsonl(path)) {
    out.push(r);
    if (out.length >= n) break;
  }
  return out;
};

async function measure(name, sc, client, rows) {
  const ts = sc.emu.timeScale;
  const emu = await startEmu({ workers: args.workers, seed: 7, ...sc.emu });
  try {
    let wallMs;
    let extra = {};
    const input = await ensureInput(rows);
    if (client === 'ours') {
      const r = await runOurs({ input, out: freshDir(`saturation-${name}-ours`), baseUrl: emu.baseUrl, maxMs: 30 * 60_000 });
      wallMs = r.wallMs;
      extra = {
        overran: r.overran,
        exitCode: r.result.exitCode,
        completed: r.result.stats.rows.completed,
        requests: r.result.stats.requests,
      };
    } else {
      const b = await runBaseline({
        baseUrl: emu.baseUrl,
        apiKey: API_KEY,
        endpoint: ENDPOINT,
        rows: await rowsOf(input, rows),
        concurrency: args.workers,
        pollMs: 1000 / ts, // one poll per simulated second
        maxJobMs: 600_000,
        deadlineMs: 30 * 60_000,
      });
      wallMs = b.wallMs;
      extra = { completed: b.counts.completed, lost: b.counts.lostOnRun + b.counts.lostOnStatus + b.counts.abandoned };
    }
    const st = await emu.stats();
    const idealSimMs = st.sumExecutionTimeMs / args.workers;
    const makespanSimMs = wallMs * ts;
    const serverMakespanSimMs = (st.lastFinishedAt - st.firstCreatedAt) * ts;
    const coldMs = sc.emu.coldStartMs ?? 0;
    return {
      scenario: name,
      client,
      rows,
      workers: args.workers,
      timeScale: ts,
      makespanS: round(makespanSimMs / 1000, 2),
      idealS: round(idealSimMs / 1000, 2),
      ratio: round(makespanSimMs / idealSimMs, 3),
      // With cold starts, one cold start per worker cannot be avoided: ideal + coldStartMs.
      ratioInclOneColdStart: coldMs ? round(makespanSimMs / (idealSimMs + coldMs), 3) : undefined,
      serverMakespanS: round(serverMakespanSimMs / 1000, 2),
      busyRatio: round((st.busyMs * ts) / args.workers / idealSimMs, 3),
      wallRealS: round(wallMs / 1000, 2),
      jobsCreated: st.jobsCreated,
      maxConcurrentRunning: st.maxConcurrentRunning,
      statusCallsPerJob: round((st.requests.status + st.requests['status-sync']) / Math.max(1, st.jobsCreated), 2),
      ...extra,
    };
  } finally {
    await emu.close();
  }
}

const results = [];
for (const name of String(args.only).split(',')) {
  const sc = SCENARIOS[name];
  if (!sc) throw new Error(`unknown scenario ${name}`);
  console.error(`saturation: ${sc.label}: ours, ${args.rows} rows…`);
  results.push({ label: sc.label, ...(await measure(name, sc, 'ours', args.rows)) });
  if (args.baseline) {
    console.error(`saturation: ${sc.label}: baseline, ${args.baselineRows} rows…`);
    results.push({ label: sc.label, ...(await measure(name, sc, 'baseline', args.baselineRows)) });
  }
}

printTable(
  `Saturation: makespan / ideal (ideal = Σ executionTime / ${args.workers} workers; times in simulated s). Target: ours ≤ 1.05×`,
  results,
  [
    ['scenario', 'label'],
    ['client', 'client'],
    ['rows', 'rows'],
    ['makespan s', 'makespanS'],
    ['ideal s', 'idealS'],
    ['ratio', 'ratio'],
    ['ratio vs ideal+1 cold start', 'ratioInclOneColdStart'],
    ['status calls/job', 'statusCallsPerJob'],
    ['completed', 'completed'],
    ['lost', 'lost'],
    ['real s', 'wallRealS'],
  ],
);
emit('saturation', { args, target: { ratioMax: 1.05 }, results });
