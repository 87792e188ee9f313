/**
 * report.md: the same sections as report.html, as tables and short text (readable in a terminal, on GitHub, in a
 * chat). Strings from data are escaped: no raw HTML, no table breaks.
 */
import { WARM_FIRST_JOB_MS } from './cold-starts.js';
import { escapeMd as md, fmtClock, fmtDuration, fmtTimeOfDay, fmtInt, fmtNum, fmtPct, fmtUsd, orDash } from './format.js';
import type { Histogram, ReportModel } from './model.js';
import { peak, periods, rates } from './series.js';
import { ESTIMATE_NOTES, RUNPOD_FIGURES, SECTION_TITLES } from './text.js';

/** Our own sentences, which may quote paths from data: escape what could become HTML, keep `code` spans. */
function prose(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

function table(head: string[], rows: string[][], right: boolean[] = []): string {
  const sep = head.map((_, i) => (right[i] ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}

/** A span of running time: "0 – 5 min", "5 min – 10 min". */
function span(from: number, to: number): string {
  return `${from === 0 ? '0' : fmtDuration(from)} – ${fmtDuration(to)}`;
}

const BAR_WIDTH = 32;
const MAX_LINES = 12;

/** A histogram as text bars, adjacent bins merged to at most MAX_LINES lines. */
function textHistogram(h: Histogram): string {
  const n = h.counts.length;
  const k = Math.ceil(n / MAX_LINES);
  const lines: { from: number; to: number; count: number }[] = [];
  for (let i = 0; i < n; i += k) {
    let c = 0;
    for (let j = i; j < Math.min(n, i + k); j++) c += h.counts[j]!;
    lines.push({ from: h.edges[i]!, to: h.edges[Math.min(n, i + k)]!, count: c });
  }
  // Trim empty lines at both ends (bins start at a round number below the minimum).
  while (lines.length > 1 && lines[0]!.count === 0) lines.shift();
  while (lines.length > 1 && lines[lines.length - 1]!.count === 0) lines.pop();
  const max = Math.max(...lines.map((l) => l.count));
  const labels = lines.map((l) => `${fmtDuration(l.from)} – ${fmtDuration(l.to)}`);
  const lw = Math.max(...labels.map((l) => l.length));
  const cw = Math.max(...lines.map((l) => fmtInt(l.count).length));
  const out = lines.map((l, i) => {
    const len = l.count === 0 ? 0 : Math.max(1, Math.round((l.count / max) * BAR_WIDTH));
    return `${labels[i]!.padEnd(lw)}  ${fmtInt(l.count).padStart(cw)}  ${'█'.repeat(len)}`;
  });
  return '```text\n' + out.join('\n') + '\n```\n';
}

function summary(m: ReportModel): string {
  const s = m.summary;
  const r = s.rows;
  let o = `## ${SECTION_TITLES.summary}\n\n`;
  o += `**Next:** ${prose(m.nextStep.text)}\n\n`;
  for (const a of m.advice) o += `- ${prose(a)}\n`;
  if (m.advice.length > 0) o += '\n';
  const rows: string[][] = [
    ['Rows completed', `${fmtInt(r.completed)} of ${fmtInt(r.total)} (${fmtPct(r.completed, r.total)})`],
    ['Rows by status', r.byStatus.length > 0 ? r.byStatus.map((b) => `${md(b.status)} ${fmtInt(b.count)}`).join(' · ') : '–'],
    ['Wall time', `${fmtDuration(s.wallSeconds * 1000)} (summed over runs)`],
    ['Throughput', `${fmtNum(s.throughputPerMinute)} completed rows/min`],
    ['Billed seconds (estimate)', `${fmtInt(s.billedSeconds)} over ${fmtInt(s.jobs.total)} jobs`],
    [
      'Estimated cost',
      s.estimatedCostUsd === null
        ? 'unknown: pass --price-per-second or --gpu'
        : `${fmtUsd(s.estimatedCostUsd)} at $${s.pricePerSecond}/s (${md(s.priceSource)})`,
    ],
    [
      'Requests',
      `${fmtInt(s.requests)} (429s: ${fmtInt(s.rateLimited)}, retries: ${fmtInt(s.retries)}, errors: ${fmtInt(s.requestErrors)})`,
    ],
  ];
  if (r.resubmitted > 0)
    rows.push(['Rows run more than once', `${fmtInt(r.resubmitted)} (${fmtInt(r.attempts)} jobs for ${fmtInt(r.total)} rows)`]);
  if (s.firstActivity !== null) rows.push(['Activity', `${fmtClock(s.firstActivity)} to ${orDash(s.lastActivity, fmtClock)}`]);
  o += table(['', ''], rows) + '\n';
  return o;
}

function latency(m: ReportModel): string {
  let o = `## ${SECTION_TITLES.latency}\n\nOver each row's final job; percentiles are nearest rank.\n\n`;
  const list: [string, string, Histogram | null][] = [
    ['Delay (delayTime)', "RunPod's", m.latency.delay],
    ['Execution (executionTime)', "RunPod's", m.latency.execution],
    ['End to end', 'measured here', m.latency.endToEnd],
  ];
  const d = fmtDuration;
  o += table(
    ['latency', 'source', 'rows', 'min', 'p50', 'p90', 'p99', 'max', 'mean'],
    list.map(([name, src, h]) =>
      h
        ? [name, src, fmtInt(h.count), d(h.min), d(h.p50), d(h.p90), d(h.p99), d(h.max), d(h.mean)]
        : [name, src, '0', '–', '–', '–', '–', '–', '–'],
    ),
    [false, false, true, true, true, true, true, true, true],
  );
  for (const [name, , h] of list) {
    o += `\n**${name}**${h ? (h.scale === 'log' ? ' (log-spaced bins)' : '') : ''}\n\n`;
    o += h ? textHistogram(h) : 'no data\n';
  }
  if (m.summary.timingsMissing > 0)
    o += `\n${fmtInt(m.summary.timingsMissing)} finished rows have no delayTime/executionTime and are left out.\n`;
  return o + '\n';
}

function pauses(m: ReportModel): string {
  const n = m.timeline.pauseCount;
  return n > 0
    ? `Times are running time: ${fmtInt(n)} pause${n === 1 ? '' : 's'} (resumes, or sample gaps over 5 minutes) left out.\n\n`
    : '';
}

function throughput(m: ReportModel): string {
  let o = `## ${SECTION_TITLES.throughput}\n\n`;
  if (m.activity.points.length === 0) return o + 'no data (no progress samples).\n\n' + sizing(m);
  const r = rates(m);
  const E = m.timeline.elapsedMs;
  o += `Peak ${fmtNum(peak(r.completedPerMin))} completed/min${r.smoothing}, overall ${fmtNum(m.summary.throughputPerMinute)}/min (the summary's throughput) over ${fmtDuration(E)} of running time; `;
  o += `peak ${fmtNum(peak(m.activity.points.map((p) => p.inFlightMax)))} jobs in flight.\n\n`;
  o += pauses(m);
  const ps = periods(m);
  o += table(
    ['time running', 'completed', 'per min', 'failed', 'in flight (mean)', 'in flight (max)'],
    ps.map((p) => [
      span(p.from, p.to),
      fmtInt(p.completed),
      fmtNum((p.completed * 60_000) / Math.max(1, p.to - p.from)),
      fmtInt(p.failed),
      orDash(p.inFlightMean, (v) => fmtNum(v)),
      orDash(p.inFlightMax, fmtInt),
    ]),
    [false, true, true, true, true, true],
  );
  return o + '\n' + sizing(m);
}

/** The in-flight target auto-sizing chose, and when its mode changed. */
function sizing(m: ReportModel): string {
  const z = m.sizing;
  if (!z) return '';
  let o = `**In-flight target** (\`--concurrency auto\`): ${fmtInt(z.current.target)} at ${fmtClock(z.current.t)} — ${md(z.current.reason)}.\n\n`;
  if (z.changes.length > 1) {
    if (z.changesLeftOut > 0)
      o += `The last ${fmtInt(z.changes.length)} of its mode changes (${fmtInt(z.changesLeftOut)} earlier left out):\n\n`;
    o += table(
      ['time', 'target', 'why'],
      z.changes.map((c) => [fmtTimeOfDay(c.t), fmtInt(c.target), md(c.reason)]),
      [false, true, false],
    );
    o += '\n';
  }
  return o;
}

function cost(m: ReportModel): string {
  const c = m.cost;
  let o = `## ${SECTION_TITLES.cost}\n\n`;
  if (c.points.length === 0) {
    o += 'no data (no job has an executionTime yet).\n\n';
  } else {
    o +=
      c.pricePerSecond !== null
        ? `Estimated cost ${orDash(c.totalUsd, fmtUsd)} for ${fmtInt(c.totalBilledSeconds)} billed seconds at $${c.pricePerSecond}/s.\n\n`
        : `${fmtInt(c.totalBilledSeconds)} billed seconds. No price known: pass --price-per-second or --gpu for a cost estimate.\n\n`;
    o += pauses(m);
    const ps = periods(m);
    const head = ['time running', 'billed seconds (cumulative)'];
    if (c.pricePerSecond !== null) head.push('estimated cost (cumulative)');
    o += table(
      head,
      ps.map((p) => {
        const row = [`≤ ${fmtDuration(p.to)}`, orDash(p.billedSeconds, fmtInt)];
        if (c.pricePerSecond !== null) row.push(orDash(p.usd, fmtUsd));
        return row;
      }),
      [false, true, true],
    );
    o += '\n';
  }
  o += `Estimate: ${prose(m.summary.billedSecondsNote)}\n\n`;
  return o;
}

function failures(m: ReportModel): string {
  const f = m.failures;
  const j = f.jobs;
  let o = `## ${SECTION_TITLES.failures}\n\n`;
  const failing = f.groups.filter((g) => g.rows > 0);
  const recovered = f.groups.filter((g) => g.rows === 0);
  if (failing.length === 0) {
    o += 'No failures: no row ended FAILED, TIMED_OUT or CANCELLED.\n\n';
  } else {
    o += `${fmtInt(f.failedRows)} rows did not complete. Grouped by error_type + error_message (or the plain message)`;
    o += f.distinct > f.groups.length ? `; the largest of ${fmtInt(f.distinct)} groups:\n\n` : ':\n\n';
    o += table(
      ['error', 'rows', 'jobs', 'final status', 'example row ids'],
      failing.map((g) => [
        (g.type ? `**${md(g.type)}**: ` : '') + md(g.message),
        fmtInt(g.rows),
        fmtInt(g.jobs),
        Object.entries(g.statuses)
          .map(([s, n]) => `${md(s)} ${fmtInt(n)}`)
          .join(', ') || '–',
        g.exampleIds.map(md).join(', ') || '–',
      ]),
      [false, true, true, false, false],
    );
    o +=
      '\nRows: rows whose final state carries the error (see errors.jsonl). Jobs: attempts that ended with it, retried ones included.\n\n';
  }
  if (recovered.length > 0) {
    o +=
      '**Recovered by a retry** — errors of attempts that were run again and then completed (not failures of the batch; billed, though):\n\n';
    o += table(
      ['error', 'jobs'],
      recovered.map((g) => [(g.type ? `**${md(g.type)}**: ` : '') + md(g.message), fmtInt(g.jobs)]),
      [false, true],
    );
    o += '\n';
  }
  o += `Jobs (every attempt): FAILED ${fmtInt(j.failed)}, TIMED_OUT ${fmtInt(j.timedOut)}, CANCELLED ${fmtInt(j.cancelled)}, `;
  o += `LOST ${fmtInt(j.lost)} (no result ever seen), EXPIRED ${fmtInt(j.expired)} (result gone after RunPod's 30-minute retention). `;
  o += 'Lost and expired jobs were run again.\n\n';
  o += `Caught by the output checks (RunPod said COMPLETED): EMPTY_OUTPUT ${fmtInt(j.emptyOutput)} (no output: a refused result POST, or a generator handler without return_aggregate_stream), `;
  o += `OUTPUT_ERROR ${fmtInt(j.outputError)} (an error inside the output). Each counts as a failed attempt.\n\n`;
  return o;
}

function coldStarts(m: ReportModel): string {
  const c = m.coldStarts;
  let o = `## ${SECTION_TITLES.coldStarts}\n\n`;
  if (c.jobsWithDelay === 0) return o + 'no data (no job has a delayTime).\n\n';
  const cost =
    c.estimatedCostUsd === null ? '.\n\n' : `; about ${fmtUsd(c.estimatedCostUsd)}, not included in the billed seconds above.\n\n`;
  const fromHealth =
    `Estimated billed cold-start time: ${fmtNum(c.estimatedBilledSeconds)} s — the worker time RunPod's /health showed starting ` +
    `(\`initializing\`), summed over ${fmtInt(c.healthReads)} reads${cost}` +
    `What it estimates: the workers' boots (container start, model load), which RunPod bills. Each read counts the workers ` +
    `starting then for the time until the next read (about 3 s), so a boot is counted about as long as it lasted. `;
  if (c.method === 'first-job') {
    o += `${fmtInt(c.count)} of ${fmtInt(c.workers ?? 0)} workers had a cold start: their first job waited ${fmtDuration(WARM_FIRST_JOB_MS)} or more.`;
    if (c.estimateFrom === 'health') {
      o += ` ${fromHealth}`;
      o += `Those first jobs waited ${fmtNum(c.upperBoundSeconds)} s in all: that also holds the time a job waited before its worker was added (an autoscaler's own wait), which is not billed.\n\n`;
      return o;
    }
    o += ` Estimated billed cold-start time: ${fmtNum(c.estimatedBilledSeconds)} s (each as long as the shortest of those waits, ${orDash(c.shortestColdMs, fmtDuration)}), at most ${fmtNum(c.upperBoundSeconds)} s${cost}`;
    o +=
      "An estimate: RunPod reports the cold start only inside delayTime; the upper bound counts the first jobs' whole waits, which also hold any queue wait before a worker was started.\n\n";
    return o;
  }
  o += `${fmtInt(c.count)} of ${fmtInt(c.jobsWithDelay)} jobs (${fmtPct(c.count, c.jobsWithDelay)}) waited more than ${fmtDuration(c.thresholdMs)} for a worker`;
  o += c.thresholdGiven
    ? ''
    : ` (default threshold: the larger of 2 s and 3 × the median delayTime, ${orDash(c.medianDelayMs, fmtDuration)})`;
  if (c.estimateFrom === 'health') {
    o += ` and count as cold starts. ${fromHealth}Those jobs waited ${fmtNum(c.upperBoundSeconds)} s in all, queue wait included.\n\n`;
    return o;
  }
  o += ` and count as cold starts. Estimated billed cold-start time: ${fmtNum(c.estimatedBilledSeconds)} s (delayTime minus the median), at most ${fmtNum(c.upperBoundSeconds)} s${cost}`;
  o +=
    'This is an estimate (the server gave no workerIds): RunPod bills the cold start but reports it only inside delayTime, mixed with queue wait (not billed), so a long wait while all workers were busy looks like a cold start here.\n\n';
  return o;
}

function retries(m: ReportModel): string {
  let o = `## ${SECTION_TITLES.retries}\n\n`;
  if (m.requests.length === 0) o += 'No requests recorded.\n\n';
  else {
    o += table(
      ['operation', 'requests', '429s', 'retries', 'errors'],
      m.requests.map((r) => {
        const name = r.op === 'total' ? '**total**' : `/${md(r.op)}`;
        return [name, fmtInt(r.requests), fmtInt(r.rateLimited), fmtInt(r.retries), fmtInt(r.errors)];
      }),
      [false, true, true, true, true],
    );
    o += '\n';
  }
  const ps = periods(m).filter((p) => p.rateLimited > 0 || p.retries > 0);
  if (m.activity.points.length === 0) o += '429s over time: no data (no progress samples).\n\n';
  else if (ps.length === 0) o += 'No 429s or retries during the runs.\n\n';
  else {
    o += '429s and retries over time (periods with any):\n\n';
    o += table(
      ['time running', '429s', 'retries'],
      ps.map((p) => [span(p.from, p.to), fmtInt(p.rateLimited), fmtInt(p.retries)]),
      [false, true, true],
    );
    o += '\n';
  }
  return o;
}

function slowest(m: ReportModel): string {
  let o = `## ${SECTION_TITLES.slowest}\n\n`;
  if (m.slowest.length === 0) return o + 'no data (no row has an end-to-end time).\n\n';
  const d = (v: number | null): string => orDash(v, fmtDuration);
  o += table(
    ['#', 'row id', 'line', 'status', 'delay', 'execution', 'end to end', 'attempts'],
    m.slowest.map((r, i) => [
      String(i + 1),
      md(r.id),
      fmtInt(r.line),
      md(r.status),
      d(r.delayTime),
      d(r.executionTime),
      d(r.e2eMs),
      fmtInt(r.attempts),
    ]),
    [true, false, true, false, true, true, true, true],
  );
  return o + '\n';
}

function about(): string {
  let o = `## ${SECTION_TITLES.about}\n\n`;
  o += `RunPod's figures (from /status): ${RUNPOD_FIGURES.join('; ')}.\n\nEstimates:\n\n`;
  for (const n of ESTIMATE_NOTES) o += `- ${n}\n`;
  return o;
}

export function renderMarkdown(m: ReportModel): string {
  let o = `# runpod-batch report: ${md(m.title)}\n\n`;
  o += `Endpoint ${md(m.endpoint)} · output ${md(m.outDir)} · generated ${fmtClock(m.generatedAt)}\n\n`;
  return o + summary(m) + latency(m) + throughput(m) + cost(m) + failures(m) + coldStarts(m) + retries(m) + slowest(m) + about();
}
