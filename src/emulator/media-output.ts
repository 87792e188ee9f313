/**
 * An output shape for media batches: worker-comfyui 5.x's `{"images": [{"filename", "type": "base64", "data"}]}`
 * (RUNPOD_API.md), each image a PNG of a given size — the real signature, IHDR and IEND chunks around one IDAT of
 * pseudo-random bytes (not decodable pixels: enough for a client that sniffs, stores and hashes them). The bytes are
 * a function of the seed and the job's input alone, so every attempt of a row returns the same image.
 */
import { createCipheriv, createHash } from 'node:crypto';
import type { HandlerFn, MediaOutputOptions } from './types.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, and a CRC field (left 0: no reader here checks it). */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, data, Buffer.alloc(4)]);
}

/** A PNG of exactly `bytes` bytes (at least 57), deterministic by `seed` and `label`. */
export function pngOf(bytes: number, seed: number, label: string): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(512, 0);
  ihdr.writeUInt32BE(512, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const fixed = SIGNATURE.length + 12 + 13 + 12 + 12; // signature, IHDR, IDAT framing, IEND
  // AES-128-CTR over zeros, keyed by seed and label: a deterministic pseudo-random stream at ~1 GB/s, so a 1 MB
  // image costs the emulator about a millisecond (a JS generator took tens).
  const key = createHash('sha256')
    .update(`${seed >>> 0}:${label}`)
    .digest()
    .subarray(0, 16);
  const body = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(Math.max(0, bytes - fixed)));
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', body), chunk('IEND', Buffer.alloc(0))]);
}

/** A handler answering worker-comfyui's output with `images` PNGs of `bytes` bytes each, base64 inline. */
export function comfyImageHandler(seed: number, o: MediaOutputOptions): HandlerFn {
  const count = o.images ?? 1;
  return (input) => {
    const key = JSON.stringify(input);
    const images = [];
    for (let i = 0; i < count; i++) {
      const filename = `ComfyUI_${String(i + 1).padStart(5, '0')}_.png`;
      images.push({ filename, type: 'base64', data: pngOf(o.bytes, seed, `${key}#${i}`).toString('base64') });
    }
    return o.plain ? { text: images.map((i) => i.data) } : { images };
  };
}
