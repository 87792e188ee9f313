#!/usr/bin/env node
// The baseline (runpod-sdk + p-limit + a status poll every second) in a process of its own, for /usr/bin/time.
// Reads the JSONL input streamed and appends one result line per finished job to <out>/results.jsonl; keeps nothing
// per row in memory (a careful hand-written script: its memory is a lower bound for what users write).
//   node bench/baseline-client.mjs --input FILE --out DIR --base-url URL --concurrency N [--poll-ms 1000] [--max-ms …]
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runBaseline } from './lib/baseline.mjs';
import { parseArgs, readJsonl, API_KEY, ENDPOINT } from './lib/common.mjs';

const a = parseArgs(process.argv.slice(2), { pollMs: 1000, maxMs: 3600_000, concurrency: 100 });
mkdirSync(a.out, { recursive: true });
const ws = createWriteStream(join(a.out, 'results.jsonl'));
const r = await runBaseline({
  baseUrl: a.baseUrl,
  apiKey: API_KEY,
  endpoint: ENDPOINT,
  rows: readJsonl(a.input),
  concurrency: a.concurrency,
  pollMs: a.pollMs,
  deadlineMs: a.maxMs,
  keepResults: false,
  onResult: (res, s) => ws.write(JSON.stringify({ ...res, output: s.output }) + '\n'),
});
await new Promise((res) => ws.end(res));
console.log(JSON.stringify({ wallMs: r.wallMs, counts: r.counts }));
