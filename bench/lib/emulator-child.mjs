// The emulator in its own process, so its CPU does not compete with the client's event loop (RunPod is remote).
// Driven over IPC by bench/lib/common.mjs#startEmu: {type:'start', options} → {type:'ready', baseUrl};
// {type:'stats', windowMs?, jobTimes?, jobIds?, samples?} → {type:'stats', stats}; {type:'health'} → {type:'health', health};
// {type:'close'} → closes and exits.
// Options only the child understands (functions cannot cross IPC): `outputBytes` — each job's output is
// {echo: input, blob: <outputBytes of text>} instead of the echo; `sampleEveryMs` — every that many real ms, the child
// records what /health would answer (read out of band, not counted as a request): [ms since start, inQueue, inProgress,
// idle, running, initializing], returned by {type:'stats', samples: true}.
// It exits by itself when the parent goes away (IPC disconnect) or after --max-ms (a watchdog).
import { engine } from './dist.mjs';

const { startEmulator } = await engine();

const maxMs = Number(process.env.BENCH_EMU_MAX_MS ?? 3 * 3600_000);
setTimeout(() => {
  console.error(`emulator-child: watchdog: ${maxMs} ms passed, exiting`);
  process.exit(3);
}, maxMs).unref();

let emu;

process.on('disconnect', () => process.exit(0));
process.on('message', async (msg) => {
  try {
    if (msg.type === 'start') {
      const { outputBytes, sampleEveryMs, ...options } = msg.options;
      if (outputBytes) {
        const blob = 'x'.repeat(outputBytes);
        options.handler = (input) => ({ echo: input, blob });
      }
      emu = await startEmulator(options);
      if (sampleEveryMs) startSampler(sampleEveryMs);
      process.send({ type: 'ready', baseUrl: emu.baseUrl, url: emu.url });
    } else if (msg.type === 'health') {
      process.send({ type: 'health', health: emu.health() });
    } else if (msg.type === 'stats') {
      process.send({ type: 'stats', stats: summarize(msg) });
    } else if (msg.type === 'setFaults') {
      emu.setFaults(msg.faults);
      process.send({ type: 'ok' });
    } else if (msg.type === 'close') {
      await emu?.close();
      process.send({ type: 'closed' }, () => process.exit(0));
    }
  } catch (err) {
    process.send({ type: 'error', message: err instanceof Error ? err.stack : String(err) });
  }
});

const samples = [];
let sampleT0 = 0;
function startSampler(everyMs) {
  sampleT0 = Date.now();
  const take = () => {
    const h = emu.health();
    const w = h.workers;
    samples.push([Date.now() - sampleT0, h.jobs.inQueue, h.jobs.inProgress, w.idle, w.running, w.initializing]);
  };
  take();
  setInterval(take, everyMs).unref();
}

/** The emulator's counters plus what the benches derive from its job table (timings, /run admissions per window). */
function summarize({ windowMs, jobTimes, jobIds, samples: withSamples }) {
  const s = emu.stats;
  let firstCreated = Infinity;
  let lastCreated = -Infinity;
  let lastFinished = -Infinity;
  let sumExec = 0;
  let sumDelay = 0;
  let timed = 0;
  let finished = 0;
  const created = [];
  for (const j of emu.jobs.values()) {
    if (j.createdAt < firstCreated) firstCreated = j.createdAt;
    if (j.createdAt > lastCreated) lastCreated = j.createdAt;
    if (j.finishedAt !== undefined) {
      finished++;
      if (j.finishedAt > lastFinished) lastFinished = j.finishedAt;
    }
    if (typeof j.executionTime === 'number') {
      sumExec += j.executionTime;
      timed++;
    }
    if (typeof j.delayTime === 'number') sumDelay += j.delayTime;
    if (windowMs) created.push(j.createdAt);
  }
  const out = {
    requests: s.requests,
    rateLimited: s.rateLimited,
    faults: s.faults,
    jobsCreated: s.jobsCreated,
    distinctInputs: s.submissionsByInput.size,
    maxConcurrentRunning: s.maxConcurrentRunning,
    busyMs: s.busyMs,
    workerMs: s.workerMs,
    workersStarted: s.workersStarted,
    jobs: emu.jobs.size,
    finished,
    timed,
    sumExecutionTimeMs: sumExec,
    sumDelayTimeMs: sumDelay,
    firstCreatedAt: Number.isFinite(firstCreated) ? firstCreated : null,
    lastCreatedAt: Number.isFinite(lastCreated) ? lastCreated : null,
    lastFinishedAt: Number.isFinite(lastFinished) ? lastFinished : null,
    rssBytes: process.memoryUsage().rss,
  };
  if (windowMs && created.length > 0) {
    // /run admissions (jobs created) per fixed window, windows aligned on the first admission.
    created.sort((a, b) => a - b);
    const t0 = created[0];
    const counts = [];
    for (const t of created) {
      const k = Math.floor((t - t0) / windowMs);
      while (counts.length <= k) counts.push(0);
      counts[k]++;
    }
    out.createdPerWindow = counts;
  }
  if (jobIds) out.jobIds = [...emu.jobs.values()].map((j) => [j.id, j.createdAt]);
  if (withSamples) out.samples = { t0: sampleT0, rows: samples };
  if (jobTimes) {
    out.jobTimes = [...emu.jobs.values()].map((j) => [
      j.createdAt,
      j.startedAt ?? null,
      j.finishedAt ?? null,
      j.delayTime ?? null,
      j.executionTime ?? null,
    ]);
  }
  return out;
}
