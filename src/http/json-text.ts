/**
 * Work on raw JSON text that `JSON.parse` cannot do for us:
 * - `topLevelMember` finds the exact source text of one member of a top-level object, so an
 *   artifact's `data` is stored as the client wrote it (integers beyond 2^53 stay exact);
 * - `describeJsonError` reproduces Python's `json` error message and offset for a 422.
 * Both run only on text `JSON.parse` has already accepted (or rejected), so they can be simple.
 */

const WS = new Set([' ', '\t', '\n', '\r']);

/** Source text of the last member named `name` in a top-level JSON object (last wins, as parse). */
export function topLevelMember(text: string, name: string): string | undefined {
  let i = skipWs(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipWs(text, i + 1);
  let found: string | undefined;
  while (i < text.length && text[i] !== '}') {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, skipWs(text, keyEnd) + 1); // past ':'
    const valueEnd = skipValue(text, i);
    if (key === name) found = text.slice(i, valueEnd);
    i = skipWs(text, valueEnd);
    if (text[i] === ',') i = skipWs(text, i + 1);
  }
  return found;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i])) i++;
  return i;
}

function skipString(text: string, i: number): number {
  i++; // opening quote
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    while (i < text.length) {
      const d = text[i];
      if (d === '"') {
        i = skipString(text, i);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < text.length && !WS.has(text[i]) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
  return i;
}

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings ignored). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i) - 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

export interface JsonSyntaxError {
  message: string;
  position: number;
}

/** Python `json.loads`' message and character offset for invalid JSON text. */
export function describeJsonError(text: string): JsonSyntaxError {
  const p = new PythonJsonChecker(text);
  try {
    let i = p.value(p.ws(0));
    i = p.ws(i);
    if (i !== text.length) return { message: 'Extra data', position: i };
    return { message: 'Expecting value', position: 0 }; // JSON.parse and Python disagree; rare
  } catch (e) {
    if (e instanceof SyntaxAt) return { message: e.message, position: e.position };
    throw e;
  }
}

class SyntaxAt extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
  }
}

class PythonJsonChecker {
  constructor(private readonly s: string) {}

  ws(i: number): number {
    return skipWs(this.s, i);
  }

  value(i: number): number {
    const s = this.s;
    const c = s[i];
    if (c === '"') return this.string(i);
    if (c === '{') return this.object(i);
    if (c === '[') return this.array(i);
    for (const word of ['null', 'true', 'false']) if (s.startsWith(word, i)) return i + word.length;
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(s.slice(i, i + 400));
    if (m && m[0] !== '-' && m[0].length > 0) return i + m[0].length;
    throw new SyntaxAt('Expecting value', i);
  }

  string(start: number): number {
    const s = this.s;
    let i = start + 1;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) return i + 1;
      if (c < 0x20) throw new SyntaxAt('Invalid control character at', i);
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) throw new SyntaxAt('Invalid \\uXXXX escape', i + 1);
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new SyntaxAt(`Invalid \\escape: ${pyRepr(e ?? '')}`, i);
        i += 2;
        continue;
      }
      i++;
    }
    throw new SyntaxAt('Unterminated string starting at', start);
  }

  object(start: number): number {
    const s = this.s;
    let i = this.ws(start + 1);
    if (s[i] === '}') return i + 1;
    for (;;) {
      if (s[i] !== '"') throw new SyntaxAt('Expecting property name enclosed in double quotes', i);
      i = this.ws(this.string(i));
      if (s[i] !== ':') throw new SyntaxAt("Expecting ':' delimiter", i);
      i = this.ws(this.value(this.ws(i + 1)));
      if (s[i] === '}') return i + 1;
      if (s[i] !== ',') throw new SyntaxAt("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
      if (s[i] !== '"') throw new SyntaxAt('Expecting property name enclosed in double quotes', i - 1);
    }
  }

  array(start: number): number {
    const s = this.s;
    let i = this.ws(start + 1);
    if (s[i] === ']') return i + 1;
    for (;;) {
      i = this.ws(this.value(i));
      if (s[i] === ']') return i + 1;
      if (s[i] !== ',') throw new SyntaxAt("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }
}

function pyRepr(c: string): string {
  return `'${c.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
