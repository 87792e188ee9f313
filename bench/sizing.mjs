#!/usr/bin/env node
// Auto-sizing (#11): makespan, queue settling, /health rate and the bill, ours (runBatch with default settings:
// `concurrency: 'auto'`) against the baseline — the engine as a user had it before auto-sizing: a fixed 100 jobs in
// flight (runBatch `concurrency: 100, autoSize: false`) — each measured in the same run, on the bundled emulator.
//
// Endpoints (jobs of 1–2 s, uniform, seed 7; the emulator runs in its own process):
//   fixed3, fixed20, fixed300, fixed1000  fixed pools of 3, 20, 300, 1,000 warm workers
//   qd60   autoscaling 0 → 60 workers, queue-delay scaler (a worker per job waiting > 4 s), 3 s cold starts, 5 s idle timeout
//   rc80   autoscaling 0 → 80 workers, request-count scaler (ceil((inQueue + inProgress) / 4) workers), same cold/idle
//   settle autoscaling 0 → 10 workers, queue delay 4 s, in real time (timeScale 1, default /health period): the queue
//          a minute after the endpoint stopped growing, the /health rate and the bill with every sizing constant real
//
// Definitions (all times in simulated ms: client wall time × timeScale; reported executionTime is simulated already):
//   makespan = wall time of the whole runBatch call (ingest and output writing included) × timeScale.
//   ideal (fixed)       = Σ executionTime of the jobs / workers.
//   ideal (autoscaling) = Σ executionTime / max workers + one cold start (coldStartMs): no client can avoid one.
//   Targets: makespan ≤ 1.05 × ideal (fixed), ≤ 1.10 × ideal (autoscaling).
//   queue at +60 s = jobs IN_QUEUE on the endpoint (sampled out of band every ½ simulated second, never through /health)
//     60 simulated s after the worker count last grew (fixed pools: after the run's start), if rows were still being
//     submitted then; "max after" = the deepest it got from then until the last row was submitted (after that the queue
//     only drains). Target: ≤ max(10, 2 × workers).
//   /health rate = the emulator's count of /health requests / the run's wall time. Target ≤ 1 per second. A time-scaled
//     run passes `healthEveryMs: 3000 / timeScale` (one read every 3 simulated s, as by default against a real
//     endpoint) so that the sizer sees the endpoint as often in simulated time; its rate is then given per simulated
//     second. The sizer's other constants (20 s to settle, a probe a minute) stay real: in simulated time the sizer
//     holds later, i.e. keeps its growth queue longer, on a time-scaled run — which is why settle runs in real time.
//   bill (autoscaling) = the emulator's stats.workerMs, read once every worker has stopped (each worker from its start to
//     its stop: cold start, execution, idle between jobs and the idle timeout), against the report's estimate =
//     stats.json billedSeconds (Σ ceil(executionTime / 1 s)) + the report's estimated billed cold-start time
//     (report.md, "Cold starts"). The remainder is split into cold starts (workers started × coldStartMs), execution and
//     idle time (the rest: idle timeouts and waits between jobs).
//
// fixed3 and fixed20 run ~120 and ~75 simulated s, so that their queue a minute in is measured (for the baseline on
// 3 workers: the ~97 jobs a fixed 100 leaves waiting). Time-scaling keeps the default run near 7 minutes: fixed3/fixed20 and the autoscaling endpoints run 4× and 6×
// faster than real; fixed300/fixed1000 and settle in real time. The baselines run fewer rows on the large endpoints
// (--baseline-rows scales them): a fixed 100 in flight takes workers / 100 × the ideal there.
//
//   node bench/sizing.mjs [--quick] [--only fixed3,fixed20,fixed300,fixed1000,qd60,rc80,settle] [--no-baseline]
//                         [--rows-scale 1] [--trace]
// --trace records ours' in-flight target over time (an onProgress callback every simulated second: a little client
// CPU), to see why a run fell short; off by default so that ours runs with its defaults.
import { readFileSync } from 'node:fs';
import { emit, ensureInput, freshDir, parseArgs, printTable, round, sleep, startEmu, watchdog } from './lib/common.mjs';
import { runOurs } from './lib/ours.mjs';

