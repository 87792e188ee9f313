// Shared helpers of the benchmarks: flags, the emulator child process, input files, timed child processes,
// tables, the JSON result line, and a CPU-profile summary. Everything talks to 127.0.0.1 only.
import { fork, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, renameSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineInfo } from './dist.mjs';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH_DIR, '..');
export const OUT_DIR = join(BENCH_DIR, 'out');
export const API_KEY = 'bench-key';
export const ENDPOINT = 'bench-endpoint';

/** `--name value`, `--name=value`, `--flag` (true), `--no-flag` (false). Numbers are converted. */
export function parseArgs(argv = process.argv.slice(2), defaults = {}) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    let key = a.slice(2);
    let value;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (key.startsWith('no-')) {
      key = key.slice(3);
      value = false;
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      value = argv[++i];
    } else {
      value = true;
    }
    const camel = key.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    out[camel] = typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  return out;
}

/** Ends the process if the bench overruns: every bench stops by itself. */
export function watchdog(ms, name) {
  const t = setTimeout(() => {
    console.error(`${name}: watchdog: still running after ${Math.round(ms / 1000)} s, exiting`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(3);
  }, ms);
  t.unref();
  return t;
}

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts the emulator in a child process. Returns {baseUrl, stats(opts), health(), setFaults(f), close()}. */
export async function startEmu(options, { maxMs = 3 * 3600_000, heapMb = 8192 } = {}) {
  const child = fork(join(BENCH_DIR, 'lib', 'emulator-child.mjs'), [], {
    execArgv: [`--max-old-space-size=${heapMb}`],
    env: { ...process.env, BENCH_EMU_MAX_MS: String(maxMs) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const ask = (msg, want) =>
    new Promise((resolveAsk, reject) => {
      const onMsg = (m) => {
        if (m.type === 'error') {
          cleanup();
          reject(new Error(`emulator child: ${m.message}`));
        } else if (m.type === want) {
          cleanup();
          resolveAsk(m);
        }
      };
      const onExit = (code) => {
        cleanup();
        reject(new Error(`emulator child exited (${code}) while waiting for ${want}`));
      };
      const cleanup = () => {
        child.off('message', onMsg);
        child.off('exit', onExit);
      };
      child.on('message', onMsg);
      child.on('exit', onExit);
      child.send(msg);
    });
  const ready = await ask({ type: 'start', options: { apiKey: API_KEY, endpoints: [ENDPOINT], ...options } }, 'ready');
  return {
    baseUrl: ready.baseUrl,
    pid: child.pid,
    stats: async (o = {}) => (await ask({ type: 'stats', ...o }, 'stats')).stats,
    /** What /health would answer now, read out of band (not counted as a request). */
    health: async () => (await ask({ type: 'health' }, 'health')).health,
    setFaults: async (faults) => ask({ type: 'setFaults', faults }, 'ok'),
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      try {
        await Promise.race([ask({ type: 'close' }, 'closed'), sleep(5000)]);
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh, empty directory under bench/out. */
export function freshDir(name) {
  const dir = join(OUT_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** One row of ~100 bytes (as JSONL): a request body with an id. */
export function makeRow(i) {
  const id = `r-${String(i).padStart(7, '0')}`;
  return { id, input: { prompt: `a lighthouse at dusk, variation ${String(i).padStart(7, '0')}`, seed: i % 9973 } };
}

/**
 * bench/out/input-<rows>.jsonl, generated once (deterministic) and reused. Each line is ~100 bytes.
 * A file of the wrong size is regenerated.
 */
export async function ensureInput(rows, name = `input-${rows}.jsonl`) {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, name);
  let expected = 0;
  for (let i = 1; i <= rows; i++) expected += Buffer.byteLength(JSON.stringify(makeRow(i))) + 1;
  if (existsSync(path) && statSync(path).size === expected) return path;
  const tmp = `${path}.tmp`;
  const ws = createWriteStream(tmp);
  let buf = '';
  for (let i = 1; i <= rows; i++) {
    buf += JSON.stringify(makeRow(i)) + '\n';
    if (buf.length > 1 << 20) {
      if (!ws.write(buf)) await once(ws, 'drain');
      buf = '';
    }
  }
  ws.end(buf);
  await once(ws, 'finish');
  renameSync(tmp, path);
  return path;
}

/** Reads a JSONL file line by line (streamed). */
export async function* readJsonl(path) {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (line.trim() !== '') yield JSON.parse(line);
}

/**
 * Runs `node <script> …args` under `/usr/bin/time -f '%e %U %S %M'`: wall s, user s, sys s, peak RSS KB.
 * The child's last stdout line that parses as JSON is returned as `result`.
 */
export async function timeNode(script, args, { nodeArgs = [], maxMs = 3600_000, label = script } = {}) {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install -y time');
  mkdirSync(OUT_DIR, { recursive: true });
  const timeFile = join(OUT_DIR, `time-${process.pid}-${Date.now()}.txt`);
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, ...nodeArgs, script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => (stdout += d));
  // RSS over time (VmRSS of the node process under /usr/bin/time, every 200 ms): tells which phase holds the peak.
  const trace = [];
  const t0 = Date.now();
  let nodePid = null;
  const sampler = setInterval(() => {
    try {
      nodePid ??= Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || null;
      if (!nodePid) return;
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${nodePid}/status`, 'utf8'));
      if (m) trace.push([(Date.now() - t0) / 1000, Number(m[1]) / 1024]);
    } catch {
      /* not started yet, or gone */
    }
  }, 200);
  const killer = setTimeout(() => {
    console.error(`${label}: child over ${Math.round(maxMs / 1000)} s, killing it`);
    child.kill('SIGKILL');
  }, maxMs);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(killer);
  clearInterval(sampler);
  children.delete(child);
  const raw = readFileSync(timeFile, 'utf8').trim().split('\n').pop();
  rmSync(timeFile, { force: true });
  const [wallS, userS, sysS, maxRssKb] = raw.split(/\s+/).map(Number);
  let result = null;
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      result = JSON.parse(line);
      break;
    } catch {
      /* not the result line */
    }
  }
  let rss = null;
  if (trace.length > 0) {
    let peak = trace[0];
    for (const p of trace) if (p[1] > peak[1]) peak = p;
    const step = Math.max(1, Math.ceil(trace.length / 24));
    rss = {
      sampledPeakMb: Math.round(peak[1]),
      peakAtS: round(peak[0], 1),
      series: trace.filter((_, i) => i % step === 0 || i === trace.length - 1).map(([t, mb]) => [round(t, 1), Math.round(mb)]),
    };
  }
  return { code, signal, wallS, userS, sysS, cpuS: userS + sysS, maxRssKb, maxRssMb: maxRssKb / 1024, result, stdout, rss };
}

/** The machine, for the record. */
export function machine() {
  let model = 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    /* not linux */
  }
  return {
    node: process.version,
    cpus: cpus().length,
    model,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    engine: engineInfo(),
  };
}

/** Prints a table: columns = [[header, key or fn]]. */
export function printTable(title, rows, columns) {
  const cells = rows.map((r) => columns.map(([, k]) => fmt(typeof k === 'function' ? k(r) : r[k])));
  const heads = columns.map(([h]) => h);
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals) => '| ' + vals.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(heads));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const c of cells) console.log(line(c));
}

function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  return String(v);
}

export const round = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? x : Math.round(x * 10 ** d) / 10 ** d);

/** The machine-readable result: one JSON line on stdout, starting with {"bench": …}. */
export function emit(bench, obj) {
  const line = JSON.stringify({ bench, date: new Date().toISOString(), machine: machine(), ...obj });
  console.log(line);
  return line;
}

/** Quantile (nearest rank) of numbers. */
export function quantile(values, q) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Top self-time functions of the newest .cpuprofile in dir (node --cpu-prof --cpu-prof-dir dir). */
export function profileTop(dir, n = 15) {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  files.sort((a, b) => statSync(join(dir, b)).mtimeMs - statSync(join(dir, a)).mtimeMs);
  const file = join(dir, files[0]);
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((nd) => [nd.id, nd]));
  const self = new Map();
  const areas = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const nd = byId.get(p.samples[i]);
    const cf = nd.callFrame;
    const url = cf.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const key = `${cf.functionName || '(anonymous)'} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    const area = areaOf(url, cf.functionName);
    areas.set(area, (areas.get(area) ?? 0) + dt);
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), pct: round((100 * us) / total, 1) }));
  const byArea = [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, ms: Math.round(us / 1000), pct: round((100 * us) / total, 1) }));
  return { file: file.replace(ROOT + '/', ''), totalMs: Math.round(total / 1000), top, byArea };
}

/** Self time grouped by where the code lives: dist/<folder> of the engine, node_modules/<package>, node internals. */
function areaOf(url, fn) {
  let m = /(?:^|\/)dist\/([^/]+)\//.exec(url);
  if (m && !url.includes('node_modules')) return `engine: ${m[1]}`;
  m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') return fn.startsWith('(') ? fn : 'native (node/V8 builtins)';
  return url.startsWith('bench/') ? 'bench harness' : 'other';
}

/** Prints a profile summary (top functions and areas). */
export function printProfile(title, profile) {
  if (!profile) return;
  console.log(`\n${title} (${profile.file}, ${profile.totalMs} ms sampled) — self time by area:`);
  for (const a of profile.byArea.slice(0, 12)) console.log(`  ${String(a.pct).padStart(5)}%  ${String(a.ms).padStart(7)} ms  ${a.area}`);
  console.log('top functions by self time:');
  for (const p of profile.top) console.log(`  ${String(p.pct).padStart(5)}%  ${String(p.ms).padStart(7)} ms  ${p.fn}`);
}
