import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import type { InputRow } from '../input/types.js';
import { hasSubmitLog, migrate, type RowState } from './schema.js';

export type { RowState } from './schema.js';

/** A row the scheduler may submit or follow. */
export interface WorkRow {
  key: string;
  seq: number;
  bodyJson: string;
  attempts: number;
  failures: number;
  jobId: string | null;
  submittedAt: number | null;
}

/** A row as the writers and reports see it. */
export interface StoredRow {
  key: string;
  idJson: string;
  seq: number;
  line: number;
  body: string;
  /** 1: body is exactly {"input": …}. */
  inputOnly: number;
  state: RowState;
  jobId: string | null;
  jobStatus: string | null;
  attempts: number;
  failures: number;
  lost: number;
  expired: number;
  submittedAt: number | null;
  finishedAt: number | null;
  delayTime: number | null;
  executionTime: number | null;
  e2eMs: number | null;
  output: string | null;
  error: string | null;
  errorCode: string | null;
}

export type SummaryRow = Pick<
  StoredRow,
  'idJson' | 'line' | 'state' | 'jobStatus' | 'attempts' | 'delayTime' | 'executionTime' | 'e2eMs' | 'error'
>;

export interface StoredJob {
  jobId: string;
  rowKey: string;
  attempt: number;
  submittedAt: number;
  finishedAt: number | null;
  status: string;
  delayTime: number | null;
  executionTime: number | null;
  error: string | null;
}

/** A progress sample, taken about every second of a run: what the report's time charts are drawn from. */
export interface Sample {
  runId: number;
  t: number;
  inFlight: number;
  /** Cumulative within the run. */
  submitted: number;
  completed: number;
  failed: number;
  rateLimited: number;
  retries: number;
}

export interface Terminal {
  key: string;
  jobId: string;
  status: string;
  finishedAt: number;
  e2eMs: number;
  delayTime: number | null;
  executionTime: number | null;
  /** JSON text of the output, when COMPLETED with one. */
  output: string | null;
  error: string | null;
}

export type IngestOutcome = 'new' | 'changed' | 'same' | 'duplicate';

export interface OpDelta {
  requests?: number;
  rateLimited?: number;
  retries?: number;
  errors?: number;
}

const STATE_FILE = 'state.sqlite';

interface Submitted {
  key: string;
  jobId: string;
  attempt: number;
  submittedAt: number;
  status: string;
}

/** A write waiting for the next group commit: a logged job id to apply to rows/jobs, or a terminal status. */
type PendingOp = { submit: Submitted; n: number } | { terminal: Terminal };

/** Group commits come this often at most (ms), or sooner when this many writes wait. */
const FLUSH_MS = 100;
const FLUSH_OPS = 512;

/**
 * The SQLite checkpoint: the single source of truth of a batch. WAL with synchronous=NORMAL: a commit survives a
 * process kill (it is in the WAL file) without an fsync per row. Statements are prepared once.
 */
