/**
 * report.html: one self-contained file (inline CSS, inline SVG; no script, font, image or network), readable on a
 * laptop. A Content-Security-Policy forbids scripts and remote loads as a second line of defence; the first is that
 * every string from data is escaped. This file is the page shell (CSS, head, header, section order, footer); the
 * sections are drawn in html-outcomes.ts, html-latency.ts and html-activity.ts.
 */
import { escapeHtml as esc, fmtClock } from './format.js';
import { costSection, retriesSection, throughputSection } from './html-activity.js';
import { coldStartsSection, latencySection, slowestSection } from './html-latency.js';
import { failuresSection, summarySection } from './html-outcomes.js';
import type { ReportModel } from './model.js';
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
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; margin: 4px 0 14px; }
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
figure svg.wide { max-width: none; height: 24px; border-radius: 3px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin-top: 8px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
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
    summarySection(m) +
    latencySection(m) +
    throughputSection(m) +
    costSection(m) +
    failuresSection(m) +
    coldStartsSection(m) +
    retriesSection(m) +
    slowestSection(m) +
    about() +
    `<footer>Generated by runpod-batch. Self-contained: no scripts, no network.</footer>` +
    `</main></body></html>\n`
  );
}
