// The views' file writer: text encoded into a reused buffer, then renamed into place.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtomicFile, writeFileAtomic } from '../../src/output/atomic-file.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir();

describe('AtomicFile', () => {
  it('writes every byte in order: multi-byte text across buffer boundaries, and a text larger than the buffer', () => {
    const path = join(dir, 'results.jsonl');
    const f = new AtomicFile(path);
    const parts: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const line = `{"id":${i},"out":"${'ü🚀é'.repeat(i % 7)}${'x'.repeat(i % 53)}"}\n`;
      parts.push(line);
      f.write(line);
      if (i === 12_345) {
        const big = `"${'長'.repeat(200_000)}"\n`; // 600 KB in UTF-8
        parts.push(big);
        f.write(big);
      }
    }
    expect(existsSync(path)).toBe(false); // nothing in place before commit
    f.commit();
    expect(readFileSync(path, 'utf8')).toBe(parts.join(''));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('writeFileAtomic replaces a file whole', () => {
    const path = join(dir, 'stats.json');
    writeFileAtomic(path, 'old');
    writeFileAtomic(path, '{"new":true}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"new":true}\n');
  });
});
