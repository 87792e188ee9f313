/**
 * report.html: one self-contained file (inline CSS, inline SVG; no script, font, image or network), readable on a
 * laptop. A Content-Security-Policy forbids scripts and remote loads as a second line of defence; the first is that
 * every string from data is escaped.
 */
import {
  escapeHtml as esc,
  fmtClock,
  fmtDuration,
  fmtInt,
  fmtNum,
  fmtPct,
  fmtUsd,
  orDash,
} from './format.js';
import type { FailureGroup, Histogram, ReportModel } from './model.js';
import { peak, rates } from './series.js';
import { COLORS } from './svg.js';
import { labelledBarsSvg, statusBarSvg } from './svg-bars.js';
import { histogramSvg } from './svg-histogram.js';
import { lineChartSvg } from './svg-line.js';
import { ESTIMATE_NOTES, RUNPOD_FIGURES, SECTION_TITLES } from './text.js';

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #22262c; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 20px 28px 48px; }
header h1 { font-size: 22px; margin: 0 0 2px; word-break: break-all; }
header .meta { color: #5f6670; font-size: 13px; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 16px 20px 18px; margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 12px 0 4px; color: #3a3f47; }
p { margin: 6px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 4px 0 14px; }
.card { border: 1px solid #e6e8eb; border-radius: 6px; padding: 8px 12px; background: #fbfcfd; }
.card .k { font-size: 12px; color: #5f6670; }
.card .v { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .s { font-size: 12px; color: #5f6670; }
.card.bad .v { color: #c62828; }
.card.est .k::after { content: " (estimate)"; color: #8a6d00; }
.next { border-radius: 6px; padding: 10px 14px; margin: 12px 0 6px; font-weight: 600; border-left: 5px solid; }
.next.ok { background: #e8f5e9; border-color: #2e7d32; }
.next.warn { background: #fff8e1; border-color: #f9a825; }
.next.error { background: #fdecea; border-color: #c62828; }
.next.info { background: #e3f2fd; border-color: #1565c0; }
ul.advice { margin: 6px 0 0 0; padding-left: 20px; color: #3a3f47; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 8px 24px; }
figure { margin: 6px 0; }
figure svg { width: 100%; height: auto; max-width: 760px; display: block; }
figcaption { font-size: 13px; font-weight: 600; margin-bottom: 2px; }
figcaption .sub { font-weight: 400; color: #5f6670; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e6e8eb; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.msg { max-width: 640px; word-break: break-word; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f8fa; padding: 8px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; max-height: 220px; overflow: auto; margin: 4px 0; }
details summary { cursor: pointer; color: #1565c0; font-size: 12px; }
.note { color: #5f6670; font-size: 13px; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #eef0f3; color: #3a3f47; margin-right: 4px; white-space: nowrap; }
.est { color: #8a6d00; }
footer { color: #8a9099; font-size: 12px; text-align: center; margin-top: 20px; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
`;

function card(k: string, v: string, s: string, cls = ''): string {
  return `<div class="card ${cls}"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="s">${esc(s)}</div></div>`;
}

function figure(caption: string, sub: string, svg: string): string {
  return `<figure><figcaption>${esc(caption)}${sub ? ` <span class="sub">${esc(sub)}</span>` : ''}</figcaption>${svg}</figure>`;
}

/** Renders inline code spans written as `…` in our own (already escaped) text. */
function codeSpans(escaped: string): string {
  return escaped.replace(/`([^`]+)`/g, '<code>$1</code>');
}

function summary(m: ReportModel): string {
  const s = m.summary;
  const r = s.rows;
  const cards = [
    card('Rows completed', fmtInt(r.completed), m.summary.completedPct === null ? 'no rows' : `of ${fmtInt(r.total)} (${fmtPct(r.completed, r.total)})`),
    card('Rows failed', fmtInt(r.failed), r.failed > 0 ? 'FAILED, TIMED_OUT or CANCELLED' : 'none', r.failed > 0 ? 'bad' : ''),
    ...(r.unfinished > 0 ? [card('Rows not finished', fmtInt(r.unfinished), 'interrupted: resume to finish', 'bad')] : []),
    card('Wall time', fmtDuration(s.wallSeconds * 1000), 'summed over runs'),
    card('Throughput', `${fmtNum(s.throughputPerMinute)}/min`, 'completed rows per minute of wall time'),
    card('Billed seconds', fmtInt(s.billedSeconds), `${fmtInt(s.jobs.total)} jobs, executionTime rounded up`, 'est'),
    s.estimatedCostUsd === null
      ? card('Estimated cost', 'unknown', 'pass --price-per-second or --gpu', 'est')
      : card('Estimated cost', fmtUsd(s.estimatedCostUsd), `at $${s.pricePerSecond}/s`, 'est'),
    card('Requests', fmtInt(s.requests), `${fmtInt(s.rateLimited)} × 429, ${fmtInt(s.retries)} retries`),
  ];
  const advice = m.advice.length > 0 ? `<ul class="advice">${m.advice.map((a) => `<li>${codeSpans(esc(a))}</li>`).join('')}</ul>` : '';
  const when =
    s.firstActivity !== null ? `<p class="note">First job ${esc(fmtClock(s.firstActivity))}, last activity ${esc(orDash(s.lastActivity, fmtClock))}.` +
      (s.rows.resubmitted > 0 ? ` ${esc(fmtInt(s.rows.resubmitted))} rows needed more than one job (${esc(fmtInt(s.rows.attempts))} jobs for ${esc(fmtInt(s.rows.total))} rows).` : '') +
      `</p>` : '';
  return (
    `<section id="summary"><h2>${SECTION_TITLES.summary}</h2>` +
    `<div class="next ${m.nextStep.tone}">${codeSpans(esc(m.nextStep.text))}</div>${advice}` +
    `<div class="cards" style="margin-top:14px">${cards.join('')}</div>` +
    figure('Rows by final status', '', statusBarSvg('status', 'Rows by final status', s.rows.byStatus)) +
    when +
    `</section>`
  );
}

function latencyTable(m: ReportModel): string {
  const rows: [string, Histogram | null, string][] = [
    ['delay (delayTime)', m.latency.delay, "RunPod's: queue wait + cold start"],
    ['execution (executionTime)', m.latency.execution, "RunPod's: time on the worker"],
    ['end to end', m.latency.endToEnd, 'measured by runpod-batch: submit → result seen'],
  ];
  const d = (v: number): string => fmtDuration(v);
  return (
    `<table><thead><tr><th>latency</th><th class="n">rows</th><th class="n">min</th><th class="n">p50</th><th class="n">p90</th><th class="n">p99</th><th class="n">max</th><th class="n">mean</th><th>source</th></tr></thead><tbody>` +
    rows
      .map(
        ([name, h, src]) =>
          `<tr><td>${esc(name)}</td>` +
          (h
            ? [fmtInt(h.count), d(h.min), d(h.p50), d(h.p90), d(h.p99), d(h.max), d(h.mean)].map((v) => `<td class="n">${esc(v)}</td>`).join('')
            : `<td class="n">0</td>` + '<td class="n">–</td>'.repeat(6)) +
          `<td class="note">${esc(src)}</td></tr>`,
      )
      .join('') +
    `</tbody></table>`
  );
}

function latency(m: ReportModel): string {
  const cold = m.coldStarts;
  const thresholdMarker =
    m.latency.delay && cold.jobsWithDelay > 0
      ? [{ pct: false, label: 'cold start >', value: cold.thresholdMs, color: COLORS.cost }]
      : [];
  return (
    `<section id="latency"><h2>${SECTION_TITLES.latency}</h2>` +
    `<p class="note">Over each row's final job. Lines mark p50, p90 and p99 (nearest rank). Long tails switch the time axis to a log scale.</p>` +
    `<div class="grid">` +
    figure('Delay time', "(RunPod's delayTime: waiting for a worker, cold start included)", histogramSvg('latency-delay', 'Delay time histogram', m.latency.delay, { what: 'delay time', noun: 'rows', extra: thresholdMarker })) +
    figure('Execution time', "(RunPod's executionTime: time on the worker, billed)", histogramSvg('latency-execution', 'Execution time histogram', m.latency.execution, { what: 'execution time', noun: 'rows' })) +
    figure('End to end', '(submission to result seen, measured here; includes polling)', histogramSvg('latency-e2e', 'End-to-end latency histogram', m.latency.endToEnd, { what: 'end-to-end latency', noun: 'rows' })) +
    `</div>` +
    latencyTable(m) +
    (m.summary.timingsMissing > 0
      ? `<p class="note">${esc(fmtInt(m.summary.timingsMissing))} finished rows have no delayTime/executionTime and are left out.</p>`
      : '') +
    `</section>`
  );
}

function pauseNote(m: ReportModel): string {
  const t = m.timeline;
  if (t.pauseCount === 0) return '';
  return `<p class="note">Time axis: running time only. ${esc(fmtInt(t.pauseCount))} pause${t.pauseCount === 1 ? '' : 's'} (resumes, or gaps of more than 5 minutes between progress samples) are cut out and marked with dashed lines.</p>`;
}

function throughput(m: ReportModel): string {
  const r = rates(m);
  const E = m.timeline.elapsedMs;
  const tp = lineChartSvg(
    'throughput',
    'Completed and failed per minute',
    [
      { name: `completed / min${r.smoothing}`, color: COLORS.completed, xs: r.xs, ys: r.completedPerMin },
      { name: `failed / min${r.smoothing}`, color: COLORS.failed, xs: r.xs, ys: r.failedPerMin },
    ],
    { elapsedMs: E, yLabel: 'jobs per minute', pauses: m.timeline.pauses, empty: 'no data (no progress samples)' },
  );
  const inflight = lineChartSvg(
    'in-flight',
    'Jobs in flight',
    [{ name: 'jobs in flight (mean)', color: COLORS.inflight, xs: r.xs, ys: r.inFlight, area: true }],
    { elapsedMs: E, yLabel: 'jobs in flight', pauses: m.timeline.pauses, empty: 'no data (no progress samples)' },
  );
  const total = m.activity.points.reduce((a, p) => a + p.completed, 0);
  const text =
    m.activity.points.length > 0
      ? `<p class="note">Peak ${esc(fmtNum(peak(r.completedPerMin)))} completed/min${esc(r.smoothing)}; mean ${esc(fmtNum(E > 0 ? (total * 60_000) / E : 0))}/min over ${esc(fmtDuration(E))} of running time. Peak ${esc(fmtNum(peak(m.activity.points.map((p) => p.inFlightMax))))} jobs in flight. From progress samples (about one a second), in ${esc(fmtDuration(m.activity.bucketMs))} buckets.</p>`
      : '';
  return (
    `<section id="throughput"><h2>${SECTION_TITLES.throughput}</h2>` +
    `<div class="grid">${figure('Throughput', '(jobs per minute)', tp)}${figure('In flight', '(jobs submitted and not yet finished)', inflight)}</div>` +
    text +
    pauseNote(m) +
    `</section>`
  );
}

function cost(m: ReportModel): string {
  const c = m.cost;
  const usd = c.pricePerSecond !== null;
  const xs = [0, ...c.points.map((p) => p.t)];
  const ys = [0, ...c.points.map((p) => (usd ? (p.usd ?? 0) : p.billedSeconds))];
  const chart = lineChartSvg(
    'cost',
    usd ? 'Cumulative estimated cost' : 'Cumulative billed seconds',
    [{ name: usd ? 'estimated cost (USD)' : 'billed seconds', color: COLORS.cost, xs: c.points.length > 0 ? xs : [], ys: c.points.length > 0 ? ys : [], area: true }],
    {
      elapsedMs: m.timeline.elapsedMs,
      yLabel: usd ? 'USD (estimate)' : 'billed seconds',
      yFmt: usd ? (v) => (v === 0 ? '0' : fmtUsd(v)) : undefined,
      pauses: m.timeline.pauses,
      empty: 'no data (no job has an executionTime yet)',
    },
  );
  const total = usd
    ? `Estimated cost <b>${esc(orDash(c.totalUsd, fmtUsd))}</b> for ${esc(fmtInt(c.totalBilledSeconds))} billed seconds at $${esc(String(c.pricePerSecond))}/s (${esc(m.summary.priceSource)}).`
    : `${esc(fmtInt(c.totalBilledSeconds))} billed seconds. No price known: pass <code>--price-per-second</code> or <code>--gpu</code> for a cost estimate.`;
  return (
    `<section id="cost"><h2>${SECTION_TITLES.cost}</h2>` +
    figure(usd ? 'Cumulative estimated cost' : 'Cumulative billed seconds', '(each job counted when it finished; failed and retried attempts included)', chart) +
    `<p>${total}</p><p class="note est">Estimate: ${esc(m.summary.billedSecondsNote)}</p>` +
    `</section>`
  );
}

function failureRow(g: FailureGroup): string {
  const statuses = Object.entries(g.statuses)
    .map(([s, n]) => `<span class="tag">${esc(s)} ${esc(fmtInt(n))}</span>`)
    .join('');
  const tb = g.traceback ? `<details><summary>traceback (end)</summary><pre>${esc(g.traceback)}</pre></details>` : '';
  return (
    `<tr><td class="msg">${g.type ? `<b>${esc(g.type)}</b>: ` : ''}${esc(g.message)}${tb}</td>` +
    `<td class="n">${esc(fmtInt(g.rows))}</td><td class="n">${esc(fmtInt(g.jobs))}</td><td>${statuses}</td>` +
    `<td>${g.exampleIds.map((id) => `<code>${esc(id)}</code>`).join(', ')}</td></tr>`
  );
}

function failures(m: ReportModel): string {
  const f = m.failures;
  const j = f.jobs;
  const jobLine =
    `<p>Jobs (every attempt, retried ones included): <span class="tag">FAILED ${esc(fmtInt(j.failed))}</span><span class="tag">TIMED_OUT ${esc(fmtInt(j.timedOut))}</span>` +
    `<span class="tag">CANCELLED ${esc(fmtInt(j.cancelled))}</span><span class="tag">LOST ${esc(fmtInt(j.lost))}</span><span class="tag">EXPIRED ${esc(fmtInt(j.expired))}</span></p>` +
    `<p class="note">LOST: no result was ever seen for the job (e.g. /status answered 404); EXPIRED: the result was gone after RunPod's 30-minute retention. Their rows were run again.</p>`;
  if (f.groups.length === 0) {
    return `<section id="failures"><h2>${SECTION_TITLES.failures}</h2><p>No failures: no row ended FAILED, TIMED_OUT or CANCELLED and no job failed.</p>${jobLine}</section>`;
  }
  const bars = labelledBarsSvg(
    'failures',
    'Failures by error',
    f.groups.slice(0, 10).map((g) => ({
      label: g.type ? `${g.type}: ${g.message}` : g.message,
      value: Math.max(g.rows, g.jobs),
      note: `${fmtInt(g.rows)} row${g.rows === 1 ? '' : 's'} · ${fmtInt(g.jobs)} job${g.jobs === 1 ? '' : 's'}`,
    })),
    'no failures',
  );
  return (
    `<section id="failures"><h2>${SECTION_TITLES.failures}</h2>` +
    `<p>${esc(fmtInt(f.failedRows))} rows did not complete. Errors are grouped by error_type + error_message (RunPod's JSON error strings) or by the plain message.` +
    (f.distinct > f.groups.length ? ` Showing the ${f.groups.length} largest of ${esc(fmtInt(f.distinct))} groups.` : '') +
    `</p>` +
    figure('Failures by error', '(bar: the larger of rows and jobs)', bars) +
    `<table><thead><tr><th>error</th><th class="n">rows</th><th class="n">jobs</th><th>final status</th><th>example row ids</th></tr></thead><tbody>` +
    f.groups.map(failureRow).join('') +
    `</tbody></table>` +
    `<p class="note">Rows: rows whose final state carries the error (they are in errors.jsonl). Jobs: attempts that ended with it, including attempts that were retried and later succeeded.</p>` +
    jobLine +
    `</section>`
  );
}

function coldStarts(m: ReportModel): string {
  const c = m.coldStarts;
  const cards = [
    card('Cold starts', fmtInt(c.count), `of ${fmtInt(c.jobsWithDelay)} jobs with a delayTime`, 'est'),
    card('Share', c.jobsWithDelay > 0 ? fmtPct(c.count, c.jobsWithDelay) : '–', `delayTime > ${fmtDuration(c.thresholdMs)}`, 'est'),
    card('Billed cold-start time', `${fmtNum(c.estimatedBilledSeconds)} s`, `at most ${fmtNum(c.upperBoundSeconds)} s`, 'est'),
    card('Cold-start cost', c.estimatedCostUsd === null ? 'unknown' : fmtUsd(c.estimatedCostUsd), c.estimatedCostUsd === null ? 'no price given' : 'not in the billed seconds above', 'est'),
  ];
  return (
    `<section id="cold-starts"><h2>${SECTION_TITLES.coldStarts}</h2>` +
    `<div class="cards">${cards.join('')}</div>` +
    `<p>A job counts as a cold start when its delayTime is above ${esc(fmtDuration(c.thresholdMs))}` +
    (c.thresholdGiven ? '' : ` (the default: the larger of 2 s and 3 × the median delayTime, ${esc(orDash(c.medianDelayMs, fmtDuration))})`) +
    `. Its billed cold-start time is estimated as delayTime minus the median delayTime.</p>` +
    `<p class="note est">These figures are estimates. RunPod bills the cold start (container start, model load), but reports it only inside delayTime, mixed with queue wait, which is not billed: a long delay while all workers were busy looks like a cold start here. The upper bound counts the whole delayTime.</p>` +
    `</section>`
  );
}

function retries(m: ReportModel): string {
  const r = rates(m);
  const table =
    m.requests.length === 0
      ? '<p>No requests recorded.</p>'
      : `<table><thead><tr><th>operation</th><th class="n">requests</th><th class="n">429s</th><th class="n">retries</th><th class="n">errors</th></tr></thead><tbody>` +
        m.requests
          .map(
            (o) =>
              `<tr${o.op === 'total' ? ' style="font-weight:600"' : ''}><td>${esc(o.op === 'total' ? 'total' : '/' + o.op)}</td><td class="n">${esc(fmtInt(o.requests))}</td><td class="n">${esc(fmtInt(o.rateLimited))}</td><td class="n">${esc(fmtInt(o.retries))}</td><td class="n">${esc(fmtInt(o.errors))}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`;
  const chart = lineChartSvg(
    'rate-limits',
    '429 responses and retries per minute',
    [
      // Retries include the retried 429s: drawn first, so the 429 line stays visible on top.
      { name: `retries / min${r.smoothing}`, color: COLORS.warn, xs: r.xs, ys: r.retriesPerMin },
      { name: `429s / min${r.smoothing}`, color: COLORS.failed, xs: r.xs, ys: r.rateLimitedPerMin },
    ],
    { elapsedMs: m.timeline.elapsedMs, yLabel: 'per minute', pauses: m.timeline.pauses, empty: 'no data (no progress samples)' },
  );
  return (
    `<section id="retries"><h2>${SECTION_TITLES.retries}</h2>` +
    `<div class="grid"><div>${table}<p class="note">Retries: requests sent again after a 429, a 5xx or a network error, with backoff (Retry-After honoured). Errors: requests that failed for good.</p></div>` +
    figure('429s and retries over time', '', chart) +
    `</div></section>`
  );
}

function slowest(m: ReportModel): string {
  if (m.slowest.length === 0) return `<section id="slowest"><h2>${SECTION_TITLES.slowest}</h2><p>No row has an end-to-end time yet.</p></section>`;
  const d = (v: number | null): string => orDash(v, fmtDuration);
  return (
    `<section id="slowest"><h2>${SECTION_TITLES.slowest}</h2>` +
    `<table><thead><tr><th class="n">#</th><th>row id</th><th class="n">line</th><th>status</th><th class="n">delay</th><th class="n">execution</th><th class="n">end to end</th><th class="n">attempts</th></tr></thead><tbody>` +
    m.slowest
      .map(
        (r, i) =>
          `<tr><td class="n">${i + 1}</td><td><code>${esc(r.id)}</code></td><td class="n">${esc(fmtInt(r.line))}</td><td>${esc(r.status)}</td>` +
          `<td class="n">${esc(d(r.delayTime))}</td><td class="n">${esc(d(r.executionTime))}</td><td class="n"><b>${esc(d(r.e2eMs))}</b></td><td class="n">${esc(fmtInt(r.attempts))}</td></tr>`,
      )
      .join('') +
    `</tbody></table><p class="note">Delay and execution of the row's final job (RunPod's figures); end to end measured by runpod-batch.</p></section>`
  );
}

function about(): string {
  return (
    `<section id="about"><h2>${SECTION_TITLES.about}</h2>` +
    `<p><b>RunPod's figures</b> (as reported by /status): ${RUNPOD_FIGURES.map(esc).join('; ')}.</p>` +
    `<p><b>Estimates</b>:</p><ul>${ESTIMATE_NOTES.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` +
    `</section>`
  );
}

export function renderHtml(m: ReportModel): string {
  const title = `runpod-batch report: ${m.title}`;
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(title)}</title><style>${CSS}</style></head><body><main>` +
    `<header><h1>${esc(title)}</h1><div class="meta">Endpoint <code>${esc(m.endpoint)}</code> · output <code>${esc(m.outDir)}</code> · generated ${esc(fmtClock(m.generatedAt))}</div></header>` +
    summary(m) +
    latency(m) +
    throughput(m) +
    cost(m) +
    failures(m) +
    coldStarts(m) +
    retries(m) +
    slowest(m) +
    about() +
    `<footer>Generated by runpod-batch. Self-contained: no scripts, no network.</footer>` +
    `</main></body></html>\n`
  );
}
