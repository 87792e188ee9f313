#!/usr/bin/env node
// Rate limit: the emulator admits N /run requests per fixed window (faults.rateLimits.run = {limit: N, windowMs,
// retryAfter}) and answers 429 past it, with or without a Retry-After header. 0 ms jobs, rows = windows·N + N/2, so a
// perfect client needs `windows` full windows and half of one more.
//   sustained /run rate = jobs created per window over the full windows (windows aligned on the first admission, the
//                         last, partial window left out), as % of N
//   429 share           = 429 answers / /run requests received by the emulator
// Ours: runBatch with default settings. Baseline: runpod-sdk + p-limit (concurrency = workers), which retries
// nothing: every 429 on /run loses its row (counted).
// Default: RunPod's real /run limit, 1000 per 10 s (2.5–4 minutes in all). --quick: 100 per 1 s (a scaled-down
// window; the engine's backoff and Retry-After handling are in real seconds, so a 1 s window is harder, not easier).
//
//   node bench/rate-limit.mjs [--limit 1000] [--window-ms 10000] [--windows 5] [--workers 100] [--quick]
import {
  ensureInput,
  freshDir,
  startEmu,
  parseArgs,
  printTable,
  emit,
  round,
  watchdog,
  readJsonl,
  API_KEY,
  ENDPOINT,
} from './lib/common.mjs';
import { runOurs } from './lib/ours.mjs';
import { runBaseline } from './lib/baseline.mjs';

const args = parseArgs(process.argv.slice(2), {
  limit: 1000,
  windowMs: 10_000,
  windows: 5,
  workers: 100,
  quick: false,
  baseline: true,
  retryAfter: 'true,false',
});
if (args.quick) {
  args.limit = 100;
  args.windowMs = 1000;
}
args.rows ??= args.windows * args.limit + Math.floor(args.limit / 2);
watchdog(60 * 60_000, 'rate-limit');

async function measure(client, retryAfter) {
  const emu = await startEmu({
    workers: args.workers,
    executionMs: 0,
    seed: 5,
    faults: { rateLimits: { run: { limit: args.limit, windowMs: args.windowMs, retryAfter } } },
  });
  try {
    const input = await ensureInput(args.rows);
    const maxMs = Math.max(180_000, 10 * (args.rows / args.limit) * args.windowMs);
    let wallMs;
    let extra = {};
    if (client === 'ours') {
      const r = await runOurs({ input, out: freshDir(`rate-limit-ours-${retryAfter}`), baseUrl: emu.baseUrl, maxMs });
      wallMs = r.wallMs;
      const rq = r.result.stats.requests.run ?? {};
      extra = {
        overran: r.overran,
        completed: r.result.stats.rows.completed,
        lost: r.result.stats.rows.total - r.result.stats.rows.completed,
        clientSaw429: rq.rateLimited,
      };
    } else {
      const bodies = [];
      for await (const b of readJsonl(input)) bodies.push(b);
      const b = await runBaseline({
        baseUrl: emu.baseUrl,
        apiKey: API_KEY,
        endpoint: ENDPOINT,
        rows: bodies,
        concurrency: args.workers,
        pollMs: 1000,
        deadlineMs: maxMs,
      });
      wallMs = b.wallMs;
      extra = { completed: b.counts.completed, lost: b.counts.rows - b.counts.completed, lostTo429: b.counts.lostOnRun429 };
    }
    const st = await emu.stats({ windowMs: args.windowMs });
    const perWindow = st.createdPerWindow ?? [];
    const full = perWindow.slice(0, -1);
    const sustained = full.length > 0 ? full.reduce((s, x) => s + x, 0) / full.length : null;
    const idealMakespanMs = (Math.ceil(args.rows / args.limit) - 1) * args.windowMs;
    return {
      client,
      retryAfter,
      limit: args.limit,
      windowMs: args.windowMs,
      rows: args.rows,
      jobsCreated: st.jobsCreated,
      runRequests: st.requests.run,
      run429: st.rateLimited.run,
      pct429: round((100 * st.rateLimited.run) / Math.max(1, st.requests.run), 2),
      fullWindows: full.length,
      sustainedPerWindow: sustained === null ? null : round(sustained, 1),
      sustainedPctOfLimit: sustained === null ? null : round((100 * sustained) / args.limit, 1),
      createdPerWindow: perWindow,
      wallS: round(wallMs / 1000, 2),
      idealWallS: round(idealMakespanMs / 1000, 2),
      ...extra,
    };
  } finally {
    await emu.close();
  }
}

const results = [];
for (const ra of String(args.retryAfter)
  .split(',')
  .map((x) => x === 'true')) {
  console.error(
    `rate-limit: ${args.limit} /run per ${args.windowMs} ms, Retry-After ${ra ? 'sent' : 'not sent'}: ours, ${args.rows} rows…`,
  );
  results.push(await measure('ours', ra));
  if (args.baseline) {
    console.error(`rate-limit: … baseline…`);
    results.push(await measure('baseline', ra));
  }
}

printTable(
  `Rate limit: /run limited to ${args.limit} per ${args.windowMs / 1000} s. Target: sustained ≥ 90% of the limit with ≤ 5% 429s`,
  results,
  [
    ['client', 'client'],
    ['Retry-After', (r) => (r.retryAfter ? 'sent' : 'not sent')],
    ['rows', 'rows'],
    ['sustained /run per window', 'sustainedPerWindow'],
    ['% of limit', 'sustainedPctOfLimit'],
    ['full windows', 'fullWindows'],
    ['/run requests', 'runRequests'],
    ['429s', 'run429'],
    ['% 429', 'pct429'],
    ['completed', 'completed'],
    ['rows lost', 'lost'],
    ['wall s', 'wallS'],
    ['ideal wall s', 'idealWallS'],
  ],
);
emit('rate-limit', { args, target: { sustainedPctMin: 90, pct429Max: 5 }, results });
