import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stats } from '../../src/report/stats.js';

export interface ResultLine {
  id: string | number;
  status: string;
  input: Record<string, unknown>;
  output?: unknown;
  error?: unknown;
  jobId: string | null;
  delayTime: number | null;
  executionTime: number | null;
  attempts: number;
  line: number;
  [k: string]: unknown;
}

export function readJsonl<T = ResultLine>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

export function readResults(out: string): ResultLine[] {
  return readJsonl(join(out, 'results.jsonl'));
}

/** stats.json: the Stats the run computed, with where the price came from and the endpoint's label. */
export type StatsFile = Stats & { priceSource: string; endpoint: string };

export function readStats(out: string): StatsFile {
  return JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as StatsFile;
}
