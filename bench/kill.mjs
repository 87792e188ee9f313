#!/usr/bin/env node
// Crash exposure (#11): kill -9 the client at random moments, restart it on the same --out, repeat, then let it
// finish; count the rows RunPod ran twice. Ours is runBatch with default settings (`concurrency: 'auto'`); the baseline
// is the engine as a user had it before auto-sizing: a fixed 100 in flight (`concurrency: 100, autoSize: false`).
// `--old <rev>` adds a third client: the build of an older commit (bench/snapshot.mjs) with `concurrency: 100` — the
// engine before the /run bound existed, as the issue measured it (159 duplicates for 5 kills with 200 KB outputs).
//
// Each client runs alone in a child process (bench/run-client.mjs, i.e. runBatch) and is killed with SIGKILL; the
// emulator runs in a process of its own (bench/lib/emulator-child.mjs) and outlives every kill, as RunPod does.
// Endpoint: `--workers` (50) fixed warm workers, jobs of 100–300 ms, outputs small (the echo, ~150 B) or 200 KB
// (`{echo, blob}`); no faults, so every job beyond one per row is a duplicate of a /run whose answer the client never
// stored.
//
// A kill lands at a random moment of a run that is submitting: a uniform delay of 0–`--max-delay-ms` (1,500) after the
// emulator saw that run's first /run (seeded, so reruns kill at the same delays). After `--kills` (6) kills, one more
// run finishes the batch (it must exit 0 with every row COMPLETED).
//   duplicates = jobs the emulator created − rows (each row needs one job);
//   per kill   = the jobs unknown to state.sqlite at the end, attributed to the kill that followed their creation.
// Target: duplicates per kill ≤ the /run bound in force in the run killed (RunSlots in src/engine/sizing.ts: 8 /run
// requests in flight, more for a sustained pace or while /health shows idle workers and no queue). Each run of ours
// reports the highest bound it has used so far (run-client.mjs --slots-log, on stderr, checked every 25 ms); a bound
// that rose in the last few ms before a kill is missed, which makes the check stricter, not looser.
//
//   node bench/kill.mjs [--quick] [--kills 6] [--rows N (default: small 6,000, large 1,500)] [--only small,large] [--no-baseline] [--old 0f9f7ff]
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { BENCH_DIR, ROOT, emit, ensureInput, freshDir, parseArgs, printTable, round, sleep, startEmu, watchdog } from './lib/common.mjs';
import { DIST_DIR } from './lib/dist.mjs';

const args = parseArgs(process.argv.slice(2), {
  quick: false,
  kills: 6,
  rows: 0, // 0: per kind (small 6,000, large 1,500)
  workers: 50,
  maxDelayMs: 1500,
  only: 'small,large',
  baseline: true,
  old: false,
  seed: 11,
});
if (args.quick) {
  args.kills = Math.min(args.kills, 3);
  args.rows = 400;
}
watchdog(30 * 60_000, 'kill');
const RUN_BOUND = 8;

// Rows per kind: small outputs go fast, so more rows keep the kills inside the submitting part of the batch.
const OUTPUTS = {
  small: { label: 'small outputs', outputBytes: 0, rows: 6000 },
  large: { label: '200 KB outputs', outputBytes: 200 * 1024, rows: 1500 },
};

/** Deterministic uniform [0, 1): the emulator's own generator (mulberry32), from the build measured. */
const { createRng: rng } = await import(pathToFileURL(join(DIST_DIR, 'emulator', 'rng.js')).href);

