/**
 * The seam between an output and the media files it refers to. Media extraction (#12: base64 images and audio in
 * outputs decoded to files under `<out>/media/`) replaces each inline item in the stored output by a small
 * reference object; the exports that lay out files (the Hugging Face imagefolder/audiofolder layout) ask this
 * module which references an output holds.
 */

/** A media file an output refers to. */
export interface MediaRef {
  /** The file's path relative to the batch's `--out` folder (e.g. `media/r-1.png`). */
  path: string;
  /** MIME type, when the reference gives one (`image/png`). */
  type?: string;
  bytes?: number;
  sha256?: string;
}

/** Lists the media references in a row's (parsed) output, in output order. */
export type MediaFinder = (output: unknown) => MediaRef[];

/**
 * TODO(#12 media extraction): recognise the reference objects media extraction stores in outputs (a draft shape is
 * `{"$media": "media/r-1.png", "bytes": …, "type": "image/png", "sha256": …}`; the final one is that work's to fix)
 * and list them here. Until it lands no output holds one, so every batch exports as text (Parquet shards); the
 * imagefolder/audiofolder path is exercised by tests that pass their own finder.
 */
export const findMediaRefs: MediaFinder = () => [];

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
