#!/usr/bin/env node
// Polling: /status calls per finished job and detection overhead, ours vs the baseline (a poll every second).
//   calls/job  = emulator requests (status + status-sync) / jobs created
//   overhead   = endToEndMs − (delayTime + executionTime), per job, as % of endToEndMs (mean over jobs, a negative
//                difference counted as 0), and in ms (raw p50/p90)
// Jobs of 100 ms, 1 s, 10 s, 60 s. To keep the run short the emulator runs timeScale = max(1, job/1 s) times faster
// (every job takes ≤ 1 s real); endToEndMs (real ms, measured by the client) is multiplied by timeScale to compare it
// with the simulated delayTime/executionTime, and the baseline polls every 1000/timeScale real ms (= every simulated
// second). A scaled run magnifies the client's real network latency by timeScale, which is pessimistic for ours.
// 100 workers and 200 rows per size: at most 100 jobs in flight for both clients, so no job waits in a queue.
//
// "ours, planned /status" is the engine's fallback when an endpoint does not serve /status-sync (longPoll: false).
// Its poll plan learns from reported times (simulated ms), so it runs on a clock scaled like the emulator (runBatch's
// `clock` option: now() runs timeScale times faster, timers wait ms / timeScale): every wait it plans is in simulated
// ms, and its endToEndMs is simulated ms already. Makespan = wall time × timeScale (ingest and output writing
// included), ideal = Σ reported executionTime / workers. Skip it with --no-fallback.
// The planned client runs at timeScale min(job / 1 s, --planned-max-scale) (default 10): at timeScale 60, a wave of
// 100 jobs ending at once is 100 polls that this 2-core machine serves in ~0.5 s real — 30 s simulated, a delay
// that RunPod (400 concurrent /status) would not add. The 60 s size then takes ~20 s real for 200 rows.
// --spread s draws each job's executionTime uniformly in job × [1 − s, 1 + s] (default 0: every job alike).
//
//   node bench/polling.mjs [--rows 200] [--workers 100] [--sizes 100,1000,10000,60000] [--spread 0] [--planned-max-scale 10]
//                          [--quick] [--no-fallback]
import {
  readJsonl,
  ensureInput,
  freshDir,
  startEmu,
  parseArgs,
  printTable,
  emit,
  round,
  quantile,
  watchdog,
  API_KEY,
  ENDPOINT,
} from './lib/common.mjs';
import { runOurs } from './lib/ours.mjs';
import { runBaseline } from './lib/baseline.mjs';

const args = parseArgs(process.argv.slice(2), {
  rows: 200,
  workers: 100,
  sizes: '100,1000,10000,60000',
  quick: false,
  fallback: true,
  baseline: true,
  spread: 0,
  plannedMaxScale: 10,
});
if (args.quick) {
  args.rows = Math.min(args.rows, 100);
  args.fallbackSizes ??= '100,1000';
}
args.fallbackSizes ??= args.sizes;
watchdog(60 * 60_000, 'polling');

const sizes = String(args.sizes).split(',').map(Number);
const fallbackSizes = new Set(String(args.fallbackSizes).split(',').map(Number));

/** A clock timeScale times faster than the system's: the engine then waits in the emulator's simulated ms. */
function scaledClock(ts) {
  const t0 = Date.now();
  const p0 = performance.now();
  return {
    now: () => t0 + (performance.now() - p0) * ts,
    setTimer(fn, ms) {
      const t = setTimeout(fn, Math.max(0, ms / ts));
      return () => clearTimeout(t);
    },
  };
}

function summarize(rows, ts) {
  const added = [];
  const pct = [];
  for (const r of rows) {
    if (r.status !== 'COMPLETED' || typeof r.executionTime !== 'number') continue;
    const e2e = r.endToEndMs * ts;
    const a = e2e - ((r.delayTime ?? 0) + r.executionTime);
    added.push(a);
    // A negative figure means the client's clock started after the server's (endToEndMs starts when the /run answer
    // is read; delayTime when the server queued the job): it is counted as 0, never as a credit.
    pct.push(e2e > 0 ? (100 * Math.max(0, a)) / e2e : 0);
  }
  const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  return {
    jobs: added.length,
    addedPct: round(mean(pct), 2),
    addedPctP90: round(quantile(pct, 0.9), 2),
    addedMsP50: round(quantile(added, 0.5), 0),
    addedMsP90: round(quantile(added, 0.9), 0),
  };
}

