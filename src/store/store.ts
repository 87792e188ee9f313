import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { billedSeconds } from '../core/billing.js';
import { StateError } from '../core/errors.js';
import type {
  MediaFile,
  OpCounters,
  RequeueDetail,
  RequeueReason,
  RowState,
  RunStop,
  Sample,
  StoredJob,
  StoredRow,
  SummaryRow,
  Terminal,
  WorkRow,
} from '../core/records.js';
import { storedRows, summaryRowsOf } from './decoders.js';
import type { BatchMeta, MetaKey } from './meta.js';
import { hasJobWorkers, hasMediaIndex, hasRunOutcomes, hasSubmitLog, migrate } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { SubmitLog } from './submit-log.js';

/** A row of the input, as the store loads it (the input readers' rows fit as they are). */
export interface RowToLoad {
  key: string;
  id: string | number;
  seq: number;
  line: number;
  /** The /run body and its JSON text. */
  body: object;
  bodyJson: string;
  /** Content hash of bodyJson: tells an edited row from an unchanged one. */
  hash: string;
}

export type IngestOutcome = 'new' | 'changed' | 'same' | 'duplicate';

const STATE_FILE = 'state.sqlite';

/**
 * The SQLite checkpoint: the single source of truth of a batch. WAL with synchronous=NORMAL: a commit survives a
 * process kill (it is in the WAL file) without an fsync per row. Statements are prepared once (statements.ts); job
 * ids go through the job-id log (submit-log.ts).
 */
