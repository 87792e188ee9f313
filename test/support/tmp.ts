import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A temp folder removed after the file's tests. */
export function tempDir(prefix = 'rpb-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Writes `n` JSONL rows `{id: "r<i>", prompt: "p<i>", n: i}` and returns the path. */
export function writeJsonl(
  dir: string,
  name: string,
  n: number,
  make: (i: number) => unknown = (i) => ({ id: `r${i}`, prompt: `p${i}`, n: i }),
): string {
  const path = join(dir, name);
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(JSON.stringify(make(i)));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
