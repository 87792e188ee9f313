/**
 * The official runpod-sdk (npm, 1.1.2) against the emulator: it builds `${baseUrl}/${endpointId}/run`
 * with baseUrl = https://api.runpod.ai/v2 by default, so it is given `emu.baseUrl` (`${url}/v2`).
 * Proves the emulator speaks RunPod's protocol to a client we did not write.
 */
import runpodSdk, { type EndpointOutput } from 'runpod-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { waitFor } from '../support/wait.js';

const open: Emulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

async function sdkFor(o: Parameters<typeof startEmulator>[0] = {}) {
  const emu = await startEmulator({ port: 0, ...o });
  open.push(emu);
  const endpoint = runpodSdk('test-key', { baseUrl: emu.baseUrl }).endpoint('test-endpoint');
  if (!endpoint) throw new Error('runpod-sdk gave no endpoint');
  return { emu, endpoint };
}

/** runpod-sdk adds these to a status answer at run time; its types leave them out. */
type SdkStatus = EndpointOutput & { started?: boolean; completed?: boolean; succeeded?: boolean };

describe('emulator with the official runpod-sdk client', () => {
  it('run, then status until completed', async () => {
    const { emu, endpoint } = await sdkFor({ executionMs: 50 });
    const started = await endpoint.run({ input: { prompt: 'hello' } });
    expect(started).toEqual({ id: expect.stringMatching(/-u1$/), status: 'IN_QUEUE' });
    const s = await waitFor(async () => {
      const a: SdkStatus = await endpoint.status(started.id);
      return a.completed ? a : undefined;
    }, 'runpod-sdk reporting the job completed');
    // runpod-sdk adds started/completed/succeeded to the status answer.
    expect(s).toMatchObject({
      id: started.id,
      status: 'COMPLETED',
      output: { echo: { prompt: 'hello' } },
      started: true,
      completed: true,
      succeeded: true,
    });
    expect('executionTime' in s && s.executionTime).toBe(50);
    expect(s.delayTime).toBe(emu.jobs.get(started.id)?.delayTime);
    expect(emu.stats.requests.run).toBe(1);
  });

  it('statusSync and runSync long-poll to the result', async () => {
    const { endpoint } = await sdkFor({ executionMs: 200 });
    const started = await endpoint.run({ input: { n: 1 } });
    const s: SdkStatus = await endpoint.statusSync(started.id, 5000);
    expect(s).toMatchObject({ status: 'COMPLETED', output: { echo: { n: 1 } }, completed: true });
    const sync: SdkStatus = await endpoint.runSync({ input: { n: 2 } }, 5000);
    expect(sync).toMatchObject({ status: 'COMPLETED', output: { echo: { n: 2 } }, succeeded: true });
  });

  it('cancel a queued job, purge the queue, read health', async () => {
    const { emu, endpoint } = await sdkFor({ workers: 1, executionMs: 5000 });
    const first = await endpoint.run({ input: { j: 1 } });
    const second = await endpoint.run({ input: { j: 2 } });
    const third = await endpoint.run({ input: { j: 3 } });
    await waitFor(() => emu.jobs.get(first.id)?.status === 'IN_PROGRESS', 'j:1 running on the one worker');
    const cancelled = await endpoint.cancel(second.id);
    expect(cancelled).toEqual({ id: second.id, status: 'CANCELLED' });
    const health = await endpoint.health();
    expect(health.jobs).toMatchObject({ inQueue: 1, inProgress: 1, completed: 0 });
    expect(health.workers).toMatchObject({ idle: 0, running: 1 });
    const purged = await endpoint.purgeQueue();
    expect(purged).toMatchObject({ status: 'completed', removed: 1 }); // j:3; j:1 runs
    expect(emu.jobs.get(third.id)?.startedAt).toBeUndefined();
    expect((await endpoint.status(first.id)).status).toBe('IN_PROGRESS');
  });

  it('a wrong key is rejected with 401', async () => {
    const emu = await startEmulator({ port: 0 });
    open.push(emu);
    const endpoint = runpodSdk('wrong-key', { baseUrl: emu.baseUrl }).endpoint('test-endpoint');
    // runpod-sdk's HTTP layer (xior) throws on non-2xx with the response attached.
    await expect(endpoint!.run({ input: {} })).rejects.toMatchObject({ response: { status: 401 } });
    expect(emu.stats.jobsCreated).toBe(0);
  });
});
