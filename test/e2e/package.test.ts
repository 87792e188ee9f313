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
    // …and its types, found the way a consumer finds them (package.json "exports" → "types"): a typed consumer
    // that uses the documented fields compiles, and one that passes a wrong field type does not.
    const dir = join(ROOT, 'test', 'e2e', '.types-probe');
    const { mkdirSync, rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'good.mts'),
      [
        "import { runBatch, type RunBatchOptions, type BatchResult } from 'runpod-batch';",
        "const opts: RunBatchOptions = { input: 'x.jsonl', endpoint: 'e', concurrency: 3, retries: 1, signal: new AbortController().signal };",
        'const done: Promise<BatchResult> = runBatch(opts);',
        'void done;',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'bad.mts'),
      "import { runBatch } from 'runpod-batch';\nvoid runBatch({ input: 'x.jsonl', concurrency: 'many' });\n",
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck'];
    try {
      await run(process.execPath, [tsc, ...flags, join(dir, 'good.mts')], { cwd: ROOT });
      const bad = await run(process.execPath, [tsc, ...flags, join(dir, 'bad.mts')], { cwd: ROOT }).then(
        () => '',
        (e: { stdout: string }) => e.stdout,
      );
      expect(bad).toMatch(/bad\.mts\(2,35\): error TS2322: Type '"many"' is not assignable to type 'number \| "auto" \| undefined'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`npx runpod-batch` runs the bin', async () => {
    const { stdout } = await run('npx', ['--offline', 'runpod-batch', '--version'], { cwd: ROOT });
    expect(stdout.trim()).toBe(JSON.parse((await import('node:fs')).readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('`npm pack` holds every module the bin loads, and the files the README names', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const packed = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const { readFileSync } = await import('node:fs');
    const { dirname, normalize } = await import('node:path');
    // Follow the relative imports from the bin, as Node will load them.
    const seen = new Set<string>();
    const todo = ['bin/runpod-batch.js'];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g))
        todo.push(normalize(join(dirname(file), m[1]!)));
    }
    expect(seen.size).toBeGreaterThan(20);
    for (const file of seen) expect(packed, file).toContain(file);
    for (const file of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'fixtures/prompts.jsonl'])
      expect(packed).toContain(file);
    expect([...packed].some((f) => f.startsWith('test/') || f.startsWith('src/'))).toBe(false);
  });
});
