/** report.html's sections drawn over running time: throughput and jobs in flight, cost, 429s and retries. */
import { escapeHtml as esc, fmtClock, fmtDuration, fmtTimeOfDay, fmtInt, fmtNum, fmtUsd, orDash } from './format.js';
import { figure } from './html-elements.js';
import type { ReportModel } from './model.js';
import { peak, rates, retrySeries } from './series.js';
import { COLORS } from './svg.js';
import { lineChartSvg } from './svg-line.js';
import { SECTION_TITLES } from './text.js';

function pauseNote(m: ReportModel): string {
  const t = m.timeline;
  if (t.pauseCount === 0) return '';
  return `<p class="note">Time axis: running time only. ${esc(fmtInt(t.pauseCount))} pause${t.pauseCount === 1 ? '' : 's'} (resumes, or gaps of more than 5 minutes between progress samples) are cut out and marked with dashed lines.</p>`;
}

export function throughputSection(m: ReportModel): string {
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
  const text =
    m.activity.points.length > 0
      ? `<p class="note">Peak ${esc(fmtNum(peak(r.completedPerMin)))} completed/min${esc(r.smoothing)}; overall ${esc(fmtNum(m.summary.throughputPerMinute))}/min (the summary's throughput: completed rows per minute of wall time). Peak ${esc(fmtNum(peak(m.activity.points.map((p) => p.inFlightMax))))} jobs in flight. From progress samples (about one a second), in ${esc(fmtDuration(m.activity.bucketMs))} buckets.</p>`
      : '';
  return (
    `<section id="throughput"><h2>${SECTION_TITLES.throughput}</h2>` +
    `<div class="grid">${figure('Throughput', '(jobs per minute)', tp)}${figure('In flight', '(jobs submitted and not yet finished)', inflight)}</div>` +
    text +
    pauseNote(m) +
    sizingNote(m) +
    `</section>`
  );
}

export function costSection(m: ReportModel): string {
  const c = m.cost;
  const usd = c.pricePerSecond !== null;
  const xs = [0, ...c.points.map((p) => p.t)];
  const ys = [0, ...c.points.map((p) => (usd ? (p.usd ?? 0) : p.billedSeconds))];
  const chart = lineChartSvg(
    'cost',
    usd ? 'Cumulative estimated cost' : 'Cumulative billed seconds',
    [
      {
        name: usd ? 'estimated cost (USD)' : 'billed seconds',
        color: COLORS.cost,
        xs: c.points.length > 0 ? xs : [],
        ys: c.points.length > 0 ? ys : [],
        area: true,
      },
    ],
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
    figure(
      usd ? 'Cumulative estimated cost' : 'Cumulative billed seconds',
      '(each job counted when it finished; failed and retried attempts included)',
      chart,
    ) +
    `<p>${total}</p><p class="note est">Estimate: ${esc(m.summary.billedSecondsNote)}</p>` +
    `</section>`
  );
}

export function retriesSection(m: ReportModel): string {
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
  const rs = retrySeries(m, r);
  const chart = lineChartSvg(
    'rate-limits',
    rs.perMinute ? '429 responses and retries per minute' : `429 responses and retries ${rs.unit}`,
    [
      // Retries include the retried 429s: drawn first, so the 429 line stays visible on top.
      { name: `retries ${rs.unit}`, color: COLORS.warn, xs: rs.xs, ys: rs.retries },
      { name: `429s ${rs.unit}`, color: COLORS.failed, xs: rs.xs, ys: rs.rateLimited },
    ],
    {
      elapsedMs: m.timeline.elapsedMs,
      yLabel: rs.perMinute ? 'per minute' : rs.unit,
      pauses: m.timeline.pauses,
      empty: 'no data (no progress samples)',
    },
  );
  return (
    `<section id="retries"><h2>${SECTION_TITLES.retries}</h2>` +
    `<div class="grid"><div>${table}<p class="note">Retries: requests sent again after a 429, a 5xx or a network error, with backoff (Retry-After honoured). Errors: requests that failed for good.</p></div>` +
    figure('429s and retries over time', '', chart) +
    `</div></section>`
  );
}

/** The in-flight target auto-sizing chose, and when its mode changed. */
function sizingNote(m: ReportModel): string {
  const z = m.sizing;
  if (!z) return '';
  let o = `<p class="note"><b>In-flight target</b> (<code>--concurrency auto</code>): ${esc(fmtInt(z.current.target))} at ${esc(fmtClock(z.current.t))} — ${esc(z.current.reason)}.</p>`;
  if (z.changes.length > 1) {
    o +=
      `<table><thead><tr><th>time</th><th class="n">target</th><th>why</th></tr></thead><tbody>` +
      z.changes
        .map((c) => `<tr><td>${esc(fmtTimeOfDay(c.t))}</td><td class="n">${esc(fmtInt(c.target))}</td><td>${esc(c.reason)}</td></tr>`)
        .join('') +
      `</tbody></table>` +
      (z.changesLeftOut > 0 ? `<p class="note">${esc(fmtInt(z.changesLeftOut))} earlier changes left out.</p>` : '');
  }
  return o;
}
