#!/usr/bin/env node
// Media outputs (#12): --rows rows (default 400) whose output is one --bytes PNG (default 1 MB) as base64 in
// worker-comfyui's shape ({"images":[{"filename","type":"base64","data"}]}), against an emulator in another process
// (--workers 16, executionMs 0). The client runs alone in a child process under /usr/bin/time, with its defaults.
// Three cases, each --repeat times (default 3; the figures are medians):
//   files  — the default: each image decoded into <out>/media/, a reference in the output
//   off    — the same batch with --media off: outputs kept as they came (the behaviour before media files; baseline)
//   plain  — a plain-JSON output of the same size on the wire ({"text": ["<the same base64>"]}): no media to find
// Figures: peak RSS (/usr/bin/time %M), CPU per job ((user + sys) / rows), wall time, the bytes of --out after the
// run (every file, state.sqlite and its WAL included) against the media bytes (rows × --bytes).
// Targets: files — peak RSS ≤ 250 MB; --out ≤ 1.15 × media bytes; CPU per job ≤ 2 × plain's.
//
//   node bench/media.mjs [--rows 400] [--bytes 1000000] [--workers 16] [--repeat 3] [--cases files,off,plain] [--quick]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, emit, ensureInput, freshDir, parseArgs, printTable, round, startEmu, timeNode, watchdog } from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), {
  rows: 400,
  bytes: 1_000_000,
  workers: 16,
  repeat: 3,
  quick: false,
  cases: 'files,off,plain',
});
const CASES = String(args.cases).split(',');
if (args.quick) {
  args.rows = Math.min(args.rows, 60);
  args.repeat = 1;
}
watchdog(40 * 60_000, 'media');

/** Bytes of every file under `dir` (apparent sizes), and of those under dir/media. */
function du(dir) {
  let total = 0;
  let media = 0;
  let files = 0;
  const walk = (d, inMedia) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, inMedia || e.name === 'media');
      else {
        const s = statSync(p).size;
        total += s;
        if (inMedia) {
          media += s;
          files++;
        }
      }
    }
  };
  walk(dir, false);
  return { total, media, files };
}

const input = await ensureInput(args.rows);
const mediaBytes = args.rows * args.bytes;

async function measure(kind, run) {
  const emu = await startEmu({ workers: args.workers, executionMs: 0, seed: 7, media: { bytes: args.bytes, plain: kind === 'plain' } });
  try {
    const out = freshDir(`media-${kind}`);
    const cargs = ['--input', input, '--out', out, '--base-url', emu.baseUrl, '--max-ms', String(20 * 60_000)];
    if (kind === 'off') cargs.push('--media', 'off');
    console.error(`media: ${kind}, run ${run + 1}/${args.repeat}, ${args.rows} rows of ${args.bytes} bytes…`);
    const t = await timeNode(join(BENCH_DIR, 'run-client.mjs'), cargs, { maxMs: 25 * 60_000, label: `media ${kind}` });
    if (!t.result) throw new Error(`media ${kind}: no result line (exit ${t.code})`);
    if (t.code !== 0) console.error(`media ${kind}: exit ${t.code}: ${t.result.message ?? ''} ${JSON.stringify(t.result.rows)}`);
    const d = du(out);
    return {
      kind,
      run,
      exitCode: t.code,
      message: t.result.message,
      completed: t.result.rows.completed,
      peakRssMb: round(t.maxRssMb, 0),
      peakAtS: t.rss?.peakAtS,
      wallS: t.wallS,
      cpuS: round(t.cpuS, 2),
      cpuMsPerJob: round((t.cpuS * 1000) / args.rows, 2),
      outMb: round(d.total / 1e6, 1),
      mediaFiles: d.files,
      mediaMb: round(d.media / 1e6, 1),
      outVsMedia: round(d.total / mediaBytes, 3),
      clientMemoryMb: t.result.maxMemoryMb,
      rss: t.rss,
    };
  } finally {
    await emu.close();
  }
}

// Interleaved (files, off, plain, files, …) so that a change in the machine's load touches every case alike.
const all = [];
for (let run = 0; run < args.repeat; run++) for (const kind of CASES) all.push(await measure(kind, run));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = CASES.map((kind) => {
  const rs = all.filter((r) => r.kind === kind);
  const pick = (k) => median(rs.map((r) => r[k]));
  return {
    kind,
    completed: Math.min(...rs.map((r) => r.completed)),
    peakRssMb: pick('peakRssMb'),
    peakRssRange: [Math.min(...rs.map((r) => r.peakRssMb)), Math.max(...rs.map((r) => r.peakRssMb))],
    wallS: round(pick('wallS'), 2),
    cpuMsPerJob: round(pick('cpuMsPerJob'), 2),
    cpuRange: [Math.min(...rs.map((r) => r.cpuMsPerJob)), Math.max(...rs.map((r) => r.cpuMsPerJob))],
    outMb: pick('outMb'),
    mediaFiles: pick('mediaFiles'),
    outVsMedia: pick('outVsMedia'),
  };
});
const files = summary.find((r) => r.kind === 'files');
const off = summary.find((r) => r.kind === 'off');
const plain = summary.find((r) => r.kind === 'plain');
const cpuVsPlain = files && plain ? round(files.cpuMsPerJob / plain.cpuMsPerJob, 2) : null;
printTable(
  `Media outputs: ${args.rows} rows × one ${args.bytes}-byte PNG (median of ${args.repeat}). Targets (files): peak RSS ≤ 250 MB, --out ≤ 1.15 × media bytes, CPU/job ≤ 2 × plain (here ${cpuVsPlain}×)`,
  summary,
  [
    ['case', 'kind'],
    ['completed', 'completed'],
    ['peak RSS MB', 'peakRssMb'],
    ['RSS range', (r) => r.peakRssRange.join('–')],
    ['wall s', 'wallS'],
    ['CPU ms/job', 'cpuMsPerJob'],
    ['CPU range', (r) => r.cpuRange.join('–')],
    ['--out MB', 'outMb'],
    ['media files', 'mediaFiles'],
    ['--out / media bytes', 'outVsMedia'],
  ],
);
emit('media', {
  args,
  target: { peakRssMbMax: 250, outVsMediaMax: 1.15, cpuVsPlainMax: 2 },
  mediaBytes,
  cpuVsPlain,
  rssVsOff: files && off ? round(files.peakRssMb / off.peakRssMb, 2) : null,
  summary,
  runs: all,
});
