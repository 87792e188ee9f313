/**
 * Cost estimation: prices per billed second. RunPod's billing rule (per second, rounded up) is core/billing.ts's
 * billedSeconds; prices come from ./prices.ts (the one price table).
 */
import { UsageError } from '../core/errors.js';
import { PRICE_TABLE, type GpuClass } from './prices.js';

/** Lower-case and drop everything but letters and digits: "RTX 4090" → "rtx4090", "48GB-PRO" → "48gbpro". */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The GPU class for an id (`48gb-pro`) or alias (`L40S`, `RTX 4090`, `nvidia a100`), case-insensitively; else undefined. */
export function findGpuClass(gpu: string): GpuClass | undefined {
  const key = normalize(gpu);
  if (key === '') return undefined;
  const candidates = [key];
  const stripped = key.replace(/^nvidia/, '').replace(/^geforce/, '');
  if (stripped !== key) candidates.push(stripped);
  for (const c of candidates) {
    for (const cls of PRICE_TABLE.classes) {
      if (normalize(cls.id) === c || cls.aliases.some((a) => normalize(a) === c)) return cls;
    }
  }
  return undefined;
}

/** The valid GPU classes, one per line, for error messages and `--help`. */
export function describeGpuClasses(): string {
  return PRICE_TABLE.classes.map((c) => `${c.id} — ${c.name}, $${c.perSecond}/s (also: ${c.aliases.join(', ')})`).join('\n');
}

/**
 * Price per billed second. An explicit `pricePerSecond` wins over `gpu`; neither gives `perSecond: null`.
 * Throws a UsageError (an Error) listing the valid classes for an unknown gpu, or for a negative/non-finite price.
 */
export function resolvePrice(opts: { gpu?: string; pricePerSecond?: number }): { perSecond: number | null; source: string } {
  if (opts.pricePerSecond !== undefined) {
    const p = opts.pricePerSecond;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) {
      throw new UsageError(`price per second must be a number >= 0, got ${String(p)}`);
    }
    return { perSecond: p, source: 'given with --price-per-second' };
  }
  if (opts.gpu !== undefined && opts.gpu.trim() !== '') {
    const cls = findGpuClass(opts.gpu);
    if (!cls) {
      throw new UsageError(`unknown GPU class "${opts.gpu}"; valid classes:\n${describeGpuClasses()}`);
    }
    return {
      perSecond: cls.perSecond,
      source: `--gpu ${opts.gpu}: ${cls.name} at RunPod's flex price (docs table, ${PRICE_TABLE.asOf}; check runpod.io/pricing for today's)`,
    };
  }
  return { perSecond: null, source: 'unknown: no GPU class or price per second given' };
}
