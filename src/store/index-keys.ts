/**
 * Client strings used as (parts of) index keys — flow and deployment names, task keys,
 * idempotency keys, CSRF client ids. LMDB keys are at most 1978 bytes and lmdb-js's ordered
 * encoding cannot hold a NUL inside an array key, so such strings are stored as `s` + the
 * string when short and plain, or `h` + its SHA-256 otherwise. The prefixes keep the mapping
 * one-to-one. These indexes answer exact lookups only, never sorts.
 */
import { createHash } from 'node:crypto';

const PLAIN_MAX_BYTES = 400;

export function indexString(value: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short strings need no byte count.
  const short = value.length * 3 <= PLAIN_MAX_BYTES || Buffer.byteLength(value) <= PLAIN_MAX_BYTES;
  if (short && !value.includes('\0')) return `s${value}`;
  return `h${createHash('sha256').update(value).digest('hex')}`;
}

/** Artifact keys are ordered index keys (KEY_* sorts), so they are limited instead of hashed. */
export const ARTIFACT_KEY_MAX_LENGTH = 1024;

/** Whether an artifact key could be stored at all (longer ones exist nowhere, so match nothing). */
export const storableKey = (key: string) => key.length <= ARTIFACT_KEY_MAX_LENGTH;
