#!/usr/bin/env node
// `npm run demo`: a whole batch on the bundled emulator. Starts the emulator, runs the real CLI on
// fixtures/prompts.jsonl, and prints where the results and stats are. Costs nothing, needs no network.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = join(root, 'fixtures', 'prompts.jsonl');
const out = join(root, 'demo-out');
rmSync(out, { recursive: true, force: true });

const emu = await startEmulator({
  workers: 16,
  executionMs: { min: 200, max: 800 },
  coldStartMs: 1500,
  faults: { failFirstAttempt: 0.03, http500: 0.02 },
});
const args = [
  'run',
  relative(process.cwd(), input),
  '--endpoint',
  'test-endpoint',
  '--base-url',
  emu.baseUrl,
  '--out',
  relative(process.cwd(), out),
  '--price-per-second',
  '0.00019',
];
process.stdout.write(`Emulator on ${emu.url} (16 workers, 200-800 ms jobs, 1.5 s cold starts, 3% first-attempt failures, 2% HTTP 500)\n`);
process.stdout.write(`$ RUNPOD_API_KEY=test-key runpod-batch ${args.join(' ')}\n\n`);
const child = spawn(process.execPath, [join(root, 'bin', 'runpod-batch.js'), ...args], {
  stdio: 'inherit',
  env: { ...process.env, RUNPOD_API_KEY: 'test-key' },
});
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await emu.close();
const shown = relative(process.cwd(), out);
process.stdout.write(
  `\nexit code ${code}. Open ${shown}/report.html in a browser (what happened, what it cost); the results are in ${shown}/results.jsonl, ` +
    `the figures in stats.json, and state.sqlite beside them is the checkpoint a rerun resumes from.\n`,
);
process.exitCode = code;
