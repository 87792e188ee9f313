#!/usr/bin/env node
// Builds a private copy of runpod-batch from a git commit (default HEAD) into bench/out/snapshot-<sha>/, so benchmarks
// measure one known build while others edit src/ and rebuild dist/. Prints the dist path on stdout:
//   RPB_DIST=$(node bench/snapshot.mjs) node bench/saturation.mjs
//   node bench/snapshot.mjs [--commit <rev>]
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, ROOT, parseArgs } from './lib/common.mjs';

const args = parseArgs(process.argv.slice(2), { commit: 'HEAD' });
const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', String(args.commit)], { encoding: 'utf8' }).trim();
const dir = join(OUT_DIR, `snapshot-${sha}`);
if (!existsSync(join(dir, 'dist', 'index.js'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git -C ${JSON.stringify(ROOT)} archive ${sha} src tsconfig.json package.json | tar -x -C ${JSON.stringify(dir)}`, {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  writeFileSync(join(dir, 'COMMIT'), sha + '\n');
}
console.log(join(dir, 'dist'));
