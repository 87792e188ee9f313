#!/usr/bin/env node
// Runs every benchmark one after the other (never in parallel: they measure time and CPU on the same machine) and
// collects their JSON result lines into bench/out/results-<timestamp>.jsonl (and bench/out/results-latest.jsonl).
//
//   node bench/run-all.mjs [--quick] [--only saturation,polling,rate-limit,overhead,memory,resume,export,media,sizing,kill,parquet-input,mapping]
//                          [--profile]
//                          [--snapshot <rev>] [--no-snapshot] [--build]
// By default the engine measured is a private build of git HEAD (bench/snapshot.mjs → bench/out/snapshot-<sha>/),
// so that others rebuilding dist/ during the ~20 minutes cannot change the engine mid-run. --no-snapshot measures
// dist/ as it is (--build runs tsc on it first), e.g. for uncommitted changes.
// Default sizes take about 30 minutes in all (memory + resume: ~10 of them; sizing + kill: ~10). Each script's output goes to the
// terminal as it runs; a script that fails is reported and the others still run.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, OUT_DIR, ROOT, parseArgs, watchdog } from './lib/common.mjs';

const ALL = [
  'saturation',
  'polling',
  'rate-limit',
  'overhead',
  'memory',
  'resume',
  'export',
  'media',
  'sizing',
  'kill',
  'parquet-input',
  'mapping',
];
const args = parseArgs(process.argv.slice(2), { quick: false, only: ALL.join(','), build: false, profile: false, snapshot: 'HEAD' });
watchdog(4 * 3600_000, 'run-all');

const env = { ...process.env };
if (args.snapshot !== false) {
  const rev = args.snapshot === true ? 'HEAD' : String(args.snapshot);
  console.error(`run-all: building a snapshot of ${rev}…`);
  const s = spawnSync(process.execPath, [join(BENCH_DIR, 'snapshot.mjs'), '--commit', rev], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (s.status !== 0) process.exit(s.status ?? 1);
  env.RPB_DIST = s.stdout.trim();
  console.error(`run-all: measuring ${env.RPB_DIST}`);
} else if (args.build) {
  console.error('run-all: npx tsc -p tsconfig.json');
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

mkdirSync(OUT_DIR, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const file = join(OUT_DIR, `results-${stamp}.jsonl`);
const lines = [];
const summary = [];
for (const name of String(args.only).split(',')) {
  if (!ALL.includes(name)) throw new Error(`unknown bench ${name}`);
  const a = [];
  if (args.quick) a.push('--quick');
  // Profiling costs CPU and memory: it is for finding causes, not for the figures. Never for memory.mjs (RSS).
  if (args.profile && ['overhead', 'resume'].includes(name)) a.push('--profile');
  console.error(`\n=== run-all: ${name} ${a.join(' ')} ===`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(BENCH_DIR, `${name}.mjs`), ...a], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    process.stdout.write(d);
  });
  const code = await new Promise((r) => child.on('exit', (c) => r(c ?? 1)));
  const secs = Math.round((Date.now() - t0) / 1000);
  const json = out.split('\n').filter((l) => l.startsWith('{"bench"'));
  lines.push(...json);
  summary.push({ bench: name, exit: code, seconds: secs, results: json.length });
  writeFileSync(file, lines.join('\n') + '\n');
}
copyFileSync(file, join(OUT_DIR, 'results-latest.jsonl'));
console.log('\nrun-all summary:');
for (const s of summary)
  console.log(`  ${s.bench.padEnd(11)} exit ${s.exit}  ${String(s.seconds).padStart(5)} s  ${s.results} JSON line(s)`);
console.log(`results: ${file.replace(ROOT + '/', '')}`);
process.exitCode = summary.some((s) => s.exit !== 0) ? 1 : 0;
