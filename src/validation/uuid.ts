/**
 * UUID parsing with Pydantic's leniency and its error wording: hyphenated or 32 bare hex digits,
 * either case, optionally in braces, or `urn:uuid:` + the hyphenated form. Output is always the
 * canonical lower-case hyphenated form, so stored ids and index keys compare by value.
 */

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GROUP_LENGTHS = [8, 4, 4, 4, 12];

export type UuidResult = { ok: true; value: string } | { ok: false; error: string };

/** Fast path for the form every client sends; falls back to the full parser otherwise. */
export function parseUuid(input: string): UuidResult {
  if (input.length === 36 && CANONICAL.test(input)) return { ok: true, value: input };
  return parseUuidSlow(input);
}

function parseUuidSlow(input: string): UuidResult {
  let body = input;
  let offset = 0; // characters stripped from the front, so error positions match the input
  if (body.startsWith('urn:uuid:')) {
    body = body.slice(9);
    offset = 9;
    if (body.length === 32 && !body.includes('-')) {
      return { ok: false, error: `invalid length: expected length 32 for simple format, found ${input.length}` };
    }
  } else if (body.startsWith('{') && body.endsWith('}') && body.length > 2) {
    body = body.slice(1, -1);
    offset = 1;
  }
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (!/[0-9a-fA-F-]/.test(c)) {
      return { ok: false, error: `invalid character: found \`${c}\` at ${i + offset + 1}` };
    }
  }
  const lower = body.toLowerCase();
  if (!lower.includes('-')) {
    if (lower.length !== 32) {
      return { ok: false, error: `invalid length: expected length 32 for simple format, found ${lower.length}` };
    }
    return { ok: true, value: hyphenate(lower) };
  }
  const groups = lower.split('-');
  if (groups.length !== 5) {
    return { ok: false, error: `invalid group count: expected 5, found ${groups.length}` };
  }
  for (let g = 0; g < 5; g++) {
    if (groups[g].length !== GROUP_LENGTHS[g]) {
      return {
        ok: false,
        error: `invalid group length in group ${g}: expected ${GROUP_LENGTHS[g]}, found ${groups[g].length}`,
      };
    }
  }
  return { ok: true, value: lower };
}

function hyphenate(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