export class Store {
  readonly path: string;
  readonly db: Database.Database;
  private readonly st;
  private pending: PendingOp[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly applyTx: (ops: PendingOp[]) => void;
  /** The state has the job-id log (written states always do; an older one opened read-only may not). */
  private readonly logged: boolean;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    this.logged = hasSubmitLog(db);
    const logged = this.logged;
    this.st = {
      // The job-id log (schema 2): absent from an older state opened read-only.
      logSubmit: logged
        ? db.prepare(`INSERT INTO submits (row_key, job_id, attempt, submitted_at, status) VALUES (@key, @jobId, @attempt, @submittedAt, @status)`)
        : null,
      logged: logged ? db.prepare(`SELECT row_key AS key, job_id AS jobId, attempt, submitted_at AS submittedAt, status, n FROM submits ORDER BY n`) : null,
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
           delay_time = @delayTime, execution_time = @executionTime, output = @output, error = @error, error_code = NULL
         WHERE key = @key AND job_id = @jobId`,
      ),
      terminalJob: db.prepare(
        `UPDATE jobs SET status = @status, finished_at = @finishedAt, delay_time = @delayTime, execution_time = @executionTime,
           error = @error WHERE job_id = @jobId`,
      ),
      requeue: db.prepare(
        `UPDATE rows SET state = 'PENDING', job_id = NULL, job_status = NULL, lost = lost + @lost, expired = expired + @expired,
           failures = failures + @failed, error = COALESCE(@error, error), error_code = COALESCE(@code, error_code),
           delay_time = @delayTime, execution_time = @executionTime
         WHERE key = @key AND job_id = @jobId`,
      ),
      jobStatus: db.prepare(
        `UPDATE jobs SET status = @status, finished_at = @finishedAt, delay_time = COALESCE(@delayTime, delay_time),
           execution_time = COALESCE(@executionTime, execution_time), error = @error WHERE job_id = @jobId`,
      ),
      rowFailed: db.prepare(
        `UPDATE rows SET state = @status, job_id = NULL, job_status = NULL, error = @error, error_code = @code,
           finished_at = @finishedAt WHERE key = @key`,
      ),
      counts: db.prepare(`SELECT state, count(*) AS n FROM rows WHERE gen = ? GROUP BY state`),
      // Read as arrays (see storedRows below): the column order is the one storedRows reads.
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
           execution_time AS executionTime, error FROM jobs`,
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
      heartbeat: db.prepare(`UPDATE runs SET ended_at = ? WHERE id = ?`),
      endRun: db.prepare(`UPDATE runs SET ended_at = ?, exit_code = ?, submitted = ? WHERE id = ?`),
      billed: db.prepare(
        `SELECT COALESCE(SUM((execution_time + 999) / 1000), 0) AS seconds, COUNT(*) AS jobs FROM jobs WHERE execution_time > 0`,
      ),
      wall: db.prepare(`SELECT COALESCE(SUM(COALESCE(ended_at, started_at) - started_at), 0) FROM runs`).pluck(),
    };
    // Applies pending writes in order, and forgets the log entries they cover, in one transaction.
    const apply = (ops: PendingOp[]) => {
      let last = 0;
      for (const op of ops) {
        if ('submit' in op) {
          this.st.markSubmitted.run(op.submit);
          this.st.insertJob.run(op.submit);
          last = op.n;
        } else {
          this.st.terminalRow.run(op.terminal);
          this.st.terminalJob.run(op.terminal);
        }
      }
      if (last > 0) this.st.unlog!.run(last);
    };
    this.applyTx = db.transaction(apply);
    this.applyLogTx = db.transaction(() => {
      const left = this.st.logged!.all() as (Submitted & { n: number })[];
      apply(left.map(({ n, ...submit }) => ({ submit, n })));
      return left.length;
    });
  }

  private readonly applyLogTx: Database.Transaction<() => number>;

