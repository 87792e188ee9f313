import { StateError, UsageError } from '../core/errors.js';
import { mappingText, type Shard } from '../input/index.js';
import type { SavedInput } from '../store/meta.js';

/**
 * Parses `k/n` (`--shard 0/4`, `--shard $JOB_COMPLETION_INDEX/4`): k from 0 to n-1, as a Kubernetes Indexed Job
 * numbers its pods.
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--shard: must be k/n (e.g. 0/4: the first of 4 shards), got ${JSON.stringify(text)}`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1) throw new UsageError(`--shard ${text}: n must be at least 1`);
  if (k >= n) throw new UsageError(`--shard ${text}: k counts from 0, so it must be below n (0 … ${n - 1})`);
  return { k, n };
}

/** What the input is read with: the mapping's text and the shard, after what the batch already holds is weighed. */
export interface InputPlan {
  map?: string;
  shard?: Shard;
  /** Said to the user (a kept mapping or shard). */
  notes: string[];
}

/**
 * Decides the mapping and shard of a run. A rerun that names neither keeps the batch's (a forgotten `--map` would
 * otherwise turn every row into another request and run it again: paid twice); `map: false` (`--no-map`) drops
 * the mapping. A folder holds one shard for good: another shard (or all rows) there is refused.
 */
export function planInput(o: { map?: string | false; shard?: Shard | string }, saved: SavedInput | undefined, outDir: string): InputPlan {
  const notes: string[] = [];
  let map: string | undefined;
  if (o.map === false) map = undefined;
  else if (o.map !== undefined) map = mappingText(o.map);
  else if (saved?.map) {
    map = saved.map;
    notes.push(`mapping rows with the batch's --map (${oneLine(saved.map)}); --no-map drops it`);
  }
  const asked = typeof o.shard === 'string' ? parseShard(o.shard) : o.shard;
  // One shard of one is every row (a Kubernetes Indexed Job of one completion): a folder of all rows.
  const given = asked?.n === 1 ? undefined : asked;
  const held = saved?.shard ?? undefined;
  const shard = given ?? held;
  if (saved !== undefined && given !== undefined && (held === undefined || held.k !== given.k || held.n !== given.n)) {
    const holds = held === undefined ? 'all rows of its input (no --shard)' : `shard ${held.k}/${held.n}`;
    throw new StateError(`${outDir} holds ${holds}, not shard ${given.k}/${given.n}: give each shard its own --out`);
  }
  if (given === undefined && held !== undefined) notes.push(`running shard ${held.k}/${held.n} of the input, as this folder holds`);
  return { ...(map !== undefined ? { map } : {}), ...(shard !== undefined ? { shard } : {}), notes };
}

function oneLine(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
