// Child process for the "close() leaves nothing behind" test: starts the emulator with work in every
// kind of timer (execution, cold start, slow answer, long poll, runsync wait), closes it, and then
// must exit on its own — it never calls process.exit.
import { startEmulator } from '../../src/emulator/index.ts';

const emu = await startEmulator({ port: 0, workers: 2, executionMs: 60_000, coldStartMs: 30_000 });
const headers = { authorization: 'Bearer test-key', 'content-type': 'application/json' };
const url = (p) => `${emu.baseUrl}/test-endpoint/${p}`;
const ignore = () => {};

const { id } = await (await fetch(url('run'), { method: 'POST', headers, body: JSON.stringify({ input: { a: 1 } }) })).json();
await fetch(url('run'), { method: 'POST', headers, body: JSON.stringify({ input: { a: 2 } }) });
fetch(url(`status-sync/${id}?wait=60000`), { headers })
  .then((r) => r.text())
  .catch(ignore);
fetch(url('runsync?wait=60000'), { method: 'POST', headers, body: JSON.stringify({ input: { a: 3 } }) })
  .then((r) => r.text())
  .catch(ignore);
emu.setFaults({ slow: 1, slowMs: 60_000 });
fetch(url('health'), { headers })
  .then((r) => r.text())
  .catch(ignore);
// Until every request above has reached the emulator (each is counted on arrival).
const arrived = () => ['status-sync', 'runsync', 'health'].every((op) => (emu.stats.requests[op] ?? 0) >= 1);
while (!arrived()) await new Promise((r) => setImmediate(r));
await emu.close();
console.log('closed');
