/**
 * Media in outputs, the pure part: which values of an output are base64 media (detection), what type their bytes
 * are (sniffing by magic bytes), what file each becomes (naming, sanitising untrusted row ids and worker file
 * names), and the reference that replaces it in the stored output. The files are written by media-files.ts; the batch
 * layer (batch/media.ts) ties the two to the store.
 *
 * The reference is defined here and nowhere else:
 *   {"$media": "media/<name>", "type": "image/png", "bytes": 1048576, "sha256": "<64 hex>"}
 * `$media` is the file's path relative to the batch's --out folder, with `/` separators. A worker-comfyui item keeps
 * its other fields (its `filename`, …) beside these; its `type: "base64"` and `data` are replaced. The exports list
 * an output's references with findMediaRefs / mediaRefsOf (as MediaRef: `{path, type, bytes, sha256}`).
 */
import { createHash } from 'node:crypto';
import type { MediaFile } from '../core/records.js';

/** The folder under --out that holds the media files. */
export const MEDIA_DIR = 'media';

/** The reference that stands in an output where base64 media was (its JSON shape). */
export interface MediaReference {
  $media: string;
  type: string;
  bytes: number;
  sha256: string;
}

export interface MediaType {
  mime: string;
  ext: string;
}

/**
 * The formats recognised, by their magic bytes. A table rather than the `file-type` package: its current majors
 * (21, 22) need Node ≥ 22 while this project supports Node 20, and ten formats need only their first 12–40 bytes.
 */
export function sniff(b: Uint8Array): MediaType | null {
  const at = (off: number, s: string) => {
    if (b.length < off + s.length) return false;
    for (let i = 0; i < s.length; i++) if (b[off + i] !== s.charCodeAt(i)) return false;
    return true;
  };
  if (at(0, '\x89PNG\r\n\x1a\n')) return { mime: 'image/png', ext: 'png' };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { mime: 'image/jpeg', ext: 'jpg' };
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return { mime: 'image/gif', ext: 'gif' };
  if (at(0, 'RIFF') && at(8, 'WEBP')) return { mime: 'image/webp', ext: 'webp' };
  if (at(0, 'RIFF') && at(8, 'WAVE')) return { mime: 'audio/wav', ext: 'wav' };
  if (at(0, 'fLaC')) return { mime: 'audio/flac', ext: 'flac' };
  if (at(0, 'OggS')) return { mime: 'audio/ogg', ext: 'ogg' };
  if (at(0, 'ID3')) return { mime: 'audio/mpeg', ext: 'mp3' };
  // An MPEG audio frame: 11 sync bits, then a layer other than "reserved" (AAC's ADTS has layer 00: not MP3).
  if (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && (b[1]! & 0x06) !== 0) return { mime: 'audio/mpeg', ext: 'mp3' };
  if (at(4, 'ftyp')) {
    if (at(8, 'M4A ')) return { mime: 'audio/mp4', ext: 'm4a' };
    if (at(8, 'qt  ')) return { mime: 'video/quicktime', ext: 'mov' };
    return { mime: 'video/mp4', ext: 'mp4' };
  }
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    // EBML: WebM and Matroska differ by the DocType string near the start.
    const head = Buffer.from(b.subarray(0, 64)).toString('latin1');
    return head.includes('matroska') ? { mime: 'video/x-matroska', ext: 'mkv' } : { mime: 'video/webm', ext: 'webm' };
  }
  return null;
}

/** Keys whose string values (or lists of strings) are taken for bare base64 media when their bytes sniff as one. */
const MEDIA_KEY = /^(images?|audios?|videos?|base64|b64_json)$|_(base64|b64)$/i;

/** A bare base64 string shorter than this is left alone (no real image or clip is this small). */
export const MIN_BARE_BASE64 = 64;

/** Base64 (standard or URL-safe alphabet), padding only at the end. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Where the base64 payload of a value starts (0 for bare base64, after the comma for a data URI), or -1. */
function payloadStart(s: string, bare: boolean): number {
  if (s.startsWith('data:')) {
    const comma = s.indexOf(',');
    if (comma < 0 || comma > 256) return -1;
    return s.slice(0, comma).endsWith(';base64') ? comma + 1 : -1;
  }
  return bare && s.length >= MIN_BARE_BASE64 ? 0 : -1;
}

