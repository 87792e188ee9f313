// runpod-batch in this process, with default settings: only input/out/endpoint/apiKey/baseUrl are passed
// (plus a watchdog AbortSignal, which changes nothing unless the run overruns; progress callbacks are off).
import { engine } from './dist.mjs';
import { API_KEY, ENDPOINT } from './common.mjs';

/** @returns {{wallMs:number, result:object, overran:boolean}} overran: the watchdog stopped it (exit code 130). */
export async function runOurs({ input, out, baseUrl, maxMs = 3600_000, extra = {} }) {
  const { runBatch } = await engine();
  const signal = AbortSignal.timeout(maxMs);
  const t0 = performance.now();
  const result = await runBatch({ input, out, endpoint: ENDPOINT, apiKey: API_KEY, baseUrl, signal, ...extra });
  const wallMs = performance.now() - t0;
  const overran = result.exitCode === 130;
  if (overran) console.error(`runBatch overran its ${Math.round(maxMs / 1000)} s watchdog: stopped, figures are partial`);
  return { wallMs, result, overran };
}