  /** Opens (or creates) `<dir>/state.sqlite`. Files are created with mode 0600: they hold inputs and outputs. */
  static open(dir: string, opts: { readonly?: boolean; mustExist?: boolean } = {}): Store {
    const path = join(dir, STATE_FILE);
    if ((opts.mustExist || opts.readonly) && !existsSync(path)) {
      throw new StateError(`no batch state in ${dir} (no ${STATE_FILE}): give the --out folder of a batch`);
    }
    try {
      if (!opts.readonly) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        closeSync(openSync(path, 'a', 0o600));
      }
      const db = new Database(path, { readonly: opts.readonly === true, fileMustExist: opts.readonly === true });
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // Checkpoints (each an fsync) every ~40 MB of WAL rather than every 4 MB: a batch commits once per job.
        db.pragma('wal_autocheckpoint = 10000');
        // 8 MB of page cache (better-sqlite3's default is 16 MB): reads are sequential, and memory is budgeted.
        db.pragma('cache_size = -8000');
      }
      db.pragma('busy_timeout = 5000');
      migrate(db, path, opts.readonly === true);
      return new Store(path, db);
    } catch (err) {
      if (err instanceof StateError) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new StateError(`${path} is corrupt or not an SQLite file (${code}); move it away or use another --out`, { cause: err });
      }
      throw new StateError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  getMeta<T>(key: string): T | undefined {
    const v = this.st.getMeta.get(key) as string | undefined;
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  setMeta(key: string, value: unknown): void {
    this.st.setMeta.run(key, JSON.stringify(value));
  }

  /** Starts an ingest of generation `gen`; call inside `begin()`/`commit()`. Returns how the row relates to the state. */
  ingestRow(row: InputRow, gen: number): IngestOutcome {
    const prev = this.st.lookup.get(row.key) as { hash: string; gen: number } | undefined;
    const params = {
      key: row.key,
      idJson: JSON.stringify(row.id),
      seq: row.seq,
      line: row.line,
      gen,
      hash: row.hash,
      body: row.bodyJson,
      inputOnly: Object.keys(row.body).length === 1 ? 1 : 0,
    };
    if (!prev) {
      this.st.insertRow.run(params);
      return 'new';
    }
    if (prev.gen === gen) return 'duplicate';
    if (prev.hash === row.hash) {
      this.st.touchRow.run(params);
      return 'same';
    }
    this.st.resetRow.run(params);
    return 'changed';
  }

  /** Line of the row with this key in the input being ingested (for duplicate-id messages). */
  lineOf(key: string): number {
    return this.st.lineOf.get(key) as number;
  }

  /** Rows not seen in the input since generation `gen` (edited out of the file). */
  countOlderThan(gen: number): number {
    return this.st.olderThan.get(gen) as number;
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }
  commit(): void {
    this.db.exec('COMMIT');
  }
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  /** PENDING rows of generation `gen` after `afterSeq`, in input order. */
  pendingPage(gen: number, afterSeq: number, limit: number): WorkRow[] {
    return this.st.pendingPage.all(gen, afterSeq, limit) as WorkRow[];
  }

  /** Rows that hold a job id not yet seen terminal: to be followed, never resubmitted. */
  submittedRows(gen: number): WorkRow[] {
    return this.st.submitted.all(gen) as WorkRow[];
  }

  /**
   * Commits a job id at once, before anything else happens: the heart of "never paid for twice". The commit is one
   * append to the job-id log; the row and jobs tables follow in the next group commit (or when the state is next
   * opened, after a kill).
   */
  markSubmitted(key: string, jobId: string, attempt: number, submittedAt: number, status: string): void {
    const submit: Submitted = { key, jobId, attempt, submittedAt, status };
    const n = Number(this.st.logSubmit!.run(submit).lastInsertRowid);
    this.enqueue({ submit, n });
  }

  /**
   * Records a terminal status with the next group commit: losing it to a kill costs only a re-poll of a job whose id
   * is already committed.
   */
  markTerminal(t: Terminal): void {
    this.enqueue({ terminal: t });
  }

  private enqueue(op: PendingOp): void {
    this.pending.push(op);
    if (this.pending.length >= FLUSH_OPS) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /**
   * Job ids logged by a run that ended before the group commit that applies them (a kill): their rows catch up now.
   * Only for the process that holds the batch's lock. Returns how many there were.
   */
  applyLog(): number {
    if (!this.logged || this.db.readonly) return 0;
    this.flush();
    return this.applyLogTx.immediate();
  }

  /** Writes any grouped writes now. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const ops = this.pending;
    this.pending = [];
    this.applyTx(ops);
  }

  /**
   * The row's job will not give a result (lost, expired, or FAILED with retries left): the row goes back to PENDING.
   * `reason` says which counter grows.
   */
  requeue(
    key: string,
    jobId: string,
    reason: 'lost' | 'expired' | 'failed' | 'cancelled',
    at: number,
    detail: { status: string; error?: string | null; code?: string | null; delayTime?: number | null; executionTime?: number | null },
  ): void {
    this.flush();
    const p = {
      key,
      jobId,
      lost: reason === 'lost' ? 1 : 0,
      expired: reason === 'expired' ? 1 : 0,
      failed: reason === 'failed' ? 1 : 0,
      error: detail.error ?? null,
      code: detail.code ?? null,
      delayTime: detail.delayTime ?? null,
      executionTime: detail.executionTime ?? null,
      status: detail.status,
      finishedAt: at,
    };
    this.db.transaction(() => {
      this.st.requeue.run(p);
      this.st.jobStatus.run(p);
    })();
  }

  /** A row that fails without a job (e.g. the server refused its body with 422). */
  failRow(key: string, status: RowState, error: string, code: string, at: number): void {
    this.flush();
    this.st.rowFailed.run({ key, status, error, code, finishedAt: at });
  }

  counts(gen: number): Record<string, number> {
    const out: Record<string, number> = {};
    // Without the lock (`status` during a run, or after a kill): rows whose job id is logged but not yet applied count as SUBMITTED.
    const logged = this.st.logCount !== null && (this.st.logCount.get() as number) > 0;
    const stmt = logged ? this.st.countsLogged! : this.st.counts;
    for (const r of stmt.all(gen) as { state: string; n: number }[]) out[r.state] = r.n;
    return out;
  }

  rows(gen: number): IterableIterator<StoredRow> {
    return storedRows(this.st.allRows.iterate(gen) as IterableIterator<unknown[]>);
  }

  /** The rows in input order without their bodies and outputs: what reports need, read fast. */
  summaryRows(gen: number): IterableIterator<SummaryRow> {
    return summaryRowsOf(this.st.summaryRows.iterate(gen) as IterableIterator<unknown[]>);
  }

  /** Every job's status and timings (what billing needs), in no particular order. */
  jobOutcomes(): IterableIterator<Pick<StoredJob, 'status' | 'delayTime' | 'executionTime'>> {
    return this.st.jobOutcomes.iterate() as IterableIterator<Pick<StoredJob, 'status' | 'delayTime' | 'executionTime'>>;
  }

  /** Every job's status, times and error (what reports need), in no particular order. */
  jobTimeline(): IterableIterator<Omit<StoredJob, 'jobId' | 'rowKey' | 'attempt'>> {
    return this.st.jobTimeline.iterate() as IterableIterator<Omit<StoredJob, 'jobId' | 'rowKey' | 'attempt'>>;
  }

  addOps(deltas: Record<string, OpDelta>): void {
    this.db.transaction(() => {
      for (const [op, d] of Object.entries(deltas)) {
        this.st.addOp.run({ op, requests: d.requests ?? 0, rateLimited: d.rateLimited ?? 0, retries: d.retries ?? 0, errors: d.errors ?? 0 });
      }
    })();
  }

  ops(): Record<string, Required<OpDelta>> {
    const out: Record<string, Required<OpDelta>> = {};
    for (const r of this.st.ops.all() as ({ op: string } & Required<OpDelta>)[]) {
      out[r.op] = { requests: r.requests, rateLimited: r.rateLimited, retries: r.retries, errors: r.errors };
    }
    return out;
  }

  /** Id of the newest run, null before the first. */
  lastRunId(): number | null {
    return (this.st.lastRun.get() as number | null) ?? null;
  }

  startRun(at: number): number {
    return Number(this.st.startRun.run(at).lastInsertRowid);
  }

  addSample(s: Sample): void {
    this.st.addSample.run(s);
  }

  samples(): IterableIterator<Sample> {
    return this.st.samples.iterate() as IterableIterator<Sample>;
  }

  /** Keeps the run's end time current, so a run killed with -9 still counts in wall time. */
  heartbeat(id: number, at: number): void {
    this.st.heartbeat.run(at, id);
  }

  endRun(id: number, at: number, exitCode: number, submitted: number): void {
    this.flush();
    this.st.endRun.run(at, exitCode, submitted, id);
  }

  /** Billed seconds so far (per job, executionTime rounded up to whole seconds) and the jobs that have one. */
  billed(): { seconds: number; jobs: number } {
    return this.st.billed.get() as { seconds: number; jobs: number };
  }

  /** Seconds spent in runs so far (sum over runs). */
  wallSeconds(): number {
    return (this.st.wall.get() as number) / 1000;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      if (this.db.open) this.db.close();
    }
  }
}