/** The type of a base64 string's bytes, from its first 64 characters (48 bytes), or null when not media. */
export function sniffBase64(s: string, start = 0): MediaType | null {
  const head = s.slice(start, start + 64);
  if (!BASE64.test(head.replace(/=+$/, ''))) return null;
  return sniff(Buffer.from(head, 'base64'));
}

/** A base64 value found in an output that is media of a known type. */
export interface MediaCandidate {
  /** The string holding the base64 (a data URI or bare base64). */
  value: string;
  /** Index in `value` where the base64 starts. */
  start: number;
  type: MediaType;
  /** The file name the worker gave (worker-comfyui's `filename`), untrusted. */
  filename: string | null;
  /** A worker-comfyui item `{type: "base64", data, …}` (its reference keeps the item's other fields), not a bare string. */
  item: boolean;
}

/** A media value found in an output, and how to put its reference in its place. */
export interface MediaSlot extends MediaCandidate {
  /** Puts `ref` where the value was (for an item: the item becomes `ref` plus its other fields). */
  replace(ref: MediaReference): void;
}

/**
 * The base64 media values of a parsed output, depth-first, keys in their JSON order (so the n-th item of an output is
 * the same on every run); `root.value` is the output, replaced in place (a top-level string too, through `root`).
 * Recognised: data URIs (`data:<type>;base64,…`) anywhere; worker-comfyui items `{type: "base64", data, filename?}`;
 * bare base64 of at least MIN_BARE_BASE64 characters under keys like `image`, `images`, `audio`, `video`, `*_base64`,
 * or as the whole output — each only when its first bytes are a known format (sniff). Anything else, URLs included
 * (`type: "s3_url"`), stays as it is.
 */
export function findMedia(root: { value: unknown }): MediaSlot[] {
  const out: MediaSlot[] = [];
  walk(root as Record<string, unknown>, 'value', true, out);
  return out;
}

function walk(parent: Record<string, unknown> | unknown[], key: string | number, bare: boolean, out: MediaSlot[]): void {
  const v = (parent as Record<string | number, unknown>)[key];
  const set = (x: unknown) => {
    (parent as Record<string | number, unknown>)[key] = x;
  };
  if (typeof v === 'string') {
    const start = payloadStart(v, bare);
    const type = start < 0 ? null : sniffBase64(v, start);
    if (type) out.push({ value: v, start, type, filename: null, item: false, replace: set });
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) walk(v, i, bare, out);
    return;
  }
  const o = v as Record<string, unknown>;
  if (o.type === 'base64' && typeof o.data === 'string') {
    const data = o.data;
    const start = payloadStart(data, true);
    const type = start >= 0 ? sniffBase64(data, start) : null;
    if (type) {
      const filename = typeof o.filename === 'string' ? o.filename : null;
      const replace = (ref: MediaReference) => {
        const item: Record<string, unknown> = { ...ref };
        for (const [k, x] of Object.entries(o)) if (k !== 'type' && k !== 'data' && !(k in item)) item[k] = x;
        set(item);
      };
      out.push({ value: data, start, type, filename, item: true, replace });
      return;
    }
  }
  for (const k of Object.keys(o)) walk(o, k, MEDIA_KEY.test(k), out);
}

// --- Naming.

/** Windows' reserved device names: a file named so (with any extension) cannot be opened there. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;

/** A row id used as it is in a file name: lower case letters, digits, `.`, `_`, `-`, at most 64, not a device name. */
const PLAIN_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Characters kept when a row id or worker file name is sanitised; everything else becomes `_`. */
function sanitize(s: string, max: number): string {
  const t = s
    .normalize('NFC')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .slice(0, max);
  return t === '' || t === '_' ? '' : t;
}

/**
 * The part of a media file's name that stands for the row: the row key itself when it is plain (PLAIN_ID), else its
 * sanitised form (at most 48 characters), `~`, and 16 hex digits of the key's SHA-256. A plain id has no `~`, and a
 * tagged one carries a hash of the whole key: two rows never get the same part, even on a case-insensitive file system
 * (plain ids are lower case) and even when their ids sanitise or truncate to the same text.
 */
