import type Database from 'better-sqlite3';
import type { Terminal } from '../core/records.js';
import type { Statements } from './statements.js';

/** A job id as the answer to /run gave it. */
export interface Submitted {
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
 * The job-id log and the group commits behind it (schema V2). Each answer to /run is one INSERT into `submits`,
 * committed at once: an append to the table's last page, the cheapest commit SQLite has. The rows and jobs tables
 * catch up in grouped transactions that delete the log entries they apply; an entry still in the log when a state is
 * opened is a job id whose row a killed run had not yet updated.
 */
export class SubmitLog {
  private pending: PendingOp[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly applyTx: (ops: PendingOp[]) => void;
  private readonly applyLogTx: Database.Transaction<() => number>;

  constructor(
    db: Database.Database,
    private readonly st: Statements,
  ) {
    // Applies pending writes in order, and forgets the log entries they cover, in one transaction.
    const apply = (ops: PendingOp[]) => {
      let last = 0;
      for (const op of ops) {
        if ('submit' in op) {
          st.markSubmitted.run(op.submit);
          st.insertJob.run(op.submit);
          last = op.n;
        } else {
          const t = op.terminal;
          // The row's media index follows its output: the files of an earlier attempt are forgotten (and so
          // removed by the next sweep), this attempt's are indexed — in the transaction that commits the output.
          if (st.terminalRow.run(t).changes > 0 && st.forgetRowMedia && st.insertMedia) {
            st.forgetRowMedia.run(t.key);
            for (const m of t.media ?? []) st.insertMedia.run({ ...m, key: t.key, jobId: t.jobId });
          }
          st.terminalJob.run(t);
        }
      }
      if (last > 0) st.unlog?.run(last);
    };
    this.applyTx = db.transaction(apply);
    this.applyLogTx = db.transaction(() => {
      const left = (st.logged?.all() ?? []) as (Submitted & { n: number })[];
      apply(left.map(({ n, ...submit }) => ({ submit, n })));
      return left.length;
    });
  }

  /** Commits a job id at once (one INSERT); its row and job follow in the next group commit. */
  submit(s: Submitted): void {
    if (!this.st.logSubmit) throw new Error('the state has no job-id log (opened read-only)');
    const n = Number(this.st.logSubmit.run(s).lastInsertRowid);
    this.enqueue({ submit: s, n });
  }

  /** Records a terminal status with the next group commit. */
  terminal(t: Terminal): void {
    this.enqueue({ terminal: t });
  }

  /** Applies every entry a killed run left in the log. Returns how many there were. */
  applyLeftovers(): number {
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

  private enqueue(op: PendingOp): void {
    this.pending.push(op);
    if (this.pending.length >= FLUSH_OPS) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }
}
