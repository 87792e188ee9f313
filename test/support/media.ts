import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { pngOf } from '../../src/emulator/media-output.js';
import { mediaRefsOf, type MediaRef } from '../../src/output/media.js';
import { readResults } from './results.js';

/**
 * Checks a batch's media against its results.jsonl and its state: every reference names a whole file (size and
 * SHA-256 as referenced), every file in media/ is referenced (no orphans, no temporary files), and the state's media
 * index holds exactly the references. Returns the references by row id.
 */
export function checkMedia(out: string): Map<string, MediaRef[]> {
  const byRow = new Map<string, MediaRef[]>();
  const referenced = new Set<string>();
  for (const r of readResults(out)) {
    const refs = mediaRefsOf(r.output === undefined ? null : JSON.stringify(r.output));
    byRow.set(String(r.id), refs);
    for (const m of refs) {
      expect(m.path).toMatch(/^media\/[^/]+$/);
      const bytes = readFileSync(join(out, m.path));
      expect(bytes.length, m.path).toBe(m.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), m.path).toBe(m.sha256);
      expect(referenced.has(m.path), `${m.path} is referenced twice`).toBe(false);
      referenced.add(m.path);
    }
  }
  const files = existsSync(join(out, 'media')) ? readdirSync(join(out, 'media')).map((f) => `media/${f}`) : [];
  expect(files.sort()).toEqual([...referenced].sort());
  const db = new Database(join(out, 'state.sqlite'), { readonly: true });
  try {
    const indexed = db.prepare('SELECT path FROM media ORDER BY path').pluck().all() as string[];
    expect(indexed).toEqual([...referenced].sort());
  } finally {
    db.close();
  }
  return byRow;
}

/** The PNG the emulator's media output (seed, bytes) gives for this input, n-th image. */
export function expectedPng(seed: number, bytes: number, input: unknown, n = 0): Buffer {
  return pngOf(bytes, seed, `${JSON.stringify(input)}#${n}`);
}
