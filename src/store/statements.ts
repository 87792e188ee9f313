import type Database from 'better-sqlite3';

type Stmt = Database.Statement;

/** The store's prepared statements (all `Database.Statement`; the job-id log's are null in an older state opened read-only). */
export interface Statements {
  logSubmit: Stmt | null;
  logged: Stmt | null;
  unlog: Stmt | null;
  logCount: Stmt | null;
  countsLogged: Stmt | null;
  getMeta: Stmt;
  setMeta: Stmt;
  lookup: Stmt;
  lineOf: Stmt;
  olderThan: Stmt;
  insertRow: Stmt;
  touchRow: Stmt;
  resetRow: Stmt;
  pendingPage: Stmt;
  submitted: Stmt;
  markSubmitted: Stmt;
  insertJob: Stmt;
  terminalRow: Stmt;
  terminalJob: Stmt;
  requeue: Stmt;
  jobStatus: Stmt;
  rowFailed: Stmt;
  resetUnfinished: Stmt;
  counts: Stmt;
  allRows: Stmt;
  jobOutcomes: Stmt;
  jobTimeline: Stmt;
  summaryRows: Stmt;
  addSample: Stmt;
  samples: Stmt;
  addOp: Stmt;
  ops: Stmt;
  startRun: Stmt;
  lastRun: Stmt;
  runCount: Stmt;
  heartbeat: Stmt;
  /** Null in a state of schema 2 opened read-only (no outcome column; it never ends a run). */
  endRun: Stmt | null;
  lastRunRow: Stmt;
  billed: Stmt;
  wall: Stmt;
  runSpan: Stmt;
  /** The media index (schema 4); null in an older state opened read-only. */
  insertMedia: Stmt | null;
  forgetRowMedia: Stmt | null;
  hasMedia: Stmt | null;
  mediaOfRow: Stmt | null;
  mediaTotals: Stmt | null;
}

/**
 * Every statement of the store, prepared once when the state is opened. The SQL of a batch lives here and in
 * schema.ts, nowhere else.
 */