const ALL = ['fixed3', 'fixed20', 'fixed300', 'fixed1000', 'qd60', 'rc80', 'settle'];
const args = parseArgs(process.argv.slice(2), { quick: false, only: ALL.join(','), baseline: true, rowsScale: 1, trace: false });
// --quick: a smoke test of the script (about a minute); its ratios mean little (ramps weigh more on small batches).
if (args.quick) args.rowsScale = Math.min(args.rowsScale, 0.1);
watchdog(30 * 60_000, 'sizing');

const JOB = { min: 1000, max: 2000 };
const AUTO = { minWorkers: 0, coldStartMs: 3000, idleTimeoutMs: 5000, executionMs: JOB };
const SCENARIOS = {
  fixed3: { label: 'fixed 3 workers (timeScale 4)', emu: { workers: 3, executionMs: JOB, timeScale: 4 }, rows: 240, baselineRows: 240 },
  fixed20: {
    label: 'fixed 20 workers (timeScale 4)',
    emu: { workers: 20, executionMs: JOB, timeScale: 4 },
    rows: 1000,
    baselineRows: 1000,
  },
  fixed300: { label: 'fixed 300 workers', emu: { workers: 300, executionMs: JOB, timeScale: 1 }, rows: 6000, baselineRows: 1000 },
  fixed1000: { label: 'fixed 1,000 workers', emu: { workers: 1000, executionMs: JOB, timeScale: 1 }, rows: 20000, baselineRows: 2000 },
  qd60: {
    label: '0 → 60, queue delay 4 s (timeScale 6)',
    emu: { ...AUTO, workers: 60, scaler: 'queue-delay', scalerValue: 4000, timeScale: 6 },
    rows: 12000,
    baselineRows: 4000,
  },
  rc80: {
    label: '0 → 80, request count 4 (timeScale 6)',
    emu: { ...AUTO, workers: 80, scaler: 'request-count', scalerValue: 4, timeScale: 6 },
    rows: 16000,
    baselineRows: 2500,
  },
  settle: {
    label: '0 → 10, queue delay 4 s (real time)',
    emu: { ...AUTO, workers: 10, scaler: 'queue-delay', scalerValue: 4000, timeScale: 1 },
    rows: 600,
    // The baseline's queue is 100 − workers whatever the clock: it runs 4× faster to save time.
    baselineRows: 600,
    baselineTimeScale: 4,
  },
};

/**
 * Billed cold-start seconds as report.md estimates them ("Estimated billed cold-start time: N s"), in simulated s; null
 * if absent. The jobs' estimate is in delayTime's simulated ms already; the /health one ("showed starting") is the
 * client's real time between reads, so it is multiplied by the time scale.
 */
