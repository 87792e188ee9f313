import { describe, expect, it } from 'vitest';
import type { RunStop } from '../../src/core/records.js';
import { type NextAction, nextStep, tallyOf } from '../../src/report/next-step.js';

const OUT = 'p.jsonl.runpod';

describe('tallyOf', () => {
  it('counts failed and unfinished apart', () => {
    expect(tallyOf({ COMPLETED: 5, FAILED: 2, TIMED_OUT: 1, CANCELLED: 1, PENDING: 3, IN_QUEUE: 2, SUBMITTED: 1 })).toEqual({
      total: 15,
      completed: 5,
      failed: 4,
      unfinished: 6,
    });
  });
});

describe('nextStep', () => {
  const unfinished = { total: 300, completed: 0, failed: 0, unfinished: 300 };
  const clean = { total: 10, completed: 10, failed: 0, unfinished: 0 };
  const someFailed = { total: 10, completed: 7, failed: 3, unfinished: 0 };
  const cases: [string, RunStop | null, ReturnType<typeof tallyOf>, NextAction, RegExp][] = [
    [
      'a refused key',
      { kind: 'fatal', code: 'RPB_AUTH', reason: 'HTTP 401' },
      unfinished,
      'fix-key',
      /set a valid RUNPOD_API_KEY.*300 rows that did not finish resume/,
    ],
    ['an unknown endpoint', { kind: 'fatal', code: 'RPB_ENDPOINT', reason: 'HTTP 404' }, unfinished, 'fix-endpoint', /check --endpoint/],
    [
      'a server that is down',
      { kind: 'fatal', code: 'RPB_NETWORK', reason: 'ECONNREFUSED' },
      unfinished,
      'check-server',
      /check --base-url/,
    ],
    [
      'another fatal error',
      { kind: 'fatal', code: 'RPB_HTTP', reason: 'HTTP 400 bad body' },
      unfinished,
      'fix-and-rerun',
      /stopped \(HTTP 400 bad body\): fix that/,
    ],
    ['the cost cap', { kind: 'budget', reason: '--max-cost $1 reached' }, unfinished, 'raise-max-cost', /raise --max-cost/],
    [
      'a crash-looping worker',
      { kind: 'gave-up', cause: 'worker', reason: 'crash loop' },
      { ...unfinished, failed: 10, unfinished: 290 },
      'fix-worker',
      /fix the worker.*retry p\.jsonl\.runpod/,
    ],
    [
      'transient failures',
      { kind: 'gave-up', cause: 'transient', reason: '25 in a row' },
      unfinished,
      'rerun-later',
      /run the same command again later/,
    ],
    ['Ctrl-C', { kind: 'interrupted' }, unfinished, 'resume', /did not finish \(the run was interrupted\)/],
    ['kill -9', { kind: 'killed' }, unfinished, 'resume', /run the same `runpod-batch run` command again/],
    [
      'a dry-run sample',
      { kind: 'done' },
      { total: 100, completed: 20, failed: 0, unfinished: 80 },
      'resume',
      /80 rows have not run yet.*without --dry-run/,
    ],
    [
      'failed rows after a full run',
      { kind: 'done' },
      someFailed,
      'retry-failed',
      /3 rows failed: see p\.jsonl\.runpod\/errors\.jsonl; `runpod-batch retry p\.jsonl\.runpod`/,
    ],
    ['a clean run', { kind: 'done' }, clean, 'none', /All 10 rows completed/],
    ['no runs yet', null, unfinished, 'resume', /300 rows did not finish/],
    ['an empty batch', { kind: 'done' }, { total: 0, completed: 0, failed: 0, unfinished: 0 }, 'none', /No rows/],
  ];
  it.each(cases)('%s', (_name, stop, tally, action, text) => {
    const n = nextStep(stop, tally, OUT);
    expect(n.action).toBe(action);
    expect(n.text).toMatch(text);
  });

  it('a refused key or a cost stop never advises "run the same command to resume" as if it were an interruption', () => {
    for (const stop of [
      { kind: 'fatal', code: 'RPB_AUTH' },
      { kind: 'budget', reason: 'cap' },
    ] satisfies RunStop[]) {
      expect(nextStep(stop, unfinished, OUT).text).not.toMatch(/interrupted/);
    }
  });
});
