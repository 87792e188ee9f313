import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../src/batch/run.js';
import { runCli } from '../support/cli.js';
import { tempDir, writeJsonl } from '../support/tmp.js';

const KEY = 'rpa_SECRET_9f8e7d6c5b4a';
const dir = tempDir();

/**
 * A hostile endpoint that echoes the Authorization header back in every error body: /run answers 400 for odd rows
 * and creates a job for even ones; /status answers 500 once per job, then FAILED with the header in the error;
 * /v2/deny/* answers 401 with the header in the body.
 */
let server: Server;
let base = '';
beforeAll(async () => {
  let next = 0;
  const seen = new Set<string>();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => {
      const auth = req.headers.authorization ?? '';
      const send = (code: number, obj: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (req.url!.startsWith('/v2/deny/')) return send(401, { error: `bad key: ${auth}` });
      if (req.url!.endsWith('/run')) {
        const n = (JSON.parse(body) as { input: { n: number } }).input.n;
        if (n % 2 === 1) return send(400, { error: `refused, you sent ${auth}` });
        return send(200, { id: `job-${++next}`, status: 'IN_QUEUE' });
      }
      const id = new URL(req.url!, 'http://x').pathname.split('/').pop()!;
      if (!seen.has(id)) {
        seen.add(id);
        return send(500, { error: `internal error for ${auth}` });
      }
      return send(200, {
        id,
        status: 'FAILED',
        error: JSON.stringify({ error_type: 'Leak', error_message: `header was ${auth}` }),
        executionTime: 5,
        delayTime: 1,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function filesContain(out: string, needle: string): string[] {
  return readdirSync(out).filter((f) => readFileSync(join(out, f)).includes(needle));
}

describe('the API key never reaches a file, a log or an error message', () => {
  it('even when the server echoes it back in error bodies and job errors', async () => {
    const input = writeJsonl(dir, 'echo.jsonl', 10);
    const out = join(dir, 'echo-out');
    const logs: string[] = [];
    const r = await runBatch({ input, out, endpoint: 'ep', apiKey: KEY, baseUrl: base, retries: 0, log: (m) => logs.push(m) });
    expect(r.exitCode).toBe(2);
    expect(r.stats.rows.byStatus).toEqual({ FAILED: 10 });
    const results = readFileSync(join(out, 'results.jsonl'), 'utf8');
    expect(results).toContain('[REDACTED]'); // the echoes were there, and were redacted
    expect(filesContain(out, KEY)).toEqual([]);
    expect(filesContain(out, KEY.slice(4))).toEqual([]);
    expect(JSON.stringify(r) + logs.join('\n')).not.toContain(KEY);
  });

  it('on a 401 whose body echoes the key: the CLI message names the cause, not the key', async () => {
    const input = writeJsonl(dir, 'deny.jsonl', 3);
    const out = join(dir, 'deny-out');
    const res = await runCli(['run', input, '--endpoint', 'deny', '--base-url', base, '--out', out, '--no-progress'], {
      RUNPOD_API_KEY: KEY,
      RUNPOD_BATCH_DEBUG: '1',
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/401/);
    expect(res.stdout + res.stderr).not.toContain(KEY);
    expect(filesContain(out, KEY)).toEqual([]);
  });
});
