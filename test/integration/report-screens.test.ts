/**
 * report.html of three real runs against the emulator — a clean one, one with failures, one interrupted and resumed —
 * looked at in headless Chromium: a screenshot of each, and what a person would look for in it. Set
 * REPORT_HTML_OUT=<dir> to keep the pages and the screenshots.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runBatch, type RunBatchOptions } from '../../src/batch/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { CHROMIUM, chromiumArgs, countNear, decodePng } from '../support/chromium.js';
import { emulatorsClosedAfterEach } from '../support/emulator.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const run = promisify(execFile);
const dir = tempDir('rpb-screens-');
const startEmulator = emulatorsClosedAfterEach();
const RED: [number, number, number] = [0xc6, 0x28, 0x28];

function opts(e: Emulator, input: string, extra: Partial<RunBatchOptions> = {}): RunBatchOptions {
  return { input, endpoint: 'test-endpoint', apiKey: 'test-key', baseUrl: e.baseUrl, pricePerSecond: 0.00019, ...extra };
}

/** The page's DOM as Chromium sees it, and its screenshot's pixels. */
async function look(outDir: string, name: string): Promise<{ dom: string; red: number; background: number }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const page = `file://${join(outDir, 'report.html')}`;
  const png = join(outDir, `${name}.png`);
  const profile = mkdtempSync(join(dir, 'profile-'));
  const { stdout: dom } = await run(CHROMIUM, [...chromiumArgs(profile), '--dump-dom', page], {
    timeout: 45_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  await run(CHROMIUM, [...chromiumArgs(profile), `--screenshot=${png}`, '--window-size=1280,2400', page], { timeout: 45_000 });
  const { width, height, rgba } = decodePng(readFileSync(png));
  if (process.env.REPORT_HTML_OUT) {
    mkdirSync(process.env.REPORT_HTML_OUT, { recursive: true });
    copyFileSync(png, join(process.env.REPORT_HTML_OUT, `${name}.png`));
    copyFileSync(join(outDir, 'report.html'), join(process.env.REPORT_HTML_OUT, `${name}.html`));
  }
  const background = (countNear(rgba, [245, 246, 248], 2) + countNear(rgba, [255, 255, 255], 2)) / (width * height);
  return { dom, red: countNear(rgba, RED, 6), background };
}

function section(dom: string, id: string): string {
  const at = dom.indexOf(`<section id="${id}">`);
  expect(at, id).toBeGreaterThan(0);
  return dom.slice(at, dom.indexOf('</section>', at));
}

describe('report.html of real runs, looked at in Chromium', () => {
  it('a clean run with retried faults and cold starts: nothing red, the recovered errors apart, every cold start counted', async () => {
    const e = await startEmulator({ workers: 6, executionMs: { min: 20, max: 60 }, coldStartMs: 600, faults: { failFirstAttempt: 0.05 } });
    const r = await runBatch(opts(e, writeJsonl(dir, 'clean.jsonl', 150), { concurrency: 30 }));
    expect(r.exitCode).toBe(0);
    const { dom, red, background } = await look(r.outDir, 'clean');
    expect(background).toBeLessThan(0.97);
    expect(section(dom, 'summary')).toContain('All 150 rows completed');
    const failures = section(dom, 'failures');
    expect(failures).toContain('No failures');
    expect(failures).toContain('Recovered by a retry');
    // The status bar, the throughput line and the cards may be green; nothing on the page is the failure red.
    expect(red, 'red pixels').toBeLessThan(50);
    expect(section(dom, 'cold-starts')).toMatch(/<div class="v">6<\/div>/);
  });

  it('a run with failures: the failed rows are red, named, and the next step is retry', async () => {
    const e = await startEmulator({
      workers: 6,
      executionMs: 20,
      handler: (input) => {
        if ((input as { n: number }).n % 10 === 0) throw new Error('CUDA out of memory');
        return input;
      },
    });
    const r = await runBatch(opts(e, writeJsonl(dir, 'failing.jsonl', 100), { retries: 1 }));
    expect(r.exitCode).toBe(2);
    const { dom, red } = await look(r.outDir, 'failing');
    expect(section(dom, 'summary')).toMatch(/10 rows failed \(FAILED 10\).*runpod-batch retry/);
    const failures = section(dom, 'failures');
    expect(failures).toContain('CUDA out of memory');
    expect(failures).toContain('data-chart="failures"');
    expect(red, 'red pixels: the failed share of the status bar, the failure bars, the card').toBeGreaterThan(1_000);
  });

  it('an interrupted and resumed run: two runs with the pause marked, one throughput figure, no gap as latency', async () => {
    const e = await startEmulator({ workers: 4, executionMs: 40 });
    const input = writeJsonl(dir, 'resumed.jsonl', 200);
    const ac = new AbortController();
    const first = await runBatch(
      opts(e, input, { concurrency: 8, signal: ac.signal, progressIntervalMs: 20, onProgress: (p) => p.completed >= 60 && ac.abort() }),
    );
    expect(first.exitCode).toBe(130);
    const interrupted = await look(first.outDir, 'interrupted');
    expect(section(interrupted.dom, 'summary')).toMatch(/did not finish \(the run was interrupted\)/);
    const r = await runBatch(opts(e, input, { concurrency: 8, progressIntervalMs: 20 }));
    expect(r.exitCode).toBe(0);
    const { dom } = await look(r.outDir, 'resumed');
    expect(section(dom, 'summary')).toContain('All 200 rows completed');
    expect(dom).toMatch(/class="pause"/);
    // The summary's throughput card and the activity section's mean say the same figure.
    const card = /Throughput<\/div><div class="v">([\d,.]+)\/min/.exec(section(dom, 'summary'));
    expect(card).not.toBeNull();
    expect(section(dom, 'throughput')).toContain(`overall ${card![1]}/min`);
  });
});
