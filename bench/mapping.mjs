#!/usr/bin/env node
// Mapping (#13): the CPU a --map adds per row, and the peak RSS of a mapped input against the same input unmapped,
// on a 1,000,000-row CSV (id,question,subject,seed; generated once into bench/out/). Each case is one validation pass
// (bench/mapping-client.mjs: dryRun reads, maps, checks and loads every row, as a run does before submitting) in a
// process of its own under /usr/bin/time. Cases, interleaved over --repeat rounds (medians reported):
//   plain   no mapping (the baseline: the CSV row is the input)
//   vllm    {"messages": [{"role": "user", "content": question}], "sampling_params": {"max_tokens": 512}}
//   image   {"prompt": "a photo of " & subject, "seed": $number(seed)}
//   general the vllm mapping with $trim(question): outside the compiled subset (input/map-fast.ts), all JSONata
// Targets (vllm, image): ≤ 20 µs of CPU per row for the whole mapped validation pass; peak RSS ≤ 1.10 × unmapped.
//
//   node bench/mapping.mjs [--rows 1000000] [--repeat 3] [--quick]
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { BENCH_DIR, OUT_DIR, emit, freshDir, parseArgs, printTable, round, timeNode, watchdog } from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), { rows: 1_000_000, repeat: 3, quick: false });
if (args.quick) {
  args.rows = Math.min(args.rows, 20_000);
  args.repeat = 1;
}
watchdog(3600_000, 'mapping');

const CASES = {
  plain: undefined,
  vllm: '{"messages": [{"role": "user", "content": question}], "sampling_params": {"max_tokens": 512}}',
  image: '{"prompt": "a photo of " & subject, "seed": $number(seed)}',
  // Outside the compiled subset ($trim): every row through JSONata's own evaluator. No target: what any expression costs.
  general: '{"messages": [{"role": "user", "content": $trim(question)}], "sampling_params": {"max_tokens": 512}}',
};

async function ensureCsv(rows) {
  const path = join(OUT_DIR, `mapping-${rows}.csv`);
  if (existsSync(path)) return path;
  mkdirSync(OUT_DIR, { recursive: true });
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  out.write('id,question,subject,seed\n');
  for (let i = 1; i <= rows; i++) {
    const ok = out.write(`r${i},What is ${i} plus ${i % 97}? Answer in one word.,a red fox number ${i % 1000},${i * 7}\n`);
    if (!ok) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  renameSync(tmp, path);
  return path;
}

const input = await ensureCsv(args.rows);
const runs = [];
for (let round_ = 1; round_ <= args.repeat; round_++) {
  for (const [name, map] of Object.entries(CASES)) {
    const out = freshDir(`mapping-${name}`);
    const cargs = ['--input', input, '--out', out];
    if (map) cargs.push('--map', map);
    console.error(`mapping: round ${round_}, ${name}…`);
    const t = await timeNode(join(BENCH_DIR, 'mapping-client.mjs'), cargs, { maxMs: 20 * 60_000, label: `mapping ${name}` });
    if (!t.result || t.result.rows !== args.rows) throw new Error(`mapping ${name}: no result or wrong row count (exit ${t.code})`);
    runs.push({ case: name, round: round_, cpuS: t.cpuS, wallS: t.wallS, peakRssMb: t.maxRssMb });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const byCase = Object.keys(CASES).map((name) => {
  const rs = runs.filter((r) => r.case === name);
  return {
    case: name,
    cpuUsPerRow: round((median(rs.map((r) => r.cpuS)) * 1e6) / args.rows, 2),
    peakRssMb: round(median(rs.map((r) => r.peakRssMb)), 0),
    wallS: round(median(rs.map((r) => r.wallS)), 1),
  };
});
const plain = byCase.find((c) => c.case === 'plain');
// Added CPU per row, per round (each mapped run against the plain run of its own round), then the median.
const added = (name) =>
  round(
    median(
      runs
        .filter((r) => r.case === name)
        .map((r) => ((r.cpuS - runs.find((p) => p.case === 'plain' && p.round === r.round).cpuS) * 1e6) / args.rows),
    ),
    2,
  );
for (const c of byCase) {
  c.addedCpuUsPerRow = c.case === 'plain' ? 0 : added(c.case);
  c.rssVsPlain = round(c.peakRssMb / plain.peakRssMb, 3);
}
printTable(`Mapping, ${args.rows} CSV rows, validation pass, median of ${args.repeat}`, byCase, [
  ['case', 'case'],
  ['CPU µs/row', 'cpuUsPerRow'],
  ['added µs/row', 'addedCpuUsPerRow'],
  ['peak RSS MB', 'peakRssMb'],
  ['RSS ÷ plain', 'rssVsPlain'],
  ['wall s', 'wallS'],
]);
emit('mapping', {
  args,
  targets: { cases: ['vllm', 'image'], cpuUsPerRow: 20, rssVsPlain: 1.1 },
  cases: byCase,
  runs: runs.map((r) => ({ ...r, cpuS: round(r.cpuS, 2), peakRssMb: round(r.peakRssMb, 0) })),
});
