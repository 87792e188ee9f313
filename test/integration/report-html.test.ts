/**
 * report.html in a real browser: headless Chromium (Debian's `chromium` package) loads the file, its DOM is dumped and
 * a screenshot taken. Checks that every chart has drawn marks, that data cannot inject markup, and that the page is
 * not blank. Set REPORT_HTML_OUT=<dir> to keep report.html and the screenshot for a look.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildReportModel,
  renderHtml,
  type ReportInput,
  type ReportJob,
  type ReportModel,
  type ReportRow,
  type ReportSample,
} from '../../src/report/render/index.js';
import { createRng } from '../../src/emulator/rng.js';
import { computeStats } from '../../src/report/stats.js';
import { CHROMIUM, chromiumArgs, countNear, decodePng } from '../support/chromium.js';
import { tempDir } from '../support/tmp.js';

const run = promisify(execFile);

/** Deterministic PRNG: the emulator's (mulberry32). */
const rng = createRng;

const EVIL = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`;

/**
 * ~2,000 rows over two runs (22 min, a 2 h 13 min pause, 16 min): log-normal execution around 3.2 s, a few cold starts
 * of 12–42 s, a handful of failures (a RunPod JSON error, a plain one, one carrying markup), timeouts, lost jobs with
 * resubmissions, and 429s early in each run.
 */
function syntheticBatch(n = 2000, seed = 7): ReportInput {
  const r = rng(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const t0 = Date.UTC(2026, 0, 5, 22, 0, 0);
  const run1 = { runId: 1, start: t0, end: t0 + 22 * 60_000, share: 0.6 };
  const run2Start = run1.end + (2 * 60 + 13) * 60_000;
  const run2 = { runId: 2, start: run2Start, end: run2Start + 16 * 60_000, share: 0.4 };
  const oom = JSON.stringify({
    error_type: 'torch.cuda.OutOfMemoryError',
    error_message: 'CUDA out of memory. Tried to allocate 2.00 GiB',
    error_traceback:
      'Traceback (most recent call last):\n  File "handler.py", line 42, in handler\n    out = model(x)\ntorch.cuda.OutOfMemoryError: CUDA out of memory.',
  });
  const jobs: ReportJob[] = [];
  const rows: ReportRow[] = [];
  for (let i = 0; i < n; i++) {
    const inRun1 = i < n * run1.share;
    const runInfo = inRun1 ? run1 : run2;
    const k = inRun1 ? i / (n * run1.share) : (i - n * run1.share) / (n * run2.share);
    let submittedAt = Math.round(runInfo.start + k * (runInfo.end - runInfo.start - 90_000) + r() * 2000);
    const firstSubmit = submittedAt;
    const id = `row-${i + 1}`;
    for (let attempt = 1; ; attempt++) {
      const cold = r() < 0.03 || (k < 0.02 && r() < 0.5);
      const delay = Math.round(cold ? 12_000 + r() * 30_000 : 150 + Math.abs(normal()) * 400);
      const exec = Math.round(Math.exp(Math.log(3200) + 0.35 * normal()));
      let status = 'COMPLETED';
      let error: string | null = null;
      const u = r();
      if (u < 0.006) [status, error] = ['FAILED', oom];
      else if (u < 0.009) [status, error] = ['FAILED', 'ValueError: prompt is empty'];
      else if (u < 0.0105) status = 'TIMED_OUT';
      else if (u < 0.013) status = 'LOST';
      if (i === 17) [status, error] = ['FAILED', EVIL];
      const lost = status === 'LOST';
      const finishedAt = submittedAt + delay + exec + Math.round(r() * 1500);
      jobs.push({
        jobId: `job-${i}-${attempt}`,
        rowKey: id,
        attempt,
        submittedAt,
        finishedAt,
        status,
        delayTime: lost ? null : delay,
        executionTime: lost ? null : status === 'TIMED_OUT' ? 600_000 : exec,
        error,
      });
      if (status === 'COMPLETED' || attempt >= 3 || (!lost && r() < 0.5)) {
        rows.push({
          id,
          status: lost ? 'FAILED' : status,
          attempts: attempt,
          e2eMs: finishedAt - firstSubmit,
          delayTime: lost ? null : delay,
          executionTime: lost ? null : exec,
          error,
          line: i + 1,
        });
        break;
      }
      submittedAt = finishedAt + 500;
    }
  }
  jobs.sort((a, b) => a.submittedAt - b.submittedAt);
  // One progress sample a second per run, from the jobs; 429s and retries early in each run.
  const samples: ReportSample[] = [];
  let rateLimitedTotal = 0;
  let retriesTotal = 0;
  for (const ri of [run1, run2]) {
    const js = jobs.filter((j) => j.submittedAt >= ri.start && (ri === run2 || j.submittedAt < run2.start));
    let rateLimited = 0;
    let retries = 0;
    for (let t = ri.start + 1000; t <= ri.end; t += 1000) {
      let inFlight = 0;
      let submitted = 0;
      let completed = 0;
      let failed = 0;
      for (const j of js) {
        if (j.submittedAt <= t) submitted++;
        if (j.submittedAt <= t && (j.finishedAt ?? Infinity) > t) inFlight++;
        if ((j.finishedAt ?? Infinity) <= t) j.status === 'COMPLETED' ? completed++ : failed++;
      }
      if (t - ri.start < 90_000 && r() < 0.3) {
        const x = Math.floor(r() * 4);
        rateLimited += x;
        retries += x;
      }
      if (r() < 0.01) retries++;
      samples.push({ runId: ri.runId, t, inFlight, submitted, completed, failed, rateLimited, retries });
    }
    rateLimitedTotal += rateLimited;
    retriesTotal += retries;
  }
  const price = 0.00019;
  const stats = computeStats({
    rows: rows.map((x) => ({
      status: x.status,
      attempts: x.attempts,
      expired: 0,
      lost: 0,
      delayTime: x.delayTime,
      executionTime: x.executionTime,
      e2eMs: x.e2eMs,
    })),
    jobs,
    ops: {
      run: { requests: jobs.length + rateLimitedTotal, rateLimited: rateLimitedTotal, retries: rateLimitedTotal, errors: 0 },
      'status-sync': { requests: jobs.length * 3, rateLimited: 0, retries: retriesTotal - rateLimitedTotal, errors: 2 },
    },
    wallSeconds: (run1.end - run1.start + run2.end - run2.start) / 1000,
    pricePerSecond: price,
  });
  return {
    title: 'prompts.jsonl',
    generatedAt: run2.end + 5000,
    endpoint: 'abc123xyz',
    stats,
    pricePerSecond: price,
    priceSource: 'RunPod docs pricing table: 24 GB flex $0.00019/s',
    jobs,
    rows,
    samples,
    outDir: 'prompts.runpod',
  };
}

/** The charts the realistic report must draw, each with data marks. */
const CHARTS = [
  'status',
  'latency-delay',
  'latency-execution',
  'latency-e2e',
  'throughput',
  'in-flight',
  'cost',
  'failures',
  'rate-limits',
];

describe('report.html in headless Chromium', () => {
  const dir = tempDir('rpb-report-');
  const htmlPath = join(dir, 'report.html');
  let model: ReportModel;

  beforeAll(() => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium package (apt-get update && apt-get install -y chromium)`);
    }
    model = buildReportModel(syntheticBatch());
    writeFileSync(htmlPath, renderHtml(model));
  });

  it('the synthetic batch is realistic: ~2,000 rows, a few failures, two runs', () => {
    expect(model.summary.rows.total).toBe(2000);
    expect(model.summary.rows.failed).toBeGreaterThan(3);
    expect(model.summary.rows.failed).toBeLessThan(40);
    expect(model.timeline.pauseCount).toBe(1);
  });

  it('every chart has drawn marks; data is text, not markup', async () => {
    const profile = mkdtempSync(join(dir, 'profile-'));
    const { stdout } = await run(CHROMIUM, [...chromiumArgs(profile), '--dump-dom', `file://${htmlPath}`], {
      timeout: 45_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const charts = new Map<string, string>();
    for (const m of stdout.matchAll(/<svg\b[^>]*\bdata-chart="([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g)) charts.set(m[1]!, m[2]!);
    expect([...charts.keys()].sort()).toEqual([...CHARTS].sort());
    for (const name of CHARTS) {
      const body = charts.get(name)!;
      const marks = (body.match(/<rect\b[^>]*\bclass="bar"/g)?.length ?? 0) + (body.match(/<path\b[^>]*\bclass="series"/g)?.length ?? 0);
      expect(marks, `${name}: rect.bar / path.series`).toBeGreaterThan(0);
      expect(body, name).not.toContain('no data');
    }
    // Histograms: many bars and three percentile lines each.
    for (const name of ['latency-delay', 'latency-execution', 'latency-e2e']) {
      const body = charts.get(name)!;
      expect(body.match(/class="bar"/g)!.length, name).toBeGreaterThan(8);
      expect(body.match(/<line\b[^>]*\bclass="pct"/g)?.length, name).toBe(3);
    }
    // Series paths really have points.
    for (const m of stdout.matchAll(/<path\b[^>]*\bclass="series"[^>]*\bd="([^"]*)"/g)) expect(m[1]!.length).toBeGreaterThan(20);
    // The error message carrying <script> and <img> stayed text: no such elements in the DOM, and the title is intact.
    expect(stdout).not.toMatch(/<script\b/i);
    expect(stdout).not.toMatch(/<img\b/i);
    expect(stdout).toContain('&lt;script&gt;document.title=');
    expect(stdout).toMatch(/<title>runpod-batch report: prompts\.jsonl<\/title>/);
  });

  it('renders a page that is not blank (screenshot)', async () => {
    const profile = mkdtempSync(join(dir, 'profile-'));
    const png = join(dir, 'report.png');
    await run(CHROMIUM, [...chromiumArgs(profile), `--screenshot=${png}`, '--window-size=1280,3000', `file://${htmlPath}`], {
      timeout: 45_000,
    });
    expect(existsSync(png)).toBe(true);
    // A blank 1280×3000 page compresses to a few KB; this one has text and charts.
    expect(statSync(png).size).toBeGreaterThan(100_000);
    const { width, height, rgba } = decodePng(readFileSync(png));
    expect([width, height]).toEqual([1280, 3000]);
    const pixels = width * height;
    const background = countNear(rgba, [245, 246, 248], 2) + countNear(rgba, [255, 255, 255], 2);
    expect(background / pixels, 'share of background pixels').toBeLessThan(0.97);
    // Histogram bars (#4f7cac), the throughput line (#2e7d32) and the cost area (#6a1b9a at 12% on white) are painted.
    expect(countNear(rgba, [0x4f, 0x7c, 0xac]), 'histogram bar pixels').toBeGreaterThan(5_000);
    expect(countNear(rgba, [0x2e, 0x7d, 0x32], 30), 'green pixels').toBeGreaterThan(1_000);
    if (process.env.REPORT_HTML_OUT) {
      mkdirSync(process.env.REPORT_HTML_OUT, { recursive: true });
      copyFileSync(htmlPath, join(process.env.REPORT_HTML_OUT, 'report.html'));
      copyFileSync(png, join(process.env.REPORT_HTML_OUT, 'report.png'));
    }
  });
});