export function prepareStatements(db: Database.Database, logged: boolean, outcomes: boolean, workers: boolean, media: boolean): Statements {
  return {
    insertMedia: media
      ? db.prepare(
          `INSERT OR REPLACE INTO media (path, row_key, job_id, bytes, type, sha256) VALUES (@path, @key, @jobId, @bytes, @type, @sha256)`,
        )
      : null,
    forgetRowMedia: media ? db.prepare(`DELETE FROM media WHERE row_key = ?`) : null,
    hasMedia: media ? db.prepare(`SELECT 1 FROM media WHERE path = ?`).pluck() : null,
    mediaOfRow: media ? db.prepare(`SELECT path, bytes, type, sha256 FROM media WHERE row_key = ? ORDER BY path`) : null,
    mediaTotals: media ? db.prepare(`SELECT count(*) AS files, COALESCE(SUM(bytes), 0) AS bytes FROM media`) : null,
    // The job-id log (schema 2): absent from an older state opened read-only.
    logSubmit: logged
      ? db.prepare(
          `INSERT INTO submits (row_key, job_id, attempt, submitted_at, status) VALUES (@key, @jobId, @attempt, @submittedAt, @status)`,
        )
      : null,
    logged: logged
      ? db.prepare(`SELECT row_key AS key, job_id AS jobId, attempt, submitted_at AS submittedAt, status, n FROM submits ORDER BY n`)
      : null,
    unlog: logged ? db.prepare(`DELETE FROM submits WHERE n <= ?`) : null,
    logCount: logged ? db.prepare(`SELECT count(*) FROM submits`).pluck() : null,
    countsLogged: logged
      ? db.prepare(
          `SELECT CASE WHEN key IN (SELECT row_key FROM submits) THEN 'SUBMITTED' ELSE state END AS state, count(*) AS n
             FROM rows WHERE gen = ? GROUP BY 1`,
        )
      : null,
    getMeta: db.prepare(`SELECT value FROM meta WHERE key = ?`).pluck(),
    setMeta: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    lookup: db.prepare(`SELECT hash, gen FROM rows WHERE key = ?`),
    lineOf: db.prepare(`SELECT line FROM rows WHERE key = ?`).pluck(),
    olderThan: db.prepare(`SELECT count(*) FROM rows WHERE gen < ?`).pluck(),
    insertRow: db.prepare(
      `INSERT INTO rows (key, id_json, seq, line, gen, hash, body, input_only)
       VALUES (@key, @idJson, @seq, @line, @gen, @hash, @body, @inputOnly)`,
    ),
    touchRow: db.prepare(`UPDATE rows SET seq = @seq, line = @line, gen = @gen, id_json = @idJson WHERE key = @key`),
    resetRow: db.prepare(
      `UPDATE rows SET id_json = @idJson, seq = @seq, line = @line, gen = @gen, hash = @hash, body = @body,
         input_only = @inputOnly, state = 'PENDING',
         job_id = NULL, job_status = NULL, attempts = 0, failures = 0, lost = 0, expired = 0, submitted_at = NULL,
         finished_at = NULL, delay_time = NULL, execution_time = NULL, e2e_ms = NULL, output = NULL, error = NULL,
         error_code = NULL
       WHERE key = @key`,
    ),
    pendingPage: db.prepare(
      `SELECT key, seq, body AS bodyJson, attempts, failures, job_id AS jobId, submitted_at AS submittedAt
         FROM rows WHERE state = 'PENDING' AND gen = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    submitted: db.prepare(
      `SELECT key, seq, body AS bodyJson, attempts, failures, job_id AS jobId, submitted_at AS submittedAt
         FROM rows WHERE state = 'SUBMITTED' AND gen = ? ORDER BY seq`,
    ),
    markSubmitted: db.prepare(
      `UPDATE rows SET state = 'SUBMITTED', job_id = @jobId, job_status = @status, attempts = @attempt,
         submitted_at = @submittedAt WHERE key = @key`,
    ),
    insertJob: db.prepare(
      `INSERT OR REPLACE INTO jobs (job_id, row_key, attempt, submitted_at, status) VALUES (@jobId, @key, @attempt, @submittedAt, @status)`,
    ),
    terminalRow: db.prepare(
      `UPDATE rows SET state = @status, job_status = @status, finished_at = @finishedAt, e2e_ms = @e2eMs,
         delay_time = @delayTime, execution_time = @executionTime, output = @output, error = @error, error_code = @errorCode
       WHERE key = @key AND job_id = @jobId`,
    ),
    terminalJob: db.prepare(
      `UPDATE jobs SET status = @jobStatus, finished_at = @finishedAt, delay_time = @delayTime, execution_time = @executionTime,
         error = @error${workers ? ', worker_id = @workerId' : ''} WHERE job_id = @jobId`,
    ),
    requeue: db.prepare(
      `UPDATE rows SET state = 'PENDING', job_id = NULL, job_status = NULL, lost = lost + @lost, expired = expired + @expired,
         failures = failures + @failed, error = COALESCE(@error, error), error_code = COALESCE(@code, error_code),
         delay_time = @delayTime, execution_time = @executionTime
       WHERE key = @key AND job_id = @jobId`,
    ),
    jobStatus: db.prepare(
      `UPDATE jobs SET status = @status, finished_at = @finishedAt, delay_time = COALESCE(@delayTime, delay_time),
         execution_time = COALESCE(@executionTime, execution_time), error = @error${workers ? ', worker_id = COALESCE(@workerId, worker_id)' : ''}
       WHERE job_id = @jobId`,
    ),
    rowFailed: db.prepare(
      `UPDATE rows SET state = @status, job_id = NULL, job_status = NULL, error = @error, error_code = @code,
         finished_at = @finishedAt WHERE key = @key`,
    ),
    // `runpod-batch retry`: rows that did not complete go back to PENDING with a fresh retry budget.
    resetUnfinished: db.prepare(
      `UPDATE rows SET state = 'PENDING', failures = 0, job_id = NULL, job_status = NULL
       WHERE gen = ? AND state IN ('FAILED', 'TIMED_OUT', 'CANCELLED')`,
    ),
    counts: db.prepare(`SELECT state, count(*) AS n FROM rows WHERE gen = ? GROUP BY state`),
    // Read as arrays (decoders.ts): the column order is the one storedRows reads.
    allRows: db
      .prepare(
        `SELECT key, id_json, seq, line, body, input_only, state, job_id, job_status, attempts, failures, lost, expired,
           submitted_at, finished_at, delay_time, execution_time, e2e_ms, output, error, error_code
         FROM rows WHERE gen = ? ORDER BY seq`,
      )
      .raw(),
    jobOutcomes: db.prepare(`SELECT status, delay_time AS delayTime, execution_time AS executionTime FROM jobs`),
    jobTimeline: db.prepare(
      `SELECT status, submitted_at AS submittedAt, finished_at AS finishedAt, delay_time AS delayTime,
         execution_time AS executionTime, error, ${workers ? 'worker_id' : 'NULL'} AS workerId FROM jobs`,
    ),
    // Read as arrays, in the column order summaryRowsOf reads.
    summaryRows: db
      .prepare(
        `SELECT id_json, line, state, job_status, attempts, delay_time, execution_time, e2e_ms, error
         FROM rows WHERE gen = ? ORDER BY seq`,
      )
      .raw(),
    addSample: db.prepare(
      `INSERT INTO samples (run_id, t, in_flight, submitted, completed, failed, rate_limited, retries)
       VALUES (@runId, @t, @inFlight, @submitted, @completed, @failed, @rateLimited, @retries)`,
    ),
    samples: db.prepare(
      `SELECT run_id AS runId, t, in_flight AS inFlight, submitted, completed, failed, rate_limited AS rateLimited, retries
       FROM samples ORDER BY t`,
    ),
    addOp: db.prepare(
      `INSERT INTO ops (op, requests, rate_limited, retries, errors) VALUES (@op, @requests, @rateLimited, @retries, @errors)
       ON CONFLICT (op) DO UPDATE SET requests = requests + excluded.requests, rate_limited = rate_limited + excluded.rate_limited,
         retries = retries + excluded.retries, errors = errors + excluded.errors`,
    ),
    ops: db.prepare(`SELECT op, requests, rate_limited AS rateLimited, retries, errors FROM ops`),
    startRun: db.prepare(`INSERT INTO runs (started_at) VALUES (?)`),
    lastRun: db.prepare(`SELECT max(id) FROM runs`).pluck(),
    runCount: db.prepare(`SELECT count(*) FROM runs`).pluck(),
    heartbeat: db.prepare(`UPDATE runs SET ended_at = ? WHERE id = ?`),
    endRun: outcomes ? db.prepare(`UPDATE runs SET ended_at = ?, exit_code = ?, submitted = ?, outcome = ? WHERE id = ?`) : null,
    // `*`: a state of schema 2 opened read-only has no outcome column.
    lastRunRow: db.prepare(`SELECT * FROM runs ORDER BY id DESC LIMIT 1`),
    // billed_seconds() is core/billing.ts's rule, registered on the connection (store.ts): the rule is written once.
    billed: db.prepare(
      `SELECT COALESCE(SUM(billed_seconds(execution_time)), 0) AS seconds, COUNT(*) AS jobs FROM jobs WHERE execution_time > 0`,
    ),
    wall: db.prepare(`SELECT COALESCE(SUM(COALESCE(ended_at, started_at) - started_at), 0) FROM runs`).pluck(),
    runSpan: db.prepare(`SELECT min(started_at) AS first, max(COALESCE(ended_at, started_at)) AS last FROM runs`),
  };
}