// Rows read as arrays and made into objects here: about half the CPU of better-sqlite3's own row objects, which
// matters when the views are rewritten from a million rows. The indexes follow the SELECTs' column order.
function* storedRows(it: IterableIterator<unknown[]>): Generator<StoredRow> {
  for (const c of it) {
    yield {
      key: c[0] as string,
      idJson: c[1] as string,
      seq: c[2] as number,
      line: c[3] as number,
      body: c[4] as string,
      inputOnly: c[5] as number,
      state: c[6] as RowState,
      jobId: c[7] as string | null,
      jobStatus: c[8] as string | null,
      attempts: c[9] as number,
      failures: c[10] as number,
      lost: c[11] as number,
      expired: c[12] as number,
      submittedAt: c[13] as number | null,
      finishedAt: c[14] as number | null,
      delayTime: c[15] as number | null,
      executionTime: c[16] as number | null,
      e2eMs: c[17] as number | null,
      output: c[18] as string | null,
      error: c[19] as string | null,
      errorCode: c[20] as string | null,
    };
  }
}

function* summaryRowsOf(it: IterableIterator<unknown[]>): Generator<SummaryRow> {
  for (const c of it) {
    yield {
      idJson: c[0] as string,
      line: c[1] as number,
      state: c[2] as RowState,
      jobStatus: c[3] as string | null,
      attempts: c[4] as number,
      delayTime: c[5] as number | null,
      executionTime: c[6] as number | null,
      e2eMs: c[7] as number | null,
      error: c[8] as string | null,
    };
  }
}
