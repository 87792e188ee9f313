/** report.html's sections on how the batch ended: the summary (next step, figures, final statuses) and the failures. */
import { escapeHtml as esc, fmtClock, fmtDuration, fmtInt, fmtNum, fmtPct, fmtUsd, orDash } from './format.js';
import { card, codeSpans, figure } from './html-elements.js';
import type { FailureGroup, ReportModel } from './model.js';
import { labelledBarsSvg, statusBarSvg } from './svg-bars.js';
import { SECTION_TITLES } from './text.js';

export function summarySection(m: ReportModel): string {
  const s = m.summary;
  const r = s.rows;
  const cards = [
    card(
      'Rows completed',
      fmtInt(r.completed),
      m.summary.completedPct === null ? 'no rows' : `of ${fmtInt(r.total)} (${fmtPct(r.completed, r.total)})`,
    ),
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
    s.firstActivity !== null
      ? `<p class="note">First job ${esc(fmtClock(s.firstActivity))}, last activity ${esc(orDash(s.lastActivity, fmtClock))}.` +
        (s.rows.resubmitted > 0
          ? ` ${esc(fmtInt(s.rows.resubmitted))} rows needed more than one job (${esc(fmtInt(s.rows.attempts))} jobs for ${esc(fmtInt(s.rows.total))} rows).`
          : '') +
        `</p>`
      : '';
  return (
    `<section id="summary"><h2>${SECTION_TITLES.summary}</h2>` +
    `<div class="next ${m.nextStep.tone}">${codeSpans(esc(m.nextStep.text))}</div>${advice}` +
    `<div class="cards" style="margin-top:14px">${cards.join('')}</div>` +
    figure('Rows by final status', '', statusBarSvg('status', 'Rows by final status', s.rows.byStatus)) +
    when +
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

export function failuresSection(m: ReportModel): string {
  const f = m.failures;
  const j = f.jobs;
  const jobLine =
    `<p>Jobs (every attempt, retried ones included): <span class="tag">FAILED ${esc(fmtInt(j.failed))}</span><span class="tag">TIMED_OUT ${esc(fmtInt(j.timedOut))}</span>` +
    `<span class="tag">CANCELLED ${esc(fmtInt(j.cancelled))}</span><span class="tag">LOST ${esc(fmtInt(j.lost))}</span><span class="tag">EXPIRED ${esc(fmtInt(j.expired))}</span></p>` +
    `<p class="note">LOST: no result was ever seen for the job (e.g. /status answered 404); EXPIRED: the result was gone after RunPod's 30-minute retention. Their rows were run again.</p>` +
    `<p>Caught by the output checks (RunPod said COMPLETED): <span class="tag">EMPTY_OUTPUT ${esc(fmtInt(j.emptyOutput))}</span><span class="tag">OUTPUT_ERROR ${esc(fmtInt(j.outputError))}</span></p>` +
    `<p class="note">EMPTY_OUTPUT: no output (a refused result POST, or a generator handler without return_aggregate_stream); OUTPUT_ERROR: an error inside the output. Each counts as a failed attempt.</p>`;
  // Errors no row ended with were recovered by a retry: not failures of the batch, shown apart and without alarm.
  const failing = f.groups.filter((g) => g.rows > 0);
  const recovered = f.groups.filter((g) => g.rows === 0);
  const recoveredPart =
    recovered.length === 0
      ? ''
      : `<h3>Recovered by a retry</h3><p class="note">Errors of attempts that were run again and then completed: not failures of the batch (they are billed, though).</p>` +
        `<table class="recovered"><thead><tr><th>error</th><th class="n">jobs</th></tr></thead><tbody>` +
        recovered
          .map(
            (g) =>
              `<tr><td class="msg">${g.type ? `<b>${esc(g.type)}</b>: ` : ''}${esc(g.message)}</td><td class="n">${esc(fmtInt(g.jobs))}</td></tr>`,
          )
          .join('') +
        `</tbody></table>`;
  const more = f.distinct > f.groups.length ? ` Showing the ${f.groups.length} largest of ${esc(fmtInt(f.distinct))} groups.` : '';
  if (failing.length === 0) {
    return (
      `<section id="failures"><h2>${SECTION_TITLES.failures}</h2><p>No failures: no row ended FAILED, TIMED_OUT or CANCELLED.${more}</p>` +
      recoveredPart +
      jobLine +
      `</section>`
    );
  }
  const bars = labelledBarsSvg(
    'failures',
    'Failures by error',
    failing.slice(0, 10).map((g) => ({
      label: g.type ? `${g.type}: ${g.message}` : g.message,
      value: Math.max(g.rows, g.jobs),
      note: `${fmtInt(g.rows)} row${g.rows === 1 ? '' : 's'} · ${fmtInt(g.jobs)} job${g.jobs === 1 ? '' : 's'}`,
    })),
    'no failures',
  );
  return (
    `<section id="failures"><h2>${SECTION_TITLES.failures}</h2>` +
    `<p>${esc(fmtInt(f.failedRows))} rows did not complete. Errors are grouped by error_type + error_message (RunPod's JSON error strings) or by the plain message.${more}</p>` +
    figure('Failures by error', '(bar: the larger of rows and jobs)', bars) +
    `<table><thead><tr><th>error</th><th class="n">rows</th><th class="n">jobs</th><th>final status</th><th>example row ids</th></tr></thead><tbody>` +
    failing.map(failureRow).join('') +
    `</tbody></table>` +
    `<p class="note">Rows: rows whose final state carries the error (they are in errors.jsonl). Jobs: attempts that ended with it, including attempts that were retried and later succeeded.</p>` +
    recoveredPart +
    jobLine +
    `</section>`
  );
}