async function measure(sizeMs, client) {
  const ts = Math.max(1, client === 'ours-planned' ? Math.min(sizeMs / 1000, Number(args.plannedMaxScale)) : sizeMs / 1000);
  const s = Number(args.spread) || 0;
  const executionMs = s > 0 ? { min: sizeMs * (1 - s), max: sizeMs * (1 + s) } : sizeMs;
  const emu = await startEmu({ workers: args.workers, executionMs, timeScale: ts, seed: 3 });
  try {
    const input = await ensureInput(args.rows);
    let rows;
    let wallMs;
    if (client === 'baseline') {
      const bodies = [];
      for await (const r of readJsonl(input)) bodies.push(r);
      const b = await runBaseline({
        baseUrl: emu.baseUrl,
        apiKey: API_KEY,
        endpoint: ENDPOINT,
        rows: bodies,
        concurrency: args.workers,
        pollMs: 1000 / ts,
        maxJobMs: (sizeMs * 20) / ts + 60_000,
        deadlineMs: 20 * 60_000,
      });
      rows = b.results;
      wallMs = b.wallMs;
    } else {
      const r = await runOurs({
        input,
        out: freshDir(`polling-${sizeMs}-${client}`),
        baseUrl: emu.baseUrl,
        maxMs: 20 * 60_000,
        extra: client === 'ours-planned' ? { longPoll: false, clock: scaledClock(ts) } : {},
      });
      rows = [];
      for await (const line of readJsonl(r.result.files.results)) rows.push(line);
      wallMs = r.wallMs;
      if (r.overran) rows.overran = true;
    }
    const st = await emu.stats();
    let execSum = 0;
    for (const r of rows) if (typeof r.executionTime === 'number') execSum += r.executionTime;
    const idealMs = execSum / args.workers;
    const statusCalls = st.requests.status + st.requests['status-sync'];
    return {
      jobMs: sizeMs,
      client,
      timeScale: ts,
      rows: args.rows,
      jobsCreated: st.jobsCreated,
      statusCalls,
      callsPerJob: round(statusCalls / Math.max(1, st.jobsCreated), 2),
      statusSyncCalls: st.requests['status-sync'],
      // The planned client's clock is scaled: its endToEndMs is in simulated ms already.
      ...summarize(rows, client === 'ours-planned' ? 1 : ts),
      makespanS: round((wallMs * ts) / 1000, 1),
      idealS: round(idealMs / 1000, 1),
      makespanRatio: round((wallMs * ts) / Math.max(1, idealMs), 3),
      healthCalls: st.requests.health ?? 0,
      wallRealS: round(wallMs / 1000, 2),
      overran: rows.overran ?? false,
    };
  } finally {
    await emu.close();
  }
}

const results = [];
for (const size of sizes) {
  for (const client of ['ours', 'baseline', 'ours-planned']) {
    if (client === 'baseline' && !args.baseline) continue;
    if (client === 'ours-planned' && (!args.fallback || !fallbackSizes.has(size))) continue;
    console.error(`polling: ${size} ms jobs, ${client}…`);
    results.push(await measure(size, client));
  }
}

printTable(
  'Polling: status calls per job and detection overhead (added = end-to-end − (delayTime + executionTime)). Targets: ≤ 1.5 calls/job, ≤ 10% added',
  results,
  [
    ['job', (r) => (r.jobMs >= 1000 ? `${r.jobMs / 1000} s` : `${r.jobMs} ms`)],
    [
      'client',
      (r) =>
        r.client === 'ours'
          ? 'ours (default: /status-sync)'
          : r.client === 'ours-planned'
            ? 'ours, planned /status (longPoll: false)'
            : 'baseline (1 s polls)',
    ],
    ['timeScale', 'timeScale'],
    ['jobs', 'jobs'],
    ['calls/job', 'callsPerJob'],
    ['added % (mean)', 'addedPct'],
    ['added % p90', 'addedPctP90'],
    ['added ms p50', 'addedMsP50'],
    ['added ms p90', 'addedMsP90'],
    ['makespan ÷ ideal', 'makespanRatio'],
    ['real s', 'wallRealS'],
  ],
);
emit('polling', { args, target: { callsPerJobMax: 1.5, callsPerJobMax100ms: 2.5, addedPctMax: 10, makespanRatioMax: 1.05 }, results });
