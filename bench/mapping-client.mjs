#!/usr/bin/env node
// One validation pass (dryRun: read, map, check and load every row into a throwaway state, as a run does before it
// submits anything) in a process of its own, so /usr/bin/time measures its CPU and peak RSS alone.
//   node bench/mapping-client.mjs --input FILE [--map EXPR] [--csv-cast]
// Prints one JSON line: {rows, wallMs}.
import { parseArgs } from './lib/common.mjs';
import { engine } from './lib/dist.mjs';

const { dryRun } = await engine();
const a = parseArgs(process.argv.slice(2), { csvCast: false });
const t0 = performance.now();
const est = await dryRun({
  input: a.input,
  endpoint: 'bench',
  apiKey: 'bench',
  out: a.out,
  csvCast: a.csvCast === true,
  ...(typeof a.map === 'string' ? { map: a.map } : {}),
});
console.log(JSON.stringify({ rows: est.rows, wallMs: Math.round(performance.now() - t0), preview: est.preview[0] }));
