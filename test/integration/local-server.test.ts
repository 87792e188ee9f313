import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run.js';
import type { Emulator, EmulatorOptions } from '../../src/emulator/index.js';
import { type ResultLine, readResults, readStats } from '../support/results.js';
import { runCli } from '../support/cli.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();
let emu: Emulator | undefined;
let n = 0;

async function local(o: EmulatorOptions = {}) {
  emu = await startEmulator({ dialect: 'local', executionMs: 20, ...o });
  return emu;
}

/** No --endpoint: the base URL is the endpoint, no API key needed. */
async function rehearse(e: Emulator, rows: number, make?: (i: number) => unknown, extra: Record<string, unknown> = {}) {
  const input = writeJsonl(dir, `l${++n}.jsonl`, rows, make);
  const out = join(dir, `l${n}.out`);
  const r = await runBatch({ input, out, baseUrl: e.baseUrl, apiKey: null, ...extra });
  return { r, out };
}

describe("runpod-python's local test server (runpod-batch run --base-url http://localhost:8000, no --endpoint)", () => {
  it('echo outputs through status by POST, with client-measured timings and none invented', async () => {
    const e = await local();
    const { r, out } = await rehearse(e, 8);
    expect(r.exitCode, r.message).toBe(0);
    const res = readResults(out);
    expect(res.map((x) => x.output)).toEqual(res.map((x) => ({ echo: x.input })));
    expect(res.every((x) => x.delayTime === null && x.executionTime === null)).toBe(true);
    expect(res.every((x) => typeof x.endToEndMs === 'number' && (x.endToEndMs as number) >= 0)).toBe(true);
    const stats = readStats(out);
    expect(stats.timingsMissing).toBe(8);
    expect(stats.latencyMs.execution).toBeNull();
    expect(stats.latencyMs.endToEnd?.count).toBe(8);
    expect(e.stats.requests.status).toBeGreaterThanOrEqual(8); // one 405 GET, then POSTs
  });

  it('a raising handler, {"error": …}, and None: FAILED with the error, FAILED with the message, FAILED as an empty output', async () => {
    const e = await local({
      handler: (input) => {
        const k = (input as { n: number }).n;
        if (k === 1) throw new ValueError('bad prompt');
        if (k === 2) return { error: 'quota exceeded' };
        if (k === 3) return null;
        return { ok: k };
      },
    });
    const { r, out } = await rehearse(e, 4, undefined, { retries: 0 });
    expect(r.exitCode).toBe(2);
    const res = readResults(out);
    expect(res).toHaveLength(4);
    const [a, b, c, d] = res as [ResultLine, ResultLine, ResultLine, ResultLine];
    expect(a.status).toBe('FAILED');
    expect(a.error).toMatchObject({ error_type: 'ValueError', error_message: 'bad prompt' });
    expect(b).toMatchObject({ status: 'FAILED', error: 'quota exceeded' });
    // A COMPLETED job without its output is not a success (the output checks) — unless the handler means it.
    expect(c.status).toBe('FAILED');
    expect(String(c.error)).toMatch(/^empty output: the job COMPLETED with no output/);
    expect(c).not.toHaveProperty('output');
    expect(d).toMatchObject({ status: 'COMPLETED', output: { ok: 4 } });
    const accepted = await rehearse(e, 4, undefined, { retries: 0, acceptEmptyOutput: true });
    const c2 = readResults(accepted.out)[2]!;
    expect(c2.status).toBe('COMPLETED');
    expect(c2).not.toHaveProperty('output');
  });

  it('slow handlers: a status call lasting longer than the client timeout is awaited, never re-polled', async () => {
    const e = await local({ executionMs: 1200 });
    const { r, out } = await rehearse(e, 3, undefined, { timeoutMs: 300 });
    expect(r.exitCode, r.message).toBe(0);
    expect(readResults(out).every((x) => x.status === 'COMPLETED')).toBe(true);
    // one job at a time on that server: three jobs take at least 3.6 s, and no status call answered "Job ID not found"
    expect(readResults(out).every((x) => x.attempts === 1)).toBe(true);
  });

  it('a non-object input: the row FAILS with the server 422 message, the batch goes on', async () => {
    const e = await local();
    const { r, out } = await rehearse(e, 3, (i) => (i === 2 ? { id: `r${i}`, input: 'just a string' } : { id: `r${i}`, input: { n: i } }));
    expect(r.exitCode).toBe(2);
    const res = readResults(out);
    expect(res.map((x) => x.status)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);
    expect(JSON.stringify(res[1]!.error)).toMatch(/422/);
    expect(e.stats.jobsCreated).toBe(2);
  });

  it('--limit runs only the first N rows, from the CLI without an API key', async () => {
    const e = await local();
    const input = writeJsonl(dir, 'limit.jsonl', 50);
    const out = join(dir, 'limit.out');
    const c = await runCli(['run', input, '--base-url', e.baseUrl, '--limit', '5', '--out', out, '--no-progress']);
    expect(c.code, c.stderr).toBe(0);
    expect(readResults(out).map((x) => x.id)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(c.stdout).toMatch(/5 rows without RunPod timings/);
  });
});

describe('"Job ID not found" after a lost status answer', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('is a lost job: the row runs again instead of failing', async () => {
    // A local-dialect server whose first status answer for every job is lost (socket destroyed after the job ran);
    // asked again, it says "Job ID not found", as runpod-python's does once a job was answered.
    let next = 0;
    const answered = new Set<string>();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const json = (o: unknown) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(o));
        };
        if (req.url === '/run') return json({ id: `test-${++next}`, status: 'IN_PROGRESS' });
        const id = req.url!.split('/').pop()!;
        if (req.method === 'GET') {
          res.writeHead(405, { 'content-type': 'application/json' });
          return res.end('{"detail":"Method Not Allowed"}');
        }
        if (answered.has(id)) return json({ id, status: 'FAILED', error: 'Job ID not found' });
        answered.add(id);
        if (Number(id.slice(5)) % 2 === 1) return req.socket.destroy(); // the first attempt's answer is lost
        return json({ id, status: 'COMPLETED', output: { ran: id } });
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const input = writeJsonl(dir, 'lostlocal.jsonl', 1);
    const out = join(dir, 'lostlocal.out');
    const r = await runBatch({ input, out, baseUrl: base, apiKey: null });
    expect(r.exitCode, r.message).toBe(0);
    const [row] = readResults(out);
    expect(row?.status).toBe('COMPLETED');
    expect(row?.attempts).toBe(2);
    expect(row?.lost).toBe(1);
  });
});

class ValueError extends Error {
  constructor(m: string) {
    super(m);
    this.name = 'ValueError';
  }
}
