import type Database from 'better-sqlite3';
import { StateError } from '../core/errors.js';

/** Marks a state file as ours, so a foreign SQLite file is refused instead of written into. */
export const APP_ID = 'runpod-batch';
export const SCHEMA_VERSION = 4;

const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rows (
  key            TEXT PRIMARY KEY,
  id_json        TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  line           INTEGER NOT NULL,
  gen            INTEGER NOT NULL,
  hash           TEXT NOT NULL,
  body           TEXT NOT NULL,
  -- 1 when the body is exactly {"input": …}: its input's JSON is then body[9:-1], with no parse needed.
  input_only     INTEGER NOT NULL DEFAULT 0,
  state          TEXT NOT NULL DEFAULT 'PENDING',
  job_id         TEXT,
  job_status     TEXT,
  attempts       INTEGER NOT NULL DEFAULT 0,
  failures       INTEGER NOT NULL DEFAULT 0,
  lost           INTEGER NOT NULL DEFAULT 0,
  expired        INTEGER NOT NULL DEFAULT 0,
  submitted_at   INTEGER,
  finished_at    INTEGER,
  delay_time     INTEGER,
  execution_time INTEGER,
  e2e_ms         INTEGER,
  output         TEXT,
  error          TEXT,
  error_code     TEXT
);
CREATE INDEX rows_gen_seq ON rows (gen, seq);
-- Partial: a row leaves it when submitted and a job's status changes never touch it, so the commit of a job id
-- (one per /run answer) writes as few pages as possible.
CREATE INDEX rows_pending ON rows (gen, seq) WHERE state = 'PENDING';
CREATE TABLE jobs (
  job_id         TEXT PRIMARY KEY,
  row_key        TEXT NOT NULL,
  attempt        INTEGER NOT NULL,
  submitted_at   INTEGER NOT NULL,
  finished_at    INTEGER,
  status         TEXT NOT NULL,
  delay_time     INTEGER,
  execution_time INTEGER,
  error          TEXT
) WITHOUT ROWID;
CREATE TABLE samples (
  run_id       INTEGER NOT NULL,
  t            INTEGER NOT NULL,
  in_flight    INTEGER NOT NULL,
  submitted    INTEGER NOT NULL,
  completed    INTEGER NOT NULL,
  failed       INTEGER NOT NULL,
  rate_limited INTEGER NOT NULL,
  retries      INTEGER NOT NULL
);
CREATE TABLE ops (
  op           TEXT PRIMARY KEY,
  requests     INTEGER NOT NULL DEFAULT 0,
  rate_limited INTEGER NOT NULL DEFAULT 0,
  retries      INTEGER NOT NULL DEFAULT 0,
  errors       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE runs (
  id         INTEGER PRIMARY KEY,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  exit_code  INTEGER,
  submitted  INTEGER NOT NULL DEFAULT 0
);
`;

/**
 * V2: the job-id log. Each answer to /run is one INSERT here, committed at once: an append to the table's last page,
 * the cheapest commit SQLite has. The rows and jobs tables catch up in grouped transactions that delete the entries
 * they apply (Store.flush); an entry still here when a state is opened is a job id whose row was not yet updated.
 */
const V2 = `
CREATE TABLE submits (
  n            INTEGER PRIMARY KEY,
  row_key      TEXT NOT NULL,
  job_id       TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  submitted_at INTEGER NOT NULL,
  status       TEXT NOT NULL
);
`;

/**
 * V3: why each run stopped (core/records.ts RunStop as JSON), so the next step named after it is the right one; and
 * the worker each job ran on (RunPod's workerId), from which the report tells cold starts from queue wait.
 */
const V3_RUNS = `ALTER TABLE runs ADD COLUMN outcome TEXT;`;
const V3_JOBS = `ALTER TABLE jobs ADD COLUMN worker_id TEXT;`;

/**
 * V4: the index of media files (output/media.ts). One row per file under `<out>/media/` that a committed output
 * refers to, written in the same transaction as that output; a file in the folder that is not here is an orphan (a
 * run killed between writing a file and committing its row) and the next run removes it.
 */
const V4 = `
CREATE TABLE media (
  path    TEXT PRIMARY KEY,
  row_key TEXT NOT NULL,
  job_id  TEXT NOT NULL,
  bytes   INTEGER NOT NULL,
  type    TEXT NOT NULL,
  sha256  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_row ON media (row_key);
`;

/** Creates or checks the schema (PRAGMA user_version); refuses files that are not ours or from a newer version. */
export function migrate(db: Database.Database, path: string, readonly = false): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
  if (version === 0 && readonly) throw new StateError(`${path} holds no runpod-batch state`);
  if (version === 0) {
    if (tables.length > 0)
      throw new StateError(`${path} is an SQLite file of another program (not a runpod-batch state file); use another --out`);
    db.transaction(() => {
      db.exec(V1);
      db.exec(V2);
      db.exec(V3_RUNS);
      db.exec(V3_JOBS);
      db.exec(V4);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('app', ?)`).run(JSON.stringify(APP_ID));
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return;
  }
  const app = tables.some((t) => t.name === 'meta')
    ? (db.prepare(`SELECT value FROM meta WHERE key = 'app'`).get() as { value: string } | undefined)
    : undefined;
  if (!app || app.value !== JSON.stringify(APP_ID)) {
    throw new StateError(`${path} is not a runpod-batch state file; use another --out`);
  }
  if (version > SCHEMA_VERSION) {
    throw new StateError(`${path} was written by a newer runpod-batch (schema ${version}, this one knows ${SCHEMA_VERSION}); upgrade`);
  }
  if (version < SCHEMA_VERSION) {
    // A state of an earlier version can be read as it is (V2 adds the log, V3 columns, V4 the media index), and is
    // upgraded when written.
    if (readonly) return;
    db.transaction(() => {
      if (version < 2) db.exec(V2);
      if (!hasRunOutcomes(db)) db.exec(V3_RUNS);
      if (!hasJobWorkers(db)) db.exec(V3_JOBS);
      if (!hasMediaIndex(db)) db.exec(V4);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
}

/** The state's runs keep their outcome (schema 3 or later). */
export function hasRunOutcomes(db: Database.Database): boolean {
  return (db.pragma('table_info(runs)') as { name: string }[]).some((c) => c.name === 'outcome');
}

/** The state's jobs keep their worker id (schema 3 or later). */
export function hasJobWorkers(db: Database.Database): boolean {
  return (db.pragma('table_info(jobs)') as { name: string }[]).some((c) => c.name === 'worker_id');
}

/** The state has the index of media files (schema 4 or later). */
export function hasMediaIndex(db: Database.Database): boolean {
  return db.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'media'`).pluck().get() === 1;
}

/** The state has the job-id log (schema 2 or later). */
export function hasSubmitLog(db: Database.Database): boolean {
  return db.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'submits'`).pluck().get() === 1;
}