export function rowPart(key: string): string {
  if (PLAIN_ID.test(key) && !RESERVED.test(key.split('.')[0]!)) return key;
  const tag = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  return `${sanitize(key, 48) || 'row'}~${tag}`;
}

/** The stem of a worker-given file name (`ComfyUI_00001_.png` → `ComfyUI_00001_`), sanitised, no dots; '' when nothing is left. */
export function workerPart(filename: string | null): string {
  if (filename === null) return '';
  const base = filename.replace(/\0/g, '').split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return sanitize(dot > 0 ? base.slice(0, dot) : base, 64);
}

/**
 * File names for the media items of one row's output, in order: `<row>.<item>.<ext>`, where <row> is rowPart(key),
 * <item> the worker's file name stem (sanitised) or the item's number (1, 2, …), made unique within the row
 * (case-insensitively) with `-<n>`, and <ext> the sniffed type's. Neither <item> nor <ext> holds a dot, so the name
 * splits back into its parts: names of different rows differ in <row>, names within a row in <item>. Every name is
 * at most ~140 characters of [A-Za-z0-9._~-] — no separator, no `..`, no NUL, nothing outside the media folder.
 */
export function mediaNames(key: string, items: readonly { filename: string | null; ext: string }[]): string[] {
  const row = rowPart(key);
  const used = new Set<string>();
  return items.map((it, i) => {
    let item = workerPart(it.filename) || String(i + 1);
    for (let n = i + 1; used.has(item.toLowerCase()); n++) item = `${workerPart(it.filename) || String(i + 1)}-${n}`;
    used.add(item.toLowerCase());
    return `${row}.${item}.${it.ext}`;
  });
}

// --- References.

export function refOf(f: MediaFile): MediaReference {
  return { $media: f.path, type: f.type, bytes: f.bytes, sha256: f.sha256 };
}

/** A media file an output refers to, as the exports list it. */
export interface MediaRef {
  /** The file's path relative to the batch's `--out` folder (e.g. `media/r-1.1.png`). */
  path: string;
  /** MIME type, when the reference gives one (`image/png`). */
  type?: string;
  bytes?: number;
  sha256?: string;
}

/** Lists the media references in a row's (parsed) output, in output order. */
export type MediaFinder = (output: unknown) => MediaRef[];

/**
 * The media references in a parsed output, depth-first in output order: every object with a string `$media` (the
 * reference shape above; `type`, `bytes`, `sha256` listed when present). What the exports lay files out from.
 */
export const findMediaRefs: MediaFinder = (output) => {
  const out: MediaRef[] = [];
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (!Array.isArray(v) && typeof o.$media === 'string') {
      const ref: MediaRef = { path: o.$media };
      if (typeof o.type === 'string') ref.type = o.type;
      if (typeof o.bytes === 'number') ref.bytes = o.bytes;
      if (typeof o.sha256 === 'string') ref.sha256 = o.sha256;
      out.push(ref);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(o)) visit(x);
  };
  visit(output);
  return out;
};

/**
 * The media references in a stored output (its JSON text, as results.jsonl holds it), in order. The text is parsed
 * only when it holds `"$media"`.
 */
export function mediaRefsOf(outputJson: string | null): MediaRef[] {
  if (outputJson === null || !outputJson.includes('"$media"')) return [];
  return findMediaRefs(JSON.parse(outputJson));
}

/** What a media file is, for choosing the folder layout: from its MIME type, else its extension. */
export function mediaKind(ref: MediaRef): 'image' | 'audio' | 'video' | 'other' {
  const t = ref.type?.split('/')[0];
  if (t === 'image' || t === 'audio' || t === 'video') return t;
  const ext = ref.path.slice(ref.path.lastIndexOf('.') + 1).toLowerCase();
  if (['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'].includes(ext)) return 'image';
  if (['wav', 'mp3', 'flac', 'ogg', 'opus', 'm4a'].includes(ext)) return 'audio';
  if (['mp4', 'webm', 'mov', 'mkv', 'avi'].includes(ext)) return 'video';
  return 'other';
}
