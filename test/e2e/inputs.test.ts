/** #13's flags through the real bin: --map, --dry-run's preview, --no-map, --shard. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '../support/results.js';
import { runCli } from '../support/cli.js';
import { emulatorsClosedAfterEach, ENV } from '../support/emulator.js';
import { tempDir } from '../support/tmp.js';

const dir = tempDir('rpb-e2e-inputs-');
const startEmulator = emulatorsClosedAfterEach();

describe('input flags of the bin', () => {
  it('--map from a file; --dry-run prints the bodies; a rerun keeps the mapping; --no-map drops it', async () => {
    const emu = await startEmulator({ workers: 4, executionMs: 1 });
    const csv = join(dir, 'subjects.csv');
    writeFileSync(csv, 'id,subject,seed\na,cat,1\nb,dog,2\nc,owl,3\nd,emu,4\n');
    const mapFile = join(dir, 'request.jsonata');
    writeFileSync(mapFile, '{\n  "prompt": "a photo of " & subject,\n  "seed": $number(seed)\n}\n');
    const out = join(dir, 'subjects.runpod');
    const base = ['run', csv, '--endpoint', 'test-endpoint', '--base-url', emu.baseUrl, '--out', out];

    const dry = await runCli([...base, '--map', `@${mapFile}`, '--dry-run'], ENV);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('the first 3 request bodies, as they will be sent:');
    expect(dry.stdout).toContain('{"input":{"prompt":"a photo of cat","seed":1}}');
    expect(emu.stats.jobsCreated).toBe(0);

    const run = await runCli([...base, '--map', `@${mapFile}`], ENV);
    expect(run.code).toBe(0);
    expect(readResults(out).map((r) => r.input)).toEqual([
      { prompt: 'a photo of cat', seed: 1 },
      { prompt: 'a photo of dog', seed: 2 },
      { prompt: 'a photo of owl', seed: 3 },
      { prompt: 'a photo of emu', seed: 4 },
    ]);

    const again = await runCli(base, ENV);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/mapping rows with the batch's --map/);
    expect(emu.stats.jobsCreated).toBe(4);

    const dropped = await runCli([...base, '--no-map', '--dry-run'], ENV);
    expect(dropped.stdout).toMatch(/the mapping \(--map\) changed: 0 new, 4 changed \(would run again\), 0 unchanged/);
    expect(dropped.stdout).toContain('{"input":{"id":"a","subject":"cat","seed":"1"}}');
  });

  it('a bad --map or --shard is one line, exit 1, nothing submitted', async () => {
    const emu = await startEmulator({ workers: 1, executionMs: 1 });
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'q\nx\n');
    const base = ['run', csv, '--endpoint', 'test-endpoint', '--base-url', emu.baseUrl];
    const parse = await runCli([...base, '--map', '{"a": '], ENV);
    expect(parse.code).toBe(1);
    expect(parse.stderr).toMatch(/--map: the expression does not parse/);
    const shard = await runCli([...base, '--shard', '4/4'], ENV);
    expect(shard.code).toBe(1);
    expect(shard.stderr).toMatch(/--shard 4\/4: k counts from 0/);
    expect(emu.stats.jobsCreated).toBe(0);
  });
});
