import { statSync, accessSync, constants } from 'node:fs';
import { extname } from 'node:path';
import { InputError } from '../core/errors.js';
import type { InputFormat } from './types.js';

const EXTENSIONS: Record<string, InputFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.csv': 'csv',
  '.parquet': 'parquet',
};

const FORMATS: readonly InputFormat[] = ['jsonl', 'csv', 'openai-batch', 'parquet'];

/** A problem with the input file as a whole (not one row): reported at line 0. */
export function fileError(file: string, message: string, cause?: unknown): InputError {
  const err = new InputError([{ file, line: 0, message }], 1, `${file}: ${message}`);
  if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
  return err;
}

/** The format to read `path` as: `explicit` when given, else from the extension (case-insensitive). */
export function detectFormat(path: string, explicit?: InputFormat): InputFormat {
  if (explicit !== undefined) {
    if (FORMATS.includes(explicit)) return explicit;
    throw fileError(path, `unknown input format '${String(explicit)}': use ${FORMATS.join(', ')}`);
  }
  const ext = extname(path).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined) {
    const what = ext === '' ? 'no extension' : `extension '${ext}'`;
    throw fileError(
      path,
      `cannot tell the input format from ${what}: name the file .jsonl, .ndjson, .json, .csv or .parquet, or give the format (jsonl, csv, openai-batch or parquet)`,
    );
  }
  return format;
}

/** Throws InputError unless `path` is an existing, readable file (not a directory). */
export function checkInputFile(path: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fileError(path, 'input file not found', e);
    throw fileError(path, `cannot read the input file: ${(e as Error).message}`, e);
  }
  if (isDir) throw fileError(path, 'the input is a directory, not a file');
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw fileError(path, `cannot read the input file: ${(e as Error).message}`, e);
  }
}

/** Wraps an error met while reading the file (after the checks passed). */
export function readError(file: string, e: unknown): InputError {
  return fileError(file, `cannot read the input file: ${e instanceof Error ? e.message : String(e)}`, e);
}
