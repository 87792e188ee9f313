import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runArgs, runCli, startCli } from '../support/cli.js';
import { emulatorsClosedAfterEach, ENV } from '../support/emulator.js';
import { checkMedia, expectedPng } from '../support/media.js';
import { readResults } from '../support/results.js';
import { tempDir, writeJsonl } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const dir = tempDir();
const startEmulator = emulatorsClosedAfterEach();

/** Every file the state's media index (what committed outputs refer to) names is whole: its size and SHA-256. */
function indexedFilesWhole(out: string): number {
  const db = new Database(join(out, 'state.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT path, bytes, sha256 FROM media').all() as { path: string; bytes: number; sha256: string }[];
    for (const m of rows) {
      const b = readFileSync(join(out, m.path));
      expect(b.length, m.path).toBe(m.bytes);
      expect(createHash('sha256').update(b).digest('hex'), m.path).toBe(m.sha256);
    }
    return rows.length;
  } finally {
    db.close();
  }
}

describe('media files and kill -9', () => {
  it('5 kills mid-run, then a rerun: no reference to a missing or partial file, no orphan, every file the bytes the worker sent', {
    timeout: 120_000,
  }, async () => {
    const seed = 11;
    const bytes = 150_000;
    const emu = await startEmulator({
      workers: 6,
      executionMs: { min: 10, max: 40 },
      seed,
      media: { bytes, images: 2 },
      faults: { failFirstAttempt: 0.1 },
    });
    const rows = 150;
    const input = writeJsonl(dir, 'media-kill.jsonl', rows);
    const out = join(dir, 'media-kill');
    const args = runArgs(input, emu.baseUrl, out, 12);
    const polls = () => (emu.stats.requests.status ?? 0) + (emu.stats.requests['status-sync'] ?? 0);
    let committed = 0;
    let orphans = 0;
    for (let k = 0; k < 5; k++) {
      const cli = startCli(args, ENV);
      // Killed once 15 to 43 more status answers have come (jobs COMPLETED: files being written, rows committed).
      const target = polls() + 15 + 7 * k;
      await waitFor(() => polls() >= target || cli.exited(), `the emulator has had ${target} status requests`);
      cli.child.kill('SIGKILL');
      expect((await cli.done).signal).toBe('SIGKILL');
      // Whatever the state committed refers to whole files; files it does not refer to may be left until the rerun.
      const now = indexedFilesWhole(out);
      orphans += existsSync(join(out, 'media')) ? readdirSync(join(out, 'media')).length - now : 0;
      expect(now).toBeGreaterThanOrEqual(committed);
      committed = now;
    }
    expect(committed).toBeLessThan(2 * rows);
    const r = await runCli(args, ENV);
    expect(r.code, r.stderr).toBe(0);
    console.log(
      `media kill test: ${committed} files committed across the killed runs, ${orphans} left uncommitted by the kills; rerun: ${/media: removed \d+ files/.exec(r.stderr)?.[0] ?? 'nothing to sweep'}`,
    );
    const refs = checkMedia(out);
    const results = readResults(out);
    expect(results).toHaveLength(rows);
    for (const row of results) {
      expect(row.status).toBe('COMPLETED');
      const mine = refs.get(String(row.id))!;
      expect(mine).toHaveLength(2);
      for (const [i, m] of mine.entries())
        expect(readFileSync(join(out, m.path)).equals(expectedPng(seed, bytes, row.input, i))).toBe(true);
    }
  });
});

describe('the CLI: emulate --image-bytes, run --media', () => {
  it('an emulator answering comfyui PNGs; run writes them to media/, run --media off keeps them inline', async () => {
    const emu = startCli(['emulate', '--port', '0', '--image-bytes', '5000', '--images', '2', '--seed', '3']);
    try {
      await waitFor(() => /listening on (http:\S+)/.test(emu.stdout()) || emu.exited(), 'the emulator says where it listens');
      const url = /listening on (http:\S+)/.exec(emu.stdout())![1]!;
      const input = writeJsonl(dir, 'cli-media.jsonl', 3);
      const files = join(dir, 'cli-media-files');
      const a = await runCli(runArgs(input, `${url}/v2`, files, 4), ENV);
      expect(a.code, a.stderr).toBe(0);
      const refs = checkMedia(files);
      for (const row of readResults(files)) {
        expect(refs.get(String(row.id))!.map((m) => m.path)).toEqual([
          `media/${row.id}.ComfyUI_00001_.png`,
          `media/${row.id}.ComfyUI_00002_.png`,
        ]);
        expect(readFileSync(join(files, refs.get(String(row.id))![1]!.path)).equals(expectedPng(3, 5000, row.input, 1))).toBe(true);
      }
      const inline = join(dir, 'cli-media-off');
      const b = await runCli([...runArgs(input, `${url}/v2`, inline, 4), '--media', 'off'], ENV);
      expect(b.code, b.stderr).toBe(0);
      expect(existsSync(join(inline, 'media'))).toBe(false);
      for (const row of readResults(inline)) {
        const img = (row.output as { images: { type: string; data: string }[] }).images[1]!;
        expect(Buffer.from(img.data, 'base64').equals(expectedPng(3, 5000, row.input, 1))).toBe(true);
      }
    } finally {
      emu.child.kill('SIGINT');
      await emu.done;
    }
  });
});
