#!/usr/bin/env node
// One `runpod-batch export` in a process of its own (the chosen build's CLI), so /usr/bin/time measures it alone.
//   node bench/export-client.mjs <out> <format> <file-or-dir>
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { DIST_DIR } from './lib/dist.mjs';

const [out, format, target] = process.argv.slice(2);
const { main } = await import(pathToFileURL(join(DIST_DIR, 'cli', 'main.js')).href);
const t0 = performance.now();
const code = await main(['export', out, '--format', format, '-o', target, '--quiet']);
const m = process.memoryUsage();
console.log(JSON.stringify({ code, wallMs: Math.round(performance.now() - t0), heapUsedMb: Math.round(m.heapUsed / 1048576) }));
process.exitCode = code;