function reportColdSeconds(reportMd, timeScale) {
  try {
    const text = readFileSync(reportMd, 'utf8');
    const m = /Estimated billed cold-start time: ([\d,.]+) s( — the worker time RunPod's \/health showed starting)?/.exec(text);
    if (!m) return null;
    const s = Number(m[1].replace(/,/g, ''));
    return m[2] ? Math.round(s * timeScale * 10) / 10 : s;
  } catch {
    return null;
  }
}

/** From the emulator's samples: when the worker count last grew, and the queue 60 simulated s later. */
function settling(samples, ts, lastCreatedRealMs) {
  const rows = samples.rows;
  let peak = -1;
  let grewAtMs = 0;
  let peakWorkers = 0;
  let maxQueue = 0;
  for (const [t, q, , idle, running, init] of rows) {
    const w = idle + running + init;
    if (w > peak) {
      if (peak >= 0) grewAtMs = t;
      peak = w;
    }
    peakWorkers = Math.max(peakWorkers, w);
    maxQueue = Math.max(maxQueue, q);
  }
  const at60 = grewAtMs + 60_000 / ts;
  const until = lastCreatedRealMs - samples.t0;
  let depthAt60 = null;
  let maxAfter60 = null;
  for (const [t, q] of rows) {
    if (t < at60 || t > until) continue;
    if (depthAt60 === null) depthAt60 = q;
    maxAfter60 = Math.max(maxAfter60 ?? 0, q);
  }
  return {
    grewUntilS: round((grewAtMs * ts) / 1000, 1),
    peakWorkers,
    maxQueue,
    queueAt60: depthAt60,
    queueMaxAfter60: maxAfter60,
    queueBound: Math.max(10, 2 * peakWorkers),
    // A coarse picture for the JSON line: [simulated s, inQueue, inProgress, workers] every ~5 % of the run.
    series: rows
      .filter((_, i) => i % Math.max(1, Math.ceil(rows.length / 20)) === 0 || i === rows.length - 1)
      .map(([t, q, p, idle, running, init]) => [round((t * ts) / 1000, 1), q, p, idle + running + init]),
  };
}

async function measure(name, sc, client) {
  const ts = client === 'baseline' ? (sc.baselineTimeScale ?? sc.emu.timeScale) : sc.emu.timeScale;
  const rows = Math.max(20, Math.round((client === 'ours' ? sc.rows : sc.baselineRows) * args.rowsScale));
  const autoscale = (sc.emu.minWorkers ?? sc.emu.workers) < sc.emu.workers;
  const emu = await startEmu({ seed: 7, ...sc.emu, timeScale: ts, sampleEveryMs: Math.max(25, 500 / ts) });
  try {
    const input = await ensureInput(rows);
    const out = freshDir(`sizing-${name}-${client}`);
    const extra = client === 'ours' ? (ts > 1 ? { healthEveryMs: 3000 / ts } : {}) : { concurrency: 100, autoSize: false };
    const trace = [];
    if (args.trace && client === 'ours') {
      const t0 = performance.now();
      extra.progressIntervalMs = 1000 / ts;
      extra.onProgress = (p) =>
        trace.push([round(((performance.now() - t0) * ts) / 1000, 1), p.inFlight, p.sizing?.target ?? null, p.sizing?.reason ?? null]);
    }
    const r = await runOurs({ input, out, baseUrl: emu.baseUrl, maxMs: 20 * 60_000, extra });
    const st = await emu.stats({ samples: true });
    const workers = sc.emu.workers;
    const coldMs = autoscale ? sc.emu.coldStartMs : 0;
    const idealMs = st.sumExecutionTimeMs / workers + coldMs;
    const makespanMs = r.wallMs * ts;
    const healthCalls = st.requests.health;
    const res = {
      scenario: name,
      label: sc.label,
      client,
      rows,
      workers,
      timeScale: ts,
      makespanS: round(makespanMs / 1000, 1),
      idealS: round(idealMs / 1000, 1),
      ratio: round(makespanMs / idealMs, 3),
      ratioMax: autoscale ? 1.1 : 1.05,
      healthCalls,
      healthPerS: round(healthCalls / ((r.wallMs * ts) / 1000), 2),
      healthPerRealS: round(healthCalls / (r.wallMs / 1000), 2),
      wallRealS: round(r.wallMs / 1000, 1),
      exitCode: r.result.exitCode,
      completed: r.result.stats.rows.completed,
      jobsCreated: st.jobsCreated,
      trace: trace.length > 0 ? trace : undefined,
      ...settling(st.samples, ts, st.lastCreatedAt),
    };
    if (autoscale) {
      // The bill is final once every worker has stopped (idle timeout, then the next scaler tick).
      const deadline = Date.now() + (sc.emu.idleTimeoutMs + 5000) / ts + 10_000;
      for (;;) {
        const h = await emu.health();
        if (h.workers.idle + h.workers.running + h.workers.initializing === 0 || Date.now() > deadline) break;
        await sleep(Math.max(20, 200 / ts));
      }
      const fin = await emu.stats();
      const billS = fin.workerMs / 1000;
      const execS = fin.sumExecutionTimeMs / 1000;
      const coldS = (fin.workersStarted * sc.emu.coldStartMs) / 1000;
      const reportBilledS = r.result.stats.billedSeconds;
      const reportColdS = reportColdSeconds(r.result.files.reportMd, ts);
      const estimateS = reportBilledS + (reportColdS ?? 0);
      Object.assign(res, {
        workersStarted: fin.workersStarted,
        billS: round(billS, 1),
        reportBilledS,
        reportColdS,
        estimateS: round(estimateS, 1),
        billOverEstimate: round(billS / estimateS, 3),
        bill: {
          executionS: round(execS, 1),
          coldStartS: round(coldS, 1),
          idleS: round(billS - execS - coldS, 1),
          // The estimate rounds each job up to a whole second: what that adds over the execution itself.
          roundingS: round(reportBilledS - execS, 1),
        },
      });
    }
    return res;
  } finally {
    await emu.close();
  }
}

const results = [];
for (const name of String(args.only).split(',')) {
  const sc = SCENARIOS[name];
  if (!sc) throw new Error(`unknown scenario ${name} (one of ${ALL.join(', ')})`);
  for (const client of args.baseline ? ['ours', 'baseline'] : ['ours']) {
    console.error(`sizing: ${sc.label}: ${client}…`);
    results.push(await measure(name, sc, client));
  }
}

const fixed = (v, d = 2) => (v === null || v === undefined ? v : Number(v).toFixed(d));
printTable(
  'Auto-sizing: makespan / ideal (simulated s; ideal = Σ executionTime / workers, + one cold start when autoscaling). ' +
    'Targets: ≤ 1.05× fixed, ≤ 1.10× autoscaling; queue at +60 s ≤ max(10, 2 × workers); /health ≤ 1/s',
  results,
  [
    ['endpoint', 'label'],
    ['client', (r) => (r.client === 'ours' ? 'ours (auto)' : 'fixed 100')],
    ['rows', 'rows'],
    ['makespan s', 'makespanS'],
    ['ideal s', 'idealS'],
    ['ratio', (r) => `${fixed(r.ratio, 3)}${r.client === 'ours' ? (r.ratio <= r.ratioMax ? ' ✓' : ' ✗') : ''}`],
    ['workers', 'peakWorkers'],
    ['grew until s', 'grewUntilS'],
    ['queue +60 s', 'queueAt60'],
    ['max after', 'queueMaxAfter60'],
    ['bound', 'queueBound'],
    ['/health per s', (r) => `${fixed(r.healthPerS)}${r.timeScale > 1 && r.client === 'ours' ? ' (sim)' : ''}`],
    ['real s', 'wallRealS'],
  ],
);
const billed = results.filter((r) => r.billS !== undefined);
if (billed.length > 0)
  printTable(
    "Bill: the emulator's billed worker-seconds vs the report's estimate (billed seconds + estimated cold starts), simulated s",
    billed,
    [
      ['endpoint', 'label'],
      ['client', (r) => (r.client === 'ours' ? 'ours (auto)' : 'fixed 100')],
      ['workers started', 'workersStarted'],
      ['billed', 'billS'],
      ['report billed s', 'reportBilledS'],
      ['report cold s', 'reportColdS'],
      ['bill ÷ estimate', 'billOverEstimate'],
      ['execution', (r) => r.bill.executionS],
      ['cold starts', (r) => r.bill.coldStartS],
      ['idle', (r) => r.bill.idleS],
      ['rounding', (r) => r.bill.roundingS],
    ],
  );
emit('sizing', {
  args,
  target: { fixedRatioMax: 1.05, autoscaleRatioMax: 1.1, queue: 'max(10, 2 × workers) a minute after growth stops', healthPerSMax: 1 },
  results,
});
