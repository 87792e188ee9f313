/**
 * The local dialect: runpod-python 1.12's `--rp_serve_api` dev server, as the engine meets it
 * (routes at the root, POST-only /status that runs the handler, one request at a time).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { call } from '../support/http.js';
import { waitFor } from '../support/wait.js';

const open: Emulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function local(o: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ port: 0, dialect: 'local', executionMs: 0, ...o });
  open.push(emu);
  return emu;
}

describe('emulator (local dialect)', () => {
  it('/run stores the job without running it; the first POST /status runs it; the second says "Job ID not found"', async () => {
    let calls = 0;
    const emu = await local({
      handler: (input) => {
        calls++;
        return { echo: input };
      },
    });
    expect(emu.baseUrl).toBe(emu.url);
    const r = await call('POST', `${emu.url}/run`, { json: { input: { x: 1 } } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^test-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      status: 'IN_PROGRESS',
    });
    expect(calls).toBe(0);

    const viaGet = await call('GET', `${emu.url}/status/${r.body.id}`);
    expect(viaGet.status).toBe(405);
    expect(viaGet.body).toEqual({ detail: 'Method Not Allowed' });
    expect(calls).toBe(0);

    const first = await call('POST', `${emu.url}/status/${r.body.id}`);
    expect(first.status).toBe(200);
    // No delayTime, executionTime or workerId on the dev server.
    expect(first.body).toEqual({ id: r.body.id, status: 'COMPLETED', output: { echo: { x: 1 } } });
    expect(calls).toBe(1);

    const second = await call('POST', `${emu.url}/status/${r.body.id}`);
    expect(second.body).toEqual({ id: r.body.id, status: 'FAILED', error: 'Job ID not found' });
    const unknown = await call('POST', `${emu.url}/status/test-nope`);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ id: 'test-nope', status: 'FAILED', error: 'Job ID not found' });
    expect(calls).toBe(1);
  });

  it('maps handler failures: thrown error → JSON error string, {error} → that string, null → no output key', async () => {
    const emu = await local({
      handler: (input) => {
        const { kind } = input as { kind: string };
        if (kind === 'throw') throw new RangeError('out of range');
        if (kind === 'error') return { error: 'msg' };
        return null;
      },
    });
    const statusOf = async (kind: string) => {
      const r = await call('POST', `${emu.url}/run`, { json: { input: { kind } } });
      return (await call('POST', `${emu.url}/status/${r.body.id}`)).body;
    };
    const thrown = await statusOf('throw');
    expect(thrown.status).toBe('FAILED');
    expect(JSON.parse(thrown.error)).toMatchObject({
      error_type: 'RangeError',
      error_message: 'out of range',
      error_traceback: expect.stringContaining('out of range'),
    });
    expect(await statusOf('error')).toEqual({ id: expect.any(String), status: 'FAILED', error: 'msg' });
    const none = await statusOf('none');
    expect(none).toEqual({ id: expect.any(String), status: 'COMPLETED' });
  });

  it('/runsync runs the handler and answers the result', async () => {
    const emu = await local({ executionMs: 100 });
    const t0 = Date.now();
    const r = await call('POST', `${emu.url}/runsync`, { json: { input: { s: 'y' } } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(r.body).toEqual({ id: expect.stringMatching(/^test-/), status: 'COMPLETED', output: { echo: { s: 'y' } } });
  });

  it('422 with pydantic details for a non-object input, a missing input, or a body that is not JSON', async () => {
    const emu = await local();
    for (const raw of [JSON.stringify({ input: 'text' }), JSON.stringify({ input: [1] }), JSON.stringify({ prompt: 1 }), '{oops']) {
      const a = await call('POST', `${emu.url}/run`, { raw });
      expect(a.status).toBe(422);
      expect(a.body.detail).toEqual([{ loc: ['body', 'input'], msg: expect.any(String), type: expect.any(String) }]);
    }
    expect((await call('POST', `${emu.url}/runsync`, { json: { input: null } })).status).toBe(422);
    expect(emu.stats.jobsCreated).toBe(0);
  });

  it('404 {"detail": "Not Found"} for cloud-only routes; Authorization is ignored', async () => {
    const emu = await local();
    for (const [method, path] of [
      ['POST', '/cancel/x'],
      ['GET', '/health'],
      ['POST', '/purge-queue'],
      ['POST', '/retry/x'],
      ['POST', '/v2/test-endpoint/run'],
      ['GET', '/v2/test-endpoint/status/x'],
    ] as const) {
      const a = await call(method, `${emu.url}${path}`);
      expect(a.status, path).toBe(404);
      expect(a.body).toEqual({ detail: 'Not Found' });
    }
    expect((await call('GET', `${emu.url}/run`)).status).toBe(405);
    const wrongKey = await call('POST', `${emu.url}/run`, { key: 'whatever', json: { input: {} } });
    expect(wrongKey.status).toBe(200);
    const noKey = await call('POST', `${emu.url}/run`, { key: null, json: { input: {} } });
    expect(noKey.status).toBe(200);
  });

  it('serves one request at a time: three parallel 300 ms jobs run one after another, and a /run waits behind a handler', async () => {
    const emu = await local({ executionMs: 300 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call('POST', `${emu.url}/run`, { json: { input: { i } } })).body.id);
    const answered: string[] = [];
    const statuses = ids.map((id, i) =>
      call('POST', `${emu.url}/status/${id}`).then((a) => {
        answered.push(`status ${i}`);
        return a;
      }),
    );
    const started = () => ids.filter((id) => emu.jobs.get(id)?.startedAt !== undefined).length;
    await waitFor(() => started() >= 1, 'a first handler running');
    expect(started()).toBe(1);
    const runWhileBusy = call('POST', `${emu.url}/run`, { json: { input: { late: true } } }).then((a) => {
      answered.push('run');
      return a;
    });
    const answers = await Promise.all(statuses);
    expect(answers.map((a) => a.body.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    // One at a time: each job started when the one before it had ended, and ran its 300 ms.
    const runs = ids.map((id) => emu.jobs.get(id)).sort((a, b) => (a?.startedAt ?? 0) - (b?.startedAt ?? 0));
    for (const [i, j] of runs.entries()) {
      expect(j?.finishedAt, `job ${i}`).toBeDefined();
      expect((j?.finishedAt ?? 0) - (j?.startedAt ?? 0)).toBeGreaterThanOrEqual(299);
      if (i > 0) expect(j?.startedAt).toBeGreaterThanOrEqual(runs[i - 1]?.finishedAt ?? Number.POSITIVE_INFINITY);
    }
    // The /run arrived while the first handler ran: it was served after that handler, not between.
    const late = await runWhileBusy;
    expect(late.status).toBe(200);
    expect(emu.jobs.get(late.body.id)?.createdAt).toBeGreaterThanOrEqual(runs[0]?.finishedAt ?? Number.POSITIVE_INFINITY);
    expect(answered[0]).toMatch(/^status /);
  });

  it('HTTP faults apply to the local dialect too', async () => {
    const emu = await local({ faults: { http500: 1 } });
    const a = await call('POST', `${emu.url}/run`, { json: { input: {} } });
    expect(a.status).toBe(500);
    expect(emu.stats.jobsCreated).toBe(0);
    emu.setFaults({ rateLimits: { run: { limit: 1, windowMs: 60_000, retryAfter: true } } });
    expect((await call('POST', `${emu.url}/run`, { json: { input: {} } })).status).toBe(200);
    const limited = await call('POST', `${emu.url}/run`, { json: { input: {} } });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
  });
});
