import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Fingerprint } from '../core/records.js';

/** Size and SHA-256 of a file, streamed: a rerun on an unchanged file can skip parsing it again. */
export async function fingerprintFile(path: string): Promise<Fingerprint> {
  const { size } = await stat(path);
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return { size, sha256: h.digest('hex') };
}
