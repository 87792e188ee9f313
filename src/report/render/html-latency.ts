/** report.html's sections on the rows' and jobs' latencies: the histograms, the cold starts, the slowest rows. */
import { WARM_FIRST_JOB_MS } from './cold-starts.js';
import { escapeHtml as esc, fmtDuration, fmtInt, fmtNum, fmtPct, fmtUsd, orDash } from './format.js';
import { card, figure } from './html-elements.js';
import type { Histogram, ReportModel } from './model.js';
import { COLORS } from './svg.js';
import { histogramSvg } from './svg-histogram.js';
import { SECTION_TITLES } from './text.js';

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
            ? [fmtInt(h.count), d(h.min), d(h.p50), d(h.p90), d(h.p99), d(h.max), d(h.mean)]
                .map((v) => `<td class="n">${esc(v)}</td>`)
                .join('')
            : `<td class="n">0</td>` + '<td class="n">–</td>'.repeat(6)) +
          `<td class="note">${esc(src)}</td></tr>`,
      )
      .join('') +
    `</tbody></table>`
  );
}

export function latencySection(m: ReportModel): string {
  const cold = m.coldStarts;
  const thresholdMarker =
    m.latency.delay && cold.jobsWithDelay > 0 && cold.method === 'threshold'
      ? [{ pct: false, label: 'cold start >', value: cold.thresholdMs, color: COLORS.cost }]
      : [];
  return (
    `<section id="latency"><h2>${SECTION_TITLES.latency}</h2>` +
    `<p class="note">Over each row's final job. Lines mark p50, p90 and p99 (nearest rank). Long tails switch the time axis to a log scale.</p>` +
    `<div class="grid">` +
    figure(
      'Delay time',
      "(RunPod's delayTime: waiting for a worker, cold start included)",
      histogramSvg('latency-delay', 'Delay time histogram', m.latency.delay, { what: 'delay time', noun: 'rows', extra: thresholdMarker }),
    ) +
    figure(
      'Execution time',
      "(RunPod's executionTime: time on the worker, billed)",
      histogramSvg('latency-execution', 'Execution time histogram', m.latency.execution, { what: 'execution time', noun: 'rows' }),
    ) +
    figure(
      'End to end',
      '(submission to result seen, measured here; includes polling)',
      histogramSvg('latency-e2e', 'End-to-end latency histogram', m.latency.endToEnd, { what: 'end-to-end latency', noun: 'rows' }),
    ) +
    `</div>` +
    latencyTable(m) +
    (m.summary.timingsMissing > 0
      ? `<p class="note">${esc(fmtInt(m.summary.timingsMissing))} finished rows have no delayTime/executionTime and are left out.</p>`
      : '') +
    `</section>`
  );
}

export function coldStartsSection(m: ReportModel): string {
  const c = m.coldStarts;
  const byWorker = c.method === 'first-job';
  const cards = [
    byWorker
      ? card('Cold starts', fmtInt(c.count), `of ${fmtInt(c.workers ?? 0)} workers seen`, 'est')
      : card('Cold starts', fmtInt(c.count), `of ${fmtInt(c.jobsWithDelay)} jobs with a delayTime`, 'est'),
    byWorker
      ? card('Per cold start', c.count > 0 ? fmtDuration((c.estimatedBilledSeconds * 1000) / c.count) : '–', 'mean, estimated', 'est')
      : card('Share', c.jobsWithDelay > 0 ? fmtPct(c.count, c.jobsWithDelay) : '–', `delayTime > ${fmtDuration(c.thresholdMs)}`, 'est'),
    card(
      'Billed cold-start time',
      `${fmtNum(c.estimatedBilledSeconds)} s`,
      c.estimateFrom === 'health'
        ? `workers starting in ${fmtInt(c.healthReads)} /health reads`
        : `at most ${fmtNum(c.upperBoundSeconds)} s`,
      'est',
    ),
    card(
      'Cold-start cost',
      c.estimatedCostUsd === null ? 'unknown' : fmtUsd(c.estimatedCostUsd),
      c.estimatedCostUsd === null ? 'no price given' : 'not in the billed seconds above',
      'est',
    ),
  ];
  const health =
    c.estimateFrom === 'health'
      ? `<p>The billed cold-start time is the worker time RunPod's /health showed starting (<code>initializing</code>), summed over ${esc(fmtInt(c.healthReads))} reads: ` +
        `each read counts the workers starting then for the time until the next read (about 3 s), so a boot is counted about as long as it lasted. ` +
        `The jobs' waits below (${esc(fmtNum(c.upperBoundSeconds))} s) also hold the time a job waited before its worker was added, which is not billed.</p>`
      : '';
  const how = health
    ? byWorker
      ? `<p>Cold starts counted: workers whose first job (RunPod's workerId says which worker ran a job) waited ${esc(fmtDuration(WARM_FIRST_JOB_MS))} or more.</p>`
      : `<p>Cold starts counted: jobs whose delayTime is above ${esc(fmtDuration(c.thresholdMs))}.</p>`
    : byWorker
      ? `<p>A worker's cold start shows in the delayTime of its first job (RunPod's workerId says which worker ran a job): a first job that waited ` +
        `${esc(fmtDuration(WARM_FIRST_JOB_MS))} or more found its worker cold. Each cold start is taken to last as long as the shortest of those waits ` +
        `(${esc(orDash(c.shortestColdMs, fmtDuration))}: the worker that started with no queue ahead of its job).</p>` +
        `<p class="note est">An estimate. RunPod reports the cold start only inside delayTime; the upper bound counts the first jobs' whole waits, which also hold any queue wait before a worker was started (e.g. while an autoscaler waited to add it). A worker that stopped after its idle timeout and started again is counted once.</p>`
      : `<p>A job counts as a cold start when its delayTime is above ${esc(fmtDuration(c.thresholdMs))}` +
        (c.thresholdGiven
          ? ''
          : ` (the default: the larger of 2 s and 3 × the median delayTime, ${esc(orDash(c.medianDelayMs, fmtDuration))})`) +
        `. Its billed cold-start time is estimated as delayTime minus the median delayTime.</p>` +
        `<p class="note est">These figures are estimates (the server gave no workerIds to tell workers apart). RunPod bills the cold start (container start, model load), but reports it only inside delayTime, mixed with queue wait, which is not billed: a long delay while all workers were busy looks like a cold start here. The upper bound counts the whole delayTime.</p>`;
  return `<section id="cold-starts"><h2>${SECTION_TITLES.coldStarts}</h2><div class="cards">${cards.join('')}</div>${health}${how}</section>`;
}
export function slowestSection(m: ReportModel): string {
  if (m.slowest.length === 0)
    return `<section id="slowest"><h2>${SECTION_TITLES.slowest}</h2><p>No row has an end-to-end time yet.</p></section>`;
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
