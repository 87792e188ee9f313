import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch, type RunBatchOptions } from '../../src/engine/run-batch.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { StateError } from '../../src/errors.js';
import { acquireLock } from '../../src/store/lock.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const dir = tempDir();
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ workers: 8, executionMs: 5 });
});
afterAll(() => emu.close());
let n = 0;
function setup(rows = 5): RunBatchOptions {
  const out = join(dir, `out-${++n}`);
  mkdirSync(out, { recursive: true });
  return { input: writeJsonl(dir, `in-${n}.jsonl`, rows), out, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: emu.baseUrl };
}

async function stateError(o: RunBatchOptions): Promise<StateError> {
  const err = await runBatch(o).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StateError);
  return err as StateError;
}

describe('unusable state gives a clear error, not a stack trace', () => {
  it('a file that is not SQLite', async () => {
    const o = setup();
    writeFileSync(join(o.out!, 'state.sqlite'), 'this is not a database, just text '.repeat(200));
    const e = await stateError(o);
    expect(e.message).toMatch(/state\.sqlite is corrupt or not an SQLite file.*use another --out/);
  });

  it('a truncated state file', async () => {
    const o = setup(300);
    expect((await runBatch(o)).exitCode).toBe(0);
    const path = join(o.out!, 'state.sqlite');
    // fold the WAL in, then cut the file in half
    const db = new Database(path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const e = await stateError(o);
    expect(e.message).toMatch(/state\.sqlite/);
    expect(e.message).toMatch(/corrupt|malformed/);
  });

  it("another program's SQLite file", async () => {
    const o = setup();
    const db = new Database(join(o.out!, 'state.sqlite'));
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const e = await stateError(o);
    expect(e.message).toMatch(/SQLite file of another program/);
  });

  it('a state from a newer runpod-batch', async () => {
    const o = setup();
    expect((await runBatch(o)).exitCode).toBe(0);
    const db = new Database(join(o.out!, 'state.sqlite'));
    db.pragma('user_version = 99');
    db.close();
    const e = await stateError(o);
    expect(e.message).toMatch(/newer runpod-batch/);
  });

  it('a state holding jobs of another endpoint', async () => {
    const o = setup(20);
    const ac = new AbortController();
    const slow = await startEmulator({ workers: 1, executionMs: 2000, endpoints: ['test-endpoint'] });
    setTimeout(() => ac.abort(), 300);
    await runBatch({ ...o, baseUrl: slow.baseUrl, signal: ac.signal });
    await slow.close();
    const e = await stateError({ ...o, endpoint: 'other-endpoint' });
    expect(e.message).toMatch(/holds jobs of endpoint test-endpoint, not other-endpoint/);
  });
});

describe('one process per --out', () => {
  it('a second run on the same --out refuses to start while the first holds the lock', async () => {
    const o = setup();
    const release = acquireLock(o.out!);
    try {
      const e = await stateError(o);
      expect(e.message).toMatch(new RegExp(`another runpod-batch \\(pid ${process.pid}\\)`));
    } finally {
      release();
    }
    expect((await runBatch(o)).exitCode).toBe(0);
  });

  it('a lock left behind by a crashed process is taken over', async () => {
    const o = setup();
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    writeFileSync(join(o.out!, 'state.lock'), String(dead));
    const r = await runBatch(o);
    expect(r.exitCode).toBe(0);
    expect(() => readFileSync(join(o.out!, 'state.lock'))).toThrow(); // released at the end
  });
});
