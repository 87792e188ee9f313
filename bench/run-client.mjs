#!/usr/bin/env node
// One runBatch in a process of its own, so /usr/bin/time can measure its CPU and peak RSS alone.
// Default settings: only input/out/endpoint/apiKey/baseUrl are passed, progress off.
//   node bench/run-client.mjs --input FILE --out DIR --base-url URL [--max-ms 3600000] [--concurrency N] [--no-long-poll] [--media off]
//                             [--no-auto-size] (with --concurrency N: exactly N in flight, the engine before #11)
//                             [--slots-log] (stderr: a line `runSlots peak N` each time the /run bound's peak rises,
//                             checked every 25 ms — for kill.mjs, the bound in force when the process is killed)
// Prints one JSON line: {wallMs, exitCode, submitted, rows, requests, ingest, heapUsedMb, maxMemoryMb}.
import { parseArgs, API_KEY, ENDPOINT } from './lib/common.mjs';
import { engine } from './lib/dist.mjs';

const { runBatch } = await engine();

const a = parseArgs(process.argv.slice(2), { maxMs: 3600_000 });
if (!a.input || !a.out || !a.baseUrl) {
  console.error('usage: node bench/run-client.mjs --input FILE --out DIR --base-url URL');
  process.exit(64);
}
const extra = {};
if (a.concurrency !== undefined) extra.concurrency = a.concurrency;
if (a.longPoll === false) extra.longPoll = false;
if (a.media !== undefined) extra.media = a.media;
if (a.autoSize === false) extra.autoSize = false;
if (a.slotsLog) {
  let peak = 0;
  extra.progressIntervalMs = 25; // each tick also writes a progress sample to the state: not much faster
  extra.onProgress = (p) => {
    if (p.runSlots && p.runSlots.peak > peak) {
      peak = p.runSlots.peak;
      process.stderr.write(`runSlots peak ${peak}\n`);
    }
  };
}
// Where the memory is: the largest V8 heap / external / arrayBuffers figures seen (sampled every 500 ms), in MB.
const mem = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sampleMem = () => {
  const m = process.memoryUsage();
  for (const k of Object.keys(mem)) mem[k] = Math.max(mem[k], Math.round(m[k] / 1048576));
};
setInterval(sampleMem, 500).unref();
const t0 = performance.now();
const r = await runBatch({
  input: a.input,
  out: a.out,
  endpoint: ENDPOINT,
  apiKey: API_KEY,
  baseUrl: a.baseUrl,
  signal: AbortSignal.timeout(a.maxMs),
  log: (m) => console.error(`[${((performance.now() - t0) / 1000).toFixed(2)} s] ${m}`),
  ...extra,
});
const wallMs = performance.now() - t0;
sampleMem();
console.log(
  JSON.stringify({
    wallMs: Math.round(wallMs),
    exitCode: r.exitCode,
    message: r.message,
    submitted: r.submitted,
    rows: r.stats.rows,
    requests: r.stats.requests,
    ingest: r.ingest,
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1048576),
    maxMemoryMb: mem,
  }),
);
process.exitCode = r.exitCode;
