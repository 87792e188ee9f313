// The baseline: what a user writes instead of runpod-batch. The official runpod-sdk client, p-limit with
// concurrency = workers, and a status poll every second, as runpod-python's Job.output() does
// (`while self.status() not in FINAL_STATES: time.sleep(1)`): poll at once after /run, then every second.
//
// runpod-sdk 1.1.2: endpoint.run() POSTs {base}/{id}/run (3 s timeout); endpoint.status() GETs
// {base}/{id}/status/{jobId} (plain /status, not the /status-sync long poll; 3 s timeout). It retries nothing and
// throws on a non-2xx answer (xior), so a 429 on /run loses the row unless the user adds retries — the baseline
// does not: it counts such rows as lost.
import runpodSdk from 'runpod-sdk';
import pLimit from 'p-limit';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {object} o
 * @param {string} o.baseUrl emulator base URL (…/v2)
 * @param {string} o.apiKey
 * @param {string} o.endpoint
 * @param {AsyncIterable<object>|object[]} o.rows request bodies ({input, …})
 * @param {number} o.concurrency p-limit concurrency (= workers)
 * @param {number} [o.pollMs=1000] real ms between polls (1000 / timeScale to keep "every second" in simulated time)
 * @param {number} [o.maxJobMs=600000] a job followed longer than this is abandoned (bounded loop)
 * @param {number} [o.deadlineMs] the whole run stops submitting and polling after this
 * @param {(r: object) => void} [o.onResult]
 * @param {boolean} [o.keepResults=true] false: results are only handed to onResult (memory stays flat)
 */
export async function runBaseline(o) {
  const pollMs = o.pollMs ?? 1000;
  const maxJobMs = o.maxJobMs ?? 600_000;
  const deadline = Date.now() + (o.deadlineMs ?? 3600_000);
  const ep = runpodSdk(o.apiKey, { baseUrl: o.baseUrl }).endpoint(o.endpoint);
  const limit = pLimit(o.concurrency);
  const counts = {
    rows: 0,
    completed: 0,
    failed: 0,
    lostOnRun: 0,
    lostOnRun429: 0,
    lostOnStatus: 0,
    abandoned: 0,
    runCalls: 0,
    statusCalls: 0,
  };
  const results = [];
  const started = Date.now();

  const one = async (body) => {
    if (Date.now() > deadline) {
      counts.abandoned++;
      return;
    }
    let job;
    counts.runCalls++;
    try {
      job = await ep.run(body);
    } catch (err) {
      counts.lostOnRun++;
      if (err?.response?.status === 429) counts.lostOnRun429++;
      return;
    }
    const submittedAt = Date.now();
    const maxPolls = Math.ceil(maxJobMs / pollMs) + 2;
    let s;
    let polls = 0;
    for (;;) {
      polls++;
      counts.statusCalls++;
      try {
        s = await ep.status(job.id);
      } catch {
        counts.lostOnStatus++;
        return;
      }
      if (FINAL.has(s.status)) break;
      if (polls >= maxPolls || Date.now() > deadline) {
        counts.abandoned++;
        return;
      }
      await sleep(pollMs);
    }
    const r = {
      id: body.id,
      status: s.status,
      delayTime: s.delayTime,
      executionTime: s.executionTime,
      endToEndMs: Date.now() - submittedAt,
      polls,
    };
    if (s.status === 'COMPLETED') counts.completed++;
    else counts.failed++;
    if (o.keepResults !== false) results.push(r);
    o.onResult?.(r, s);
  };

  // Keep memory bounded for big inputs: read at most `ahead` rows beyond those finished (one waiter, O(1) per row;
  // a Promise.race over the pending set would add a reaction to every pending promise per row).
  const ahead = Math.max(1000, o.concurrency * 4);
  let pending = 0;
  let wake = null;
  let allDone = null;
  const settled = () => {
    pending--;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
    if (pending === 0 && allDone) allDone();
  };
  for await (const body of o.rows) {
    counts.rows++;
    pending++;
    limit(() => one(body)).then(settled, settled);
    if (pending >= ahead) await new Promise((r) => (wake = r));
  }
  if (pending > 0) await new Promise((r) => (allDone = r));
  return { wallMs: Date.now() - started, counts, results };
}
