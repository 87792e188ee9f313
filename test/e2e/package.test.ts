import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

describe('the package', () => {
  it("`import { runBatch } from 'runpod-batch'` gives the engine, typed", async () => {
    // A module inside the package imports it by its own name (package self-reference through "exports").
    const probe = join(ROOT, 'test', 'e2e', '.self-import.mjs');
    writeFileSync(
      probe,
      "import * as m from 'runpod-batch';\nconsole.log(JSON.stringify(Object.keys(m).filter((k) => typeof m[k] === 'function').sort()));\n",
    );
    const { stdout } = await run(process.execPath, [probe], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(['runBatch', 'startEmulator', 'createClient', 'defaultOutDir']));
    // …and its types: the declaration file exports RunBatchOptions with the documented fields.
    const { readFileSync } = await import('node:fs');
    const dts = readFileSync(join(ROOT, 'dist', 'engine', 'run-batch.d.ts'), 'utf8');
    expect(dts).toMatch(/export declare function runBatch\(opts: RunBatchOptions\): Promise<BatchResult>/);
    for (const field of ['input: string', 'endpoint?:', 'concurrency?:', 'retries?:', 'signal?: AbortSignal']) expect(dts).toContain(field);
  });

  it('`npx runpod-batch` runs the bin', async () => {
    const { stdout } = await run('npx', ['--offline', 'runpod-batch', '--version'], { cwd: ROOT });
    expect(stdout.trim()).toBe(JSON.parse((await import('node:fs')).readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
});
