/**
 * PostgreSQL's `text` cannot hold U+0000, which JSON strings may carry and LMDB keeps as it is.
 * The artifact columns a client writes as plain strings (`type`, `description`) and every value
 * compared with a text column (`key` and `type` filters, a key in a path) go through one
 * injective escape — `\` becomes `\\`, U+0000 becomes `\0` — so equality on stored text is
 * equality on what the client sent, and reading back gives exactly that. Text without either
 * character (all but a few rows) is stored as it is; keys never change, since a key holds only
 * lower-case letters, digits and dashes. `data` and `metadata_` are JSON text, where U+0000 is
 * already the escape `\u0000`.
 */
const SPECIAL = /[\\\0]/g;
const ESCAPED = /\\([\\0])/g;

export function toPgText(s: string): string;
export function toPgText(s: string | null): string | null;
export function toPgText(s: string | null): string | null {
  if (s === null || (!s.includes('\\') && !s.includes('\0'))) return s;
  return s.replace(SPECIAL, (c) => (c === '\\' ? '\\\\' : '\\0'));
}

export function fromPgText(s: string): string;
export function fromPgText(s: string | null): string | null;
export function fromPgText(s: string | null): string | null {
  if (s === null || !s.includes('\\')) return s;
  return s.replace(ESCAPED, (_, c: string) => (c === '0' ? '\0' : '\\'));
}