export class Store {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly st: Statements;
  private readonly log: SubmitLog;
  /** The state has the job-id log (written states always do; an older one opened read-only may not). */
  private readonly logged: boolean;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    this.logged = hasSubmitLog(db);
    db.function('billed_seconds', { deterministic: true }, (ms) => (typeof ms === 'number' ? billedSeconds(ms) : 0));
    this.st = prepareStatements(db, this.logged, hasRunOutcomes(db), hasJobWorkers(db), hasMediaIndex(db));
    this.log = new SubmitLog(db, this.st);
  }

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

  getMeta<K extends MetaKey>(key: K): BatchMeta[K] | undefined {
    const v = this.st.getMeta.get(key) as string | undefined;
    return v === undefined ? undefined : (JSON.parse(v) as BatchMeta[K]);
  }

  setMeta<K extends MetaKey>(key: K, value: BatchMeta[K]): void {
    this.st.setMeta.run(key, JSON.stringify(value));
  }

  // --- Loading an input (batch/ingest.ts), inside begin()/commit().

  /** Loads one row of generation `gen`. Returns how the row relates to the state. */
  ingestRow(row: RowToLoad, gen: number): IngestOutcome {
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
    // Its output is gone, so are its media files (from the index now; from the folder at the next sweep).
    this.st.forgetRowMedia?.run(row.key);
    return 'changed';
  }

  /** The content hash and generation of the row with this key, if the state has one (the dry run's comparison). */
  rowHash(key: string): { hash: string; gen: number } | undefined {
    return this.st.lookup.get(key) as { hash: string; gen: number } | undefined;
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

  // --- The scheduler's side (engine/ports.ts: SchedulerStore).

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
    this.log.submit({ key, jobId, attempt, submittedAt, status });
  }

  /**
   * Records a terminal status with the next group commit: losing it to a kill costs only a re-poll of a job whose id
   * is already committed.
   */
  markTerminal(t: Terminal): void {
    this.log.terminal({ ...t, workerId: t.workerId ?? null, errorCode: t.errorCode ?? null, jobStatus: t.jobStatus ?? t.status });
  }

  /**
   * Job ids logged by a run that ended before the group commit that applies them (a kill): their rows catch up now.
   * Only for the process that holds the batch's lock. Returns how many there were.
   */
  applyLog(): number {
    if (!this.logged || this.db.readonly) return 0;
    return this.log.applyLeftovers();
  }

  /** Writes any grouped writes now. */
  flush(): void {
    this.log.flush();
  }

  /** The row's job will not give a result (lost, expired, cancelled, or FAILED with retries left): back to PENDING. */
  requeue(key: string, jobId: string, reason: RequeueReason, at: number, detail: RequeueDetail): void {
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
      workerId: detail.workerId ?? null,
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

  /** `runpod-batch retry`: rows that did not complete go back to PENDING with a fresh retry budget. Returns how many. */
  resetUnfinished(gen: number): number {
    return this.st.resetUnfinished.run(gen).changes;
  }

  // --- Reading the batch (views, reports, status).

  counts(gen: number): Record<string, number> {
    const out: Record<string, number> = {};
    // Without the lock (`status` during a run, or after a kill): rows whose job id is logged but not yet applied count as SUBMITTED.
    const logged = this.st.logCount !== null && (this.st.logCount.get() as number) > 0;
    const stmt = logged && this.st.countsLogged ? this.st.countsLogged : this.st.counts;
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

  addOps(deltas: Record<string, Partial<OpCounters>>): void {
    this.db.transaction(() => {
      for (const [op, d] of Object.entries(deltas)) {
        this.st.addOp.run({
          op,
          requests: d.requests ?? 0,
          rateLimited: d.rateLimited ?? 0,
          retries: d.retries ?? 0,
          errors: d.errors ?? 0,
        });
      }
    })();
  }

  ops(): Record<string, OpCounters> {
    const out: Record<string, OpCounters> = {};
    for (const r of this.st.ops.all() as ({ op: string } & OpCounters)[]) {
      out[r.op] = { requests: r.requests, rateLimited: r.rateLimited, retries: r.retries, errors: r.errors };
    }
    return out;
  }

  // --- The media index (schema 4): the files under <out>/media/ that committed outputs refer to.

  /** Whether a committed output refers to this file (`media/<name>`). */
  hasMedia(path: string): boolean {
    return this.st.hasMedia !== null && this.st.hasMedia.get(path) === 1;
  }

  /** The media files of a row's output. */
  mediaOf(key: string): MediaFile[] {
    return (this.st.mediaOfRow?.all(key) ?? []) as MediaFile[];
  }

  /** How many media files the batch has, and their bytes. */
  mediaTotals(): { files: number; bytes: number } {
    return (this.st.mediaTotals?.get() as { files: number; bytes: number } | undefined) ?? { files: 0, bytes: 0 };
  }

  // --- Runs and their progress samples.

  /** Id of the newest run, null before the first. */
  lastRunId(): number | null {
    return (this.st.lastRun.get() as number | null) ?? null;
  }

  runCount(): number {
    return this.st.runCount.get() as number;
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

  endRun(id: number, at: number, exitCode: number, submitted: number, stop: RunStop): void {
    this.flush();
    this.st.endRun!.run(at, exitCode, submitted, JSON.stringify(stop), id);
  }

  /** How the last run ended; null before the first. A run without an end was killed (or is running now). */
  lastStop(): RunStop | null {
    const r = this.st.lastRunRow.get() as { exit_code: number | null; outcome?: string | null } | undefined;
    if (!r) return null;
    if (r.exit_code === null) return { kind: 'killed' };
    if (typeof r.outcome === 'string') return JSON.parse(r.outcome) as RunStop;
    // Written before runs kept their outcome (schema 2): the exit code is all there is.
    return { kind: r.exit_code === 130 ? 'interrupted' : r.exit_code === 1 ? 'fatal' : 'done' };
  }

  /** Billed seconds so far (core/billing.ts per job, failed attempts included) and the jobs that have one. */
  billed(): { seconds: number; jobs: number } {
    return this.st.billed.get() as { seconds: number; jobs: number };
  }

  /** Seconds spent in runs so far (sum over runs). */
  wallSeconds(): number {
    return (this.st.wall.get() as number) / 1000;
  }

  /** When the first run started and the last one ended (or was last seen), in ms; nulls before any run. */
  runSpan(): { first: number | null; last: number | null } {
    return this.st.runSpan.get() as { first: number | null; last: number | null };
  }

  close(): void {
    try {
      this.flush();
    } finally {
      if (this.db.open) this.db.close();
    }
  }
}
