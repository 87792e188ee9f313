import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { StateError } from '../../src/core/errors.js';
import { acquireLock } from '../../src/store/lock.js';
import { Store } from '../../src/store/store.js';
import { batchStatus } from '../../src/batch/status.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { abortWhen } from '../support/wait.js';

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

/** Opens a batch's state.sqlite with plain better-sqlite3, runs `fn` on it, and closes it even when `fn` throws. */
function withStateDb<T>(out: string, fn: (db: Database.Database) => T, readonly = false): T {
  const db = new Database(join(out, 'state.sqlite'), { readonly });
  try {
    return fn(db);
  } finally {
    db.close();
  }
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
    withStateDb(o.out!, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const e = await stateError(o);
    expect(e.message).toMatch(/state\.sqlite/);
    expect(e.message).toMatch(/corrupt|malformed/);
  });

  it("another program's SQLite file", async () => {
    const o = setup();
    withStateDb(o.out!, (db) => db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)'));
    const e = await stateError(o);
    expect(e.message).toMatch(/SQLite file of another program/);
  });

  it('a state from a newer runpod-batch', async () => {
    const o = setup();
    expect((await runBatch(o)).exitCode).toBe(0);
    withStateDb(o.out!, (db) => db.pragma('user_version = 99'));
    const e = await stateError(o);
    expect(e.message).toMatch(/newer runpod-batch/);
  });

  it('a state holding jobs of another endpoint', async () => {
    const o = setup(20);
    const ac = new AbortController();
    const slow = await startEmulator({ workers: 1, executionMs: 2000, endpoints: ['test-endpoint'] });
    abortWhen(ac, () => slow.stats.jobsCreated >= 1, 'a first job on the endpoint');
    expect((await runBatch({ ...o, baseUrl: slow.baseUrl, signal: ac.signal })).exitCode).toBe(130);
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

describe('the job-id log', () => {
  it('job ids logged but not yet written into their rows (a kill between the two commits) are followed, not paid again', async () => {
    const o = setup(12);
    const slow = await startEmulator({ workers: 4, executionMs: 400, endpoints: ['test-endpoint'] });
    try {
      const ac = new AbortController();
      // Interrupted with all 12 jobs running or queued (4 workers, 400 ms each: none has ended yet).
      abortWhen(ac, () => slow.stats.jobsCreated === 12, 'all 12 jobs on the endpoint');
      expect((await runBatch({ ...o, baseUrl: slow.baseUrl, signal: ac.signal })).exitCode).toBe(130);
      // Put the state back as a kill would leave it: the job ids only in the log, the rows still PENDING.
      const k = withStateDb(o.out!, (db) =>
        db.transaction(() => {
          db.exec(`INSERT INTO submits (row_key, job_id, attempt, submitted_at, status)
                     SELECT key, job_id, attempts, submitted_at, job_status FROM rows WHERE state = 'SUBMITTED' ORDER BY seq`);
          db.exec(`DELETE FROM jobs WHERE job_id IN (SELECT job_id FROM submits)`);
          return db
            .prepare(`UPDATE rows SET state = 'PENDING', job_id = NULL, job_status = NULL, submitted_at = NULL, attempts = attempts - 1
                       WHERE state = 'SUBMITTED'`)
            .run().changes;
        })(),
      );
      expect(k).toBe(12); // every job was submitted, none followed to its end
      expect(batchStatus(o.out!).byState.SUBMITTED).toBe(k); // `status` counts logged ids without writing

      const r = await runBatch({ ...o, baseUrl: slow.baseUrl });
      expect(r.exitCode).toBe(0);
      expect(r.stats.rows.completed).toBe(12);
      expect(slow.stats.submissionsByInput.size).toBe(12);
      expect([...slow.stats.submissionsByInput.values()].every((n) => n === 1)).toBe(true);
      withStateDb(
        o.out!,
        (db) => {
          expect(db.prepare('SELECT count(*) FROM submits').pluck().get()).toBe(0);
          expect(db.prepare('SELECT count(*) FROM jobs').pluck().get()).toBe(12);
        },
        true,
      );
    } finally {
      await slow.close();
    }
  });

  it('a state of schema 1 (before the log) is read as it is, and upgraded by the next run', async () => {
    const o = setup(6);
    expect((await runBatch(o)).exitCode).toBe(0);
    withStateDb(o.out!, (db) => {
      db.exec('DROP TABLE submits');
      db.exec('DROP TABLE media');
      db.exec('ALTER TABLE runs DROP COLUMN outcome');
      db.exec('ALTER TABLE jobs DROP COLUMN worker_id');
      db.pragma('user_version = 1');
    });
    const ro = Store.open(o.out!, { readonly: true });
    expect(ro.counts(ro.getMeta('gen')!)).toEqual({ COMPLETED: 6 });
    ro.close();
    expect((await runBatch(o)).exitCode).toBe(0);
    withStateDb(
      o.out!,
      (db) => {
        expect(db.pragma('user_version', { simple: true })).toBe(4);
        expect(db.prepare('SELECT count(*) FROM submits').pluck().get()).toBe(0);
      },
      true,
    );
  });

  it('a state of schema 2 (before runs kept their outcome): read-only, the last stop comes from the exit code; the next run upgrades', async () => {
    const o = setup(6);
    expect((await runBatch(o)).exitCode).toBe(0);
    withStateDb(o.out!, (db) => {
      db.exec('DROP TABLE media');
      db.exec('ALTER TABLE runs DROP COLUMN outcome');
      db.exec('ALTER TABLE jobs DROP COLUMN worker_id');
      db.exec('UPDATE runs SET exit_code = 130');
      db.pragma('user_version = 2');
    });
    const ro = Store.open(o.out!, { readonly: true });
    expect(ro.lastStop()).toEqual({ kind: 'interrupted' });
    const timeline = [...ro.jobTimeline()];
    expect(timeline).toHaveLength(6);
    expect(timeline.every((j) => j.workerId === null)).toBe(true);
    ro.close();
    expect((await runBatch(o)).exitCode).toBe(0);
    const rw = Store.open(o.out!, { readonly: true });
    expect(rw.lastStop()).toEqual({ kind: 'done' });
    // The emulator gives workerIds: jobs of the upgraded state keep them (those of before stay null).
    expect([...rw.jobTimeline()].some((j) => typeof j.workerId === 'string')).toBe(false);
    rw.close();
    withStateDb(o.out!, (db) => expect(db.pragma('user_version', { simple: true })).toBe(4), true);
  });

  it('a state of schema 3 (before the media index): read-only as it is (no media), the next run adds the index', async () => {
    const o = setup(4);
    expect((await runBatch(o)).exitCode).toBe(0);
    withStateDb(o.out!, (db) => db.exec('DROP TABLE media; PRAGMA user_version = 3;'));
    const ro = Store.open(o.out!, { readonly: true });
    expect([ro.counts(ro.getMeta('gen')!), ro.mediaTotals(), ro.hasMedia('media/r1.1.png')]).toEqual([
      { COMPLETED: 4 },
      { files: 0, bytes: 0 },
      false,
    ]);
    ro.close();
    expect((await runBatch(o)).exitCode).toBe(0);
    const after = withStateDb(
      o.out!,
      (db) => [db.pragma('user_version', { simple: true }), db.prepare('SELECT count(*) FROM media').pluck().get()],
      true,
    );
    expect(after).toEqual([4, 0]);
  });
});
