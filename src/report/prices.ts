/**
 * RunPod Serverless flex prices per second, by GPU class — the ONE place prices live.
 * Source: RunPod docs pricing table (flex workers), 2026, as copied in RUNPOD_API.md ("Billing").
 * Prices change: check https://www.runpod.io/pricing for today's, or pass an explicit price per second.
 */

export interface GpuClass {
  /** Stable id used on the command line (`--gpu 48gb-pro`). */
  id: string;
  /** Name as in RunPod's table. */
  name: string;
  /** USD per billed second (flex). */
  perSecond: number;
  /** Other names accepted for this class (GPU models), matched case-insensitively ignoring spaces and dashes. */
  aliases: readonly string[];
}

export interface PriceTable {
  asOf: string;
  source: string;
  classes: readonly GpuClass[];
}

export const PRICE_TABLE: PriceTable = {
  asOf: '2026',
  source: 'RunPod docs pricing table (flex workers, per second); check runpod.io/pricing for current prices',
  classes: [
    { id: '16gb', name: '16 GB (A4000, A4500, RTX 4000)', perSecond: 0.00016, aliases: ['a4000', 'a4500', 'rtx4000', 'rtx4000ada'] },
    { id: '24gb', name: '24 GB (L4, A5000, 3090)', perSecond: 0.00019, aliases: ['l4', 'a5000', '3090', 'rtx3090'] },
    { id: '24gb-pro', name: '24 GB PRO (4090)', perSecond: 0.00031, aliases: ['4090', 'rtx4090'] },
    { id: '48gb', name: '48 GB (A6000, A40)', perSecond: 0.00034, aliases: ['a6000', 'rtxa6000', 'a40'] },
    { id: '48gb-pro', name: '48 GB PRO (L40, L40S, 6000 Ada)', perSecond: 0.00053, aliases: ['l40', 'l40s', '6000ada', 'rtx6000ada'] },
    { id: '80gb', name: '80 GB (A100)', perSecond: 0.00076, aliases: ['a100'] },
    { id: '80gb-pro', name: '80 GB PRO (H100)', perSecond: 0.00116, aliases: ['h100'] },
    { id: '141gb', name: '141 GB (H200)', perSecond: 0.00155, aliases: ['h200'] },
    { id: '180gb', name: '180 GB (B200)', perSecond: 0.0024, aliases: ['b200'] },
  ],
};