const clients = [{ name: 'ours', label: 'ours (auto)', flags: ['--slots-log'], env: {} }];
if (args.baseline) clients.push({ name: 'baseline', label: 'fixed 100', flags: ['--concurrency', '100', '--no-auto-size'], env: {} });
if (args.old) {
  console.error(`kill: building a snapshot of ${args.old}…`);
  const s = spawnSync(process.execPath, [join(BENCH_DIR, 'snapshot.mjs'), '--commit', String(args.old)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (s.status !== 0) process.exit(s.status ?? 1);
  clients.push({ name: `old-${args.old}`, label: `${args.old}, 100`, flags: ['--concurrency', '100'], env: { RPB_DIST: s.stdout.trim() } });
}

/** One run of the client in its own process; resolves when it exits. */
function startClient(c, input, out, baseUrl) {
  const child = spawn(
    process.execPath,
    [join(BENCH_DIR, 'run-client.mjs'), '--input', input, '--out', out, '--base-url', baseUrl, '--max-ms', '600000', ...c.flags],
    { cwd: ROOT, env: { ...process.env, ...c.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  // The /run bound's highest value so far in this run (--slots-log), RUN_BOUND until it reports one.
  const slots = { peak: RUN_BOUND };
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => {
    for (const m of d.matchAll(/runSlots peak (\d+)/g)) slots.peak = Math.max(slots.peak, Number(m[1]));
    stderr = (stderr + d).slice(-4000);
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 11 * 60_000);
  const done = once(child, 'exit').then(([code, signal]) => {
    clearTimeout(killer);
    return { code, signal, stdout, stderr };
  });
  return { child, done, slots };
}

async function measure(kind, c) {
  const o = OUTPUTS[kind];
  const rows = args.rows || o.rows;
  const random = rng(args.seed);
  const emu = await startEmu({ workers: args.workers, executionMs: { min: 100, max: 300 }, seed: 5, outputBytes: o.outputBytes });
  try {
    const input = await ensureInput(rows);
    const out = freshDir(`kill-${kind}-${c.name}`);
    const killedAt = [];
    const boundAt = [];
    const delays = [];
    let finishedEarly = 0;
    const t0 = Date.now();
    for (let k = 0; k < args.kills; k++) {
      const before = (await emu.stats()).requests.run;
      const run = startClient(c, input, out, emu.baseUrl);
      let exited = false;
      run.done.then(() => (exited = true));
      // Until this run has sent its first /run (or ended: nothing left to submit).
      while (!exited && (await emu.stats()).requests.run <= before) await sleep(5);
      const delay = Math.round(random() * args.maxDelayMs);
      delays.push(delay);
      await Promise.race([sleep(delay), run.done]);
      const bound = run.slots.peak;
      if (!exited) run.child.kill('SIGKILL');
      const r = await run.done;
      boundAt.push(bound);
      if (r.signal !== 'SIGKILL') finishedEarly++;
      killedAt.push(Date.now());
    }
    const final = startClient(c, input, out, emu.baseUrl);
    const fin = await final.done;
    const wallS = (Date.now() - t0) / 1000;
    let result = null;
    try {
      result = JSON.parse(fin.stdout.trim().split('\n').pop());
    } catch {
      console.error(`kill: the final run printed no result (exit ${fin.code}): ${fin.stderr.slice(-1000)}`);
    }
    const st = await emu.stats({ jobIds: true });
    const db = new Database(join(out, 'state.sqlite'), { readonly: true });
    const known = new Set(db.prepare('SELECT job_id FROM jobs').pluck().all());
    const completed = db.prepare(`SELECT count(*) FROM rows WHERE state = 'COMPLETED'`).pluck().get();
    db.close();
    // Jobs the state never learned: /run requests in flight at a kill. Each is charged to the first kill after it.
    const perKill = killedAt.map(() => 0);
    let unknownAfterLastKill = 0;
    for (const [id, createdAt] of st.jobIds) {
      if (known.has(id)) continue;
      const k = killedAt.findIndex((t) => createdAt <= t);
      if (k >= 0) perKill[k]++;
      else unknownAfterLastKill++;
    }
    const duplicates = st.jobsCreated - rows;
    const kills = args.kills - finishedEarly;
    return {
      output: kind,
      label: o.label,
      client: c.name,
      clientLabel: c.label,
      rows,
      kills,
      finishedBeforeKill: finishedEarly,
      delaysMs: delays,
      jobsCreated: st.jobsCreated,
      duplicates,
      perKillMean: kills > 0 ? round(duplicates / kills, 1) : null,
      perKill,
      perKillMax: Math.max(0, ...perKill),
      // The /run bound in force in each run killed (ours reports it; the others: RUN_BOUND, not measured).
      boundPerKill: boundAt,
      withinBound: perKill.every((n, k) => n <= (boundAt[k] ?? RUN_BOUND)),
      unknownAfterLastKill,
      bound: RUN_BOUND,
      boundMax: Math.max(RUN_BOUND, ...boundAt),
      finalExit: fin.code,
      completed,
      allCompleted: completed === rows && fin.code === 0,
      runRequests: st.requests.run,
      wallS: round(wallS, 1),
      finalRun: result && { wallMs: result.wallMs, submitted: result.submitted, message: result.message, rows: result.rows },
      finalStderr: fin.code === 0 ? undefined : fin.stderr.slice(-1500),
    };
  } finally {
    await emu.close();
  }
}

const results = [];
for (const kind of String(args.only).split(',')) {
  if (!OUTPUTS[kind]) throw new Error(`unknown output kind ${kind} (small, large)`);
  for (const c of clients) {
    console.error(`kill: ${OUTPUTS[kind].label}: ${c.label}, ${args.kills} kills over ${args.rows || OUTPUTS[kind].rows} rows…`);
    results.push(await measure(kind, c));
  }
}

printTable(
  `Crash exposure: SIGKILL ${args.kills}× at random moments (0–${args.maxDelayMs} ms after a run's first /run), then a run to the end. ` +
    `duplicates = jobs created − rows. Target: ≤ the /run bound in force per kill (${RUN_BOUND}, more where ours raised it)`,
  results,
  [
    ['outputs', 'label'],
    ['client', 'clientLabel'],
    ['rows', 'rows'],
    ['kills', 'kills'],
    ['jobs created', 'jobsCreated'],
    ['duplicates', 'duplicates'],
    ['per kill (mean)', (r) => `${r.perKillMean}${r.client === 'ours' ? (r.withinBound ? ' ✓' : ' ✗') : ''}`],
    ['per kill', (r) => r.perKill.join(' ')],
    ['bound in force', (r) => (r.client === 'ours' ? r.boundPerKill.join(' ') : `${RUN_BOUND}?`)],
    ['max', 'perKillMax'],
    ['all completed', (r) => (r.allCompleted ? 'yes' : 'NO')],
    ['real s', 'wallS'],
  ],
);
emit('kill', { args, target: { duplicatesPerKillMax: 'the /run bound in force (boundPerKill)', leastBound: RUN_BOUND }, results });
process.exitCode = results.every((r) => r.allCompleted) ? 0 : 1;
