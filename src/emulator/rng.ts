/**
 * Seeded pseudo-random numbers (mulberry32), so fault and timing tests are repeatable.
 * Separate streams (one per concern) keep, e.g., a job's fault decision independent of how many
 * status polls happened before its /run.
 */
export type Rng = () => number;

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream derived from a seed and a label (FNV-1a mix), e.g. `deriveRng(seed, 'faults')`. */
export function deriveRng(seed: number, label: string): Rng {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return createRng(h);
}
