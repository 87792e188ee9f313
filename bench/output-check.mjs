#!/usr/bin/env node
// Cost of the output checks (src/engine/output-check.ts) per COMPLETED job, on real workers' output shapes, against a
// baseline measured in the same run: JSON.stringify of the same output, which the scheduler already does for every
// COMPLETED job to store it. Each shape: --repeat rounds of --calls calls each (fewer for large outputs: about 20 MB
// of JSON a round); the figure is the median ns per call.
//
//   node bench/output-check.mjs [--calls 20000] [--repeat 7] [--quick]
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_DIR } from './lib/dist.mjs';
import { emit, parseArgs, printTable, quantile, round } from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), { calls: 20_000, repeat: 7, quick: false });
if (args.quick) {
  args.calls = 2_000;
  args.repeat = 3;
}
const { checkOutput } = await import(pathToFileURL(join(DIST_DIR, 'engine', 'output-check.js')).href);

const b64 = (bytes) => Buffer.alloc(bytes, 7).toString('base64');
const SHAPES = {
  // The emulator's echo handler.
  echo: { echo: { id: 'r1', prompt: 'a lighthouse at dusk', n: 1 } },
  // worker-vllm: a one-element list holding an OpenAI chat completion.
  vllm: [
    {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(2000) }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 20, completion_tokens: 500, total_tokens: 520 },
    },
  ],
  // infinity embeddings: 32 vectors of 1024 floats.
  embeddings: {
    object: 'list',
    data: Array.from({ length: 32 }, (_, i) => ({
      object: 'embedding',
      index: i,
      embedding: Array.from({ length: 1024 }, (_, k) => k / 1024),
    })),
  },
  // worker-comfyui: one 1 MB image inline as base64.
  comfyui: { images: [{ filename: 'ComfyUI_00001_.png', type: 'base64', data: b64(1_000_000) }] },
  // What the checks catch.
  'vllm error': [{ error: { message: 'prompt is too long', type: 'worker_error' } }],
  empty: [],
};

function nsPerCall(fn, value) {
  const rounds = [];
  for (let r = 0; r < args.repeat; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < args.calls; i++) fn(value);
    rounds.push(Number(process.hrtime.bigint() - t0) / args.calls);
  }
  return quantile(rounds, 0.5);
}

let sink = 0;
const check = (output) => {
  sink += checkOutput({ status: 'COMPLETED', output }) === null ? 0 : 1;
};
const stringify = (output) => {
  sink += JSON.stringify(output).length;
};

const rows = [];
for (const [shape, output] of Object.entries(SHAPES)) {
  // Large outputs make JSON.stringify slow: fewer calls (about 20 MB of JSON a round) keep the run short.
  const bytes = JSON.stringify(output).length;
  const calls = args.calls;
  args.calls = Math.max(20, Math.min(calls, Math.round(20_000_000 / bytes)));
  const baselineNs = nsPerCall(stringify, output);
  const checkNs = nsPerCall(check, output);
  args.calls = calls;
  rows.push({ shape, bytes, checkNs: round(checkNs, 1), baselineNs: round(baselineNs, 1), ratio: round(checkNs / baselineNs, 6) });
}
printTable(`checkOutput vs JSON.stringify of the same output (median ns per call, ${args.repeat} rounds)`, rows, [
  ['output', 'shape'],
  ['JSON bytes', 'bytes'],
  ['check ns', 'checkNs'],
  ['stringify ns (baseline)', 'baselineNs'],
  ['check / stringify', 'ratio'],
]);
emit('output-check', { args, rows, sink: sink > 0 });
