/**
 * Planned /status polls (no /status-sync long polls) against the emulator over real HTTP, with the real store:
 * counted facts only (status calls, long polls, rows), no timings. The targets themselves are checked in simulated
 * time (test/unit/poll-plan.test.ts) and measured in bench/polling.mjs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/index.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();

describe('planned /status polls (longPoll: false)', () => {
  it('follows 240 jobs on 8 workers to the end with few status calls per job and no long poll', async () => {
    const e = await startEmulator({ workers: 8, executionMs: 250 });
    const r = await runBatch({
      input: writeJsonl(dir, 'planned.jsonl', 240),
      endpoint: 'test-endpoint',
      apiKey: 'test-key',
      baseUrl: e.baseUrl,
      longPoll: false,
    });
    expect(r.exitCode).toBe(0);
    expect(e.stats.jobsCreated).toBe(240);
    expect(e.stats.requests['status-sync'] ?? 0).toBe(0);
    const calls = e.stats.requests.status ?? 0;
    // Each job needs one answer that says it ended; the plan spends a few scouts before the first job ends, and
    // a poll now and then that comes early. #11's target is 1.5, checked in simulated time (poll-plan.test.ts); in
    // real time on a loaded 2-core machine timers fire late and jobs run long, so this only bounds it loosely.
    expect(calls).toBeGreaterThanOrEqual(240);
    expect(calls / 240).toBeLessThanOrEqual(3);
    const stats = JSON.parse(readFileSync(join(r.outDir, 'stats.json'), 'utf8')) as { requests: Record<string, { requests: number }> };
    expect(stats.requests.status!.requests).toBe(calls);
  });
});
