/**
 * Generators of the fuzz suite: adversarial scalars and JSON, structure-aware mutations of valid
 * bodies (leaf replacement, unknown keys at any depth, deletions, duplicate keys in the raw text,
 * truncation and invalid UTF-8), headers, paths with %-encodings, query strings, and one valid
 * body per route with every field set.
 */
import fc from 'fast-check';
import { realId, type FuzzRequest, type IdKind, type World } from './support.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ── Values that print briefly in counterexamples ──────────────────────────────────────────────

/** JSON text inserted verbatim into a body (numbers JSON.stringify cannot write, deep nesting). */
export class RawJson {
  constructor(
    readonly text: string,
    readonly label = text.length > 80 ? `${text.slice(0, 40)}…(${text.length} chars)` : text,
  ) {}
  [fc.toStringMethod]() {
    return `RawJson(${JSON.stringify(this.label)})`;
  }
}

/** A long string built on demand: `unit` repeated `n` times. */
export class Big {
  constructor(
    readonly unit: string,
    readonly n: number,
    readonly prefix = '',
  ) {}
  get value(): string {
    return this.prefix + this.unit.repeat(this.n);
  }
  [fc.toStringMethod]() {
    return `Big(${JSON.stringify(this.prefix)} + ${JSON.stringify(this.unit)} × ${this.n})`;
  }
}

export const str = (s: string | Big): string => (typeof s === 'string' ? s : s.value);

// ── Generators: scalars ───────────────────────────────────────────────────────────────────────

/** Numbers at and past every bound the schemas have (limit, offset, ge=0, ints, floats). */
export const nastyNumber: fc.Arbitrary<number | RawJson> = fc.oneof(
  fc.constantFrom(
    -1, 0, -0, 1, 2, 5, 6, 7, 8, 10, 10.5, 0.5, -0.5, 199, 200, 201, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53,
    -(2 ** 53), 1e21, 1e308, -1e308, 5e-324, Number.MAX_VALUE, Number.MIN_SAFE_INTEGER, 1.5e300, 3.14,
  ),
  fc.constantFrom(
    new RawJson('9007199254740993'),
    new RawJson('-9007199254740993'),
    new RawJson('1e999'),
    new RawJson('-1e999'),
    new RawJson('-0'),
    new RawJson('-0.0'),
    new RawJson('1E+2'),
    new RawJson('1.0'),
    new RawJson('10.0'),
    new RawJson('200.0'),
    new RawJson('0e0'),
    new RawJson('1e-400'),
    new RawJson('1' + '0'.repeat(400)),
    new RawJson('0.' + '0'.repeat(400) + '1'),
    new RawJson('NaN'),
    new RawJson('Infinity'),
    new RawJson('-Infinity'),
    new RawJson('01'),
    new RawJson('+1'),
    new RawJson('.5'),
    new RawJson('1.'),
    new RawJson('0x10'),
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const UUID_EXAMPLE = '6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12';

/** Strings shaped like UUIDs, valid in Pydantic's lax forms or broken in one way each. */
export const uuidish: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => `{${u}}`),
  fc.uuid().map((u) => `urn:uuid:${u}`),
  fc.uuid().map((u) => u.replaceAll('-', '')),
  fc.uuid().map((u) => `urn:uuid:${u.replaceAll('-', '')}`),
  fc.uuid().map((u) => ` ${u}`),
  fc.uuid().map((u) => `${u}\n`),
  fc.uuid().map((u) => u.slice(0, -1)),
  fc.uuid().map((u) => `${u}0`),
  fc.uuid().map((u) => u.replace('-', '')),
  fc.uuid().map((u) => u.replace(/[0-9a-f]/, 'g')),
  fc.uuid().map((u) => `${u}-`),
  fc.uuid().map((u) => u.replaceAll('-', '--')),
  fc.constantFrom(
    '', '-', '----', 'latest', 'null', 'undefined', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '{}', '{' + UUID_EXAMPLE, UUID_EXAMPLE + '}', 'urn:uuid:', 'urn:uuid:{' + UUID_EXAMPLE + '}', '{urn:uuid:' + UUID_EXAMPLE + '}',
    UUID_EXAMPLE.replaceAll('-', '').slice(0, 31), '6f1d2c3b8a4e4b7a9c112e5d7f9a0b1', '６f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12',
    '6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b1\u0000', '\u0000', '%00', '../../etc/passwd',
  ),
);

const DATETIMES = [
  '2024-09-05T12:00:00Z', '2024-09-05T12:00:00.123456Z', '2024-09-05', '2024-09-05 12:00', '2024-09-05T12:00:00+02:00',
  '2024-09-05T12:00:00-0230', '2024-09-05t12:00:00z', '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2024-02-30',
  '2024-13-01', '2024-00-10', '2024-01-32', '0000-01-01', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z',
  '9999-12-31T23:59:59.9999999999999Z', '1970-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2024-09-05T24:00:00Z',
  '2024-09-05T23:60:00Z', '2024-09-05T23:59:60Z', '2024-09-05T12:00:00+24:00', '2024-09-05T12:00:00+23:99',
  '2024-09-05T12:00:00,5Z', '2024-09-05T12:00:00.' + '9'.repeat(50) + 'Z', '+2024-09-05', '-2024-09-05', '20240905',
  '2024-W36-4', 'yesterday', 'now', '', ' ', '2024-09-05T12:00:00Z\n', '２０２４-09-05',
];

const SPECIAL_STRINGS = [
  '', ' ', '  ', '\t', '\n', '\r\n', 'a\n', 'a\n\n', '\na', 'report\n', '\u0000', 'a\u0000b', '\u001e', '\u001f', '\u007f',
  '\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', '\ud83d\ude00', '\ufeff', '\ufffd', '\uffff', '\u2028', '\u0085', 'İ', 'ß', 'ǅ',
  '%', '%%', '%00', '%FF', '%0A', '_', '\\', '\\\\', '"', "'", '/', '//', '..', '.', '&', '<', '>', '<script>', '${x}', '{{x}}',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'NaN', 'Infinity', '-0', '1e308', '10',
  '10.5', '0', '-1', 'true', 'false', 'null', 'undefined', '[]', '{}', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n',
  'and_', 'or_', 'AND_', 'RUNNING', 'running', 'COMPLETED', 'SCHEDULED', 'Scheduled', 'ID_DESC', 'id_desc', 'KEY_ASC',
  'CREATED_DESC', 'NAME_ASC', 'START_TIME_ASC', 'END_TIME_DESC', 'markdown', 'table', 'fuzz-report', 'fuzz-flow',
  'fuzz-deployment', 'fuzz-table', 'FUZZ-REPORT', 'fuzz-report\n', 'fuzz-flow/fuzz-deployment',
];

/** Long strings at sizes around LMDB's key limit (1978 bytes), metadata's 500, cache keys' 2000. */
export const bigString: fc.Arbitrary<Big> = fc
  .tuple(
    fc.constantFrom('a', '-', 'é', '😀', '\u0000', 'ab', '\ud800', '%', ' '),
    fc.constantFrom(499, 500, 501, 502, 503, 987, 988, 989, 1000, 1977, 1978, 1979, 1990, 2000, 2001, 4096, 10_000, 100_000),
    fc.constantFrom('', 'fuzz-', 'x\n'),
  )
  .map(([unit, n, prefix]) => new Big(unit, unit.length > 1 && unit !== '😀' ? Math.ceil(n / 2) : n, prefix));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIAL_STRINGS), weight: 4 },
  { arbitrary: fc.constantFrom(...DATETIMES), weight: 2 },
  { arbitrary: uuidish, weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 1 },
  { arbitrary: fc.stringMatching(/^[a-z0-9-]{0,12}\n?$/), weight: 2 },
);

// ── Generators: JSON ──────────────────────────────────────────────────────────────────────────

/** JSON nested `depth` levels deep, as text (arrays, objects, or both, wrapping a leaf). */
export function nested(depth: number, style: 'array' | 'object' | 'mixed', leaf = '1'): RawJson {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const obj = style === 'object' || (style === 'mixed' && i % 2 === 1);
    open += obj ? '{"a":' : '[';
    close = (obj ? '}' : ']') + close;
  }
  return new RawJson(open + leaf + close, `nested ${style} ${depth} deep`);
}

export const deepJson = (limit: number): fc.Arbitrary<RawJson> =>
  fc
    .tuple(
      fc.constantFrom(1, 2, 10, 64, limit - 2, limit - 1, limit, limit + 1, limit + 2, 300, 1000, 5000, 100_000),
      fc.constantFrom('array', 'object', 'mixed') as fc.Arbitrary<'array' | 'object' | 'mixed'>,
    )
    .filter(([d]) => d >= 1)
    .map(([d, style]) => nested(d, style));

/** Big arrays, as text: of zeros, of strings, of UUIDs, of nulls, of objects. */
export const bigArray: fc.Arbitrary<RawJson> = fc
  .tuple(fc.constantFrom(0, 1, 50, 51, 1000, 10_000, 50_000), fc.constantFrom('0', '"x"', `"${UUID_EXAMPLE}"`, 'null', '{}', '[]', '"RUNNING"'))
  .map(([n, item]) => new RawJson(`[${Array.from({ length: n }, () => item).join(',')}]`, `array of ${n} × ${item}`));

const nastyScalar: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: nastyNumber, weight: 3 },
  { arbitrary: nastyString, weight: 4 },
  { arbitrary: fc.constantFrom(true, false, null), weight: 2 },
);

/** A random value for any position: wrong types, bounds, deep/huge values, JSON of all kinds. */
export const nastyValue = (depthLimit: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: nastyScalar, weight: 10 },
    { arbitrary: fc.array(nastyScalar, { maxLength: 4 }), weight: 3 },
    { arbitrary: fc.dictionary(nastyString, nastyScalar, { maxKeys: 3 }), weight: 3 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 3 },
    { arbitrary: bigString, weight: 1 },
    { arbitrary: deepJson(depthLimit), weight: 1 },
    { arbitrary: bigArray, weight: 1 },
  );

/** Names of fields that exist somewhere, to put valid keys in the wrong places. */
export const FIELD_NAMES = [
  'key', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id', 'id', 'created', 'updated', 'latest_id',
  'artifacts', 'flow_runs', 'task_runs', 'flows', 'deployments', 'work_pools', 'work_pool_queues', 'sort', 'limit', 'offset',
  'operator', 'any_', 'not_any_', 'all_', 'like_', 'exists_', 'is_null_', 'before_', 'after_', 'ge_', 'le_', 'eq_', 'id_', 'type_',
  'name', 'tags', 'labels', 'state', 'flow_id', 'deployment_id', 'parameters', 'context', 'empirical_policy', 'idempotency_key',
  'parent_task_run_id', 'task_key', 'dynamic_key', 'cache_key', 'state_details', 'force', 'schedules', 'concurrency_limit',
  'parameter_openapi_schema', 'enforce_parameter_schema', 'work_pool_name', 'work_queue_name', 'job_variables', 'pull_steps',
  'storage_document_id', 'infrastructure_document_id', 'worker_pool_name', 'retries', 'retry_delay', 'retry_jitter_factor',
  'task_inputs', 'input_type', 'properties', 'required',
];

export const nastyKey: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...FIELD_NAMES), weight: 4 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'KEY', 'key ', 'key\u0000', '\ud800'), weight: 2 },
  { arbitrary: nastyString, weight: 2 },
);

// ── Serializing with duplicate keys and raw values ───────────────────────────────────────────

/** A duplicate member inserted into the object at DFS index `at` (its name copies an existing one). */
export interface DupKey {
  at: number;
  nameIndex: number;
  value: unknown;
  before: boolean;
}

/** Every node of a JSON tree in DFS order, with its parent link. */
interface NodeRef {
  value: unknown;
  parent?: { container: any; key: string | number };
}

function nodesOf(root: unknown): NodeRef[] {
  const out: NodeRef[] = [];
  const walk = (value: unknown, parent?: NodeRef['parent']) => {
    out.push({ value, parent });
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, { container: value, key: i }));
    else if (isObject(value) && !(value instanceof RawJson) && !(value instanceof Big)) {
      for (const k of Object.keys(value)) walk(value[k], { container: value, key: k });
    }
  };
  walk(root);
  return out;
}

const isPlain = (v: unknown): v is Record<string, unknown> => isObject(v) && !(v instanceof RawJson) && !(v instanceof Big);

/** JSON text of a tree: RawJson verbatim, Big expanded, duplicate members added where asked. */
export function serialize(root: unknown, dups: DupKey[] = []): string {
  const objects = nodesOf(root).map((n) => n.value).filter(isPlain);
  const dupFor = new Map<object, DupKey[]>();
  if (objects.length > 0) {
    for (const d of dups) {
      const target = objects[d.at % objects.length];
      if (Object.keys(target).length === 0) continue;
      dupFor.set(target, [...(dupFor.get(target) ?? []), d]);
    }
  }
  const write = (value: unknown): string => {
    if (value instanceof RawJson) return value.text;
    if (value instanceof Big) return JSON.stringify(value.value);
    if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
    if (isPlain(value)) {
      const keys = Object.keys(value);
      const members = keys.map((k) => `${JSON.stringify(k)}:${write(value[k])}`);
      for (const d of dupFor.get(value) ?? []) {
        const name = JSON.stringify(keys[d.nameIndex % keys.length]);
        const member = `${name}:${write(d.value)}`;
        if (d.before) members.unshift(member);
        else members.push(member);
      }
      return `{${members.join(',')}}`;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return JSON.stringify(value) ?? 'null';
  };
  return write(root);
}

// ── Structure-aware mutations of valid bodies ────────────────────────────────────────────────

export type Mutation =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'addKey'; at: number; key: string; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'wrap'; at: number; inArray: boolean }
  | { op: 'realId'; at: number; kind: IdKind }
  /** Replaces a leaf with a value of the same JSON type (so the body mostly stays valid). */
  | { op: 'sameType'; at: number; text: string | Big; number: number | RawJson; repeat: number }
  /** Replaces a node with null, or with an empty value of its own type ({} [] "" 0). */
  | { op: 'blank'; at: number; toNull: boolean };

const ID_KINDS: IdKind[] = ['flow', 'flowRun', 'taskRun', 'deployment', 'artifact'];

/** Same-type replacements: nasty strings (often long), bound numbers, arrays resized. */
export const sameType: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constant('sameType' as const),
  at: fc.nat(),
  text: fc.oneof({ arbitrary: nastyString, weight: 3 }, { arbitrary: bigString, weight: 2 }),
  number: nastyNumber,
  repeat: fc.constantFrom(0, 2, 50, 51, 200, 201, 1000),
});

export const blank: fc.Arbitrary<Mutation> = fc.record({ op: fc.constant('blank' as const), at: fc.nat(), toNull: fc.boolean() });

export const mutation = (depthLimit: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: nastyValue(depthLimit) }), weight: 6 },
    { arbitrary: fc.record({ op: fc.constant('addKey' as const), at: fc.nat(), key: nastyKey, value: nastyValue(depthLimit) }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('wrap' as const), at: fc.nat(), inArray: fc.boolean() }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('realId' as const), at: fc.nat(), kind: fc.constantFrom(...ID_KINDS) }), weight: 2 },
    { arbitrary: sameType, weight: 4 },
    { arbitrary: blank, weight: 3 },
  );

/** Applies mutations to a (fresh, owned) JSON tree; returns the new root. */
export function mutate(root: unknown, mutations: Mutation[], world: World): unknown {
  let current = root;
  for (const m of mutations) {
    const nodes = nodesOf(current);
    const node = nodes[m.at % nodes.length];
    const set = (value: unknown) => {
      if (node.parent) node.parent.container[node.parent.key] = value;
      else current = value;
    };
    switch (m.op) {
      case 'replace':
        set(m.value);
        break;
      case 'realId':
        set(realId(world, m.kind, m.at));
        break;
      case 'blank': {
        const v = node.value;
        if (m.toNull) set(null);
        else if (Array.isArray(v)) set([]);
        else if (isPlain(v)) set({});
        else if (typeof v === 'string') set('');
        else if (typeof v === 'number') set(0);
        else set(null);
        break;
      }
      case 'sameType': {
        const v = node.value;
        if (typeof v === 'string') set(m.text);
        else if (typeof v === 'number') set(m.number);
        else if (typeof v === 'boolean') set(!v);
        else if (Array.isArray(v)) set(v.length === 0 ? [] : Array.from({ length: m.repeat }, (_, i) => structuredClone(v[i % v.length])));
        else if (isPlain(v) && Object.keys(v).length > 0) set({});
        break;
      }
      case 'wrap':
        set(m.inArray ? [node.value] : { value: node.value });
        break;
      case 'delete':
        if (node.parent && Array.isArray(node.parent.container)) node.parent.container.splice(node.parent.key as number, 1);
        else if (node.parent) delete node.parent.container[node.parent.key];
        else current = undefined;
        break;
      case 'addKey': {
        // Into the nearest object at or above the node (unknown keys at random depths).
        let target: NodeRef | undefined = node;
        while (target && !isPlain(target.value)) {
          const container: unknown = target.parent?.container;
          target = container === undefined ? undefined : nodes.find((n) => n.value === container);
        }
        if (target && isPlain(target.value)) (target.value as Record<string, unknown>)[m.key] = m.value;
        break;
      }
    }
  }
  return current;
}

/** Keeps a random subset of the keys of every object (so valid bodies vary, not only shrink). */
export function prune(root: unknown, keep: boolean[]): unknown {
  if (keep.length === 0) return root;
  let i = 0;
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (!isPlain(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (keep[i++ % keep.length]) out[k] = walk(v);
    return out;
  };
  return walk(root);
}

// ── Raw body text: truncation, corruption, invalid UTF-8 ─────────────────────────────────────

export type TextMutation =
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'cut'; at: number; length: number }
  | { op: 'bytes'; at: number; bytes: number[] };

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, truncated, 0xFF. */
export const INVALID_UTF8: number[][] = [[0xff], [0xfe], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3], [0xef, 0xbb, 0xbf]];

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(',', '}', ']', '{', '[', '"', ':', '\\', '\u0000', '\n', '/*', 'NaN', ' ', '\ud800', ',,', '\\u12', '\\x41') }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('bytes' as const), at: fc.nat(), bytes: fc.constantFrom(...INVALID_UTF8) }),
);

/** Applies text mutations; any `bytes` mutation turns the body into bytes. */
export function mutateText(text: string, mutations: TextMutation[]): string | Uint8Array {
  let bytes = Buffer.from(text, 'utf8');
  let binary = false;
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    if (m.op === 'truncate') bytes = bytes.subarray(0, at);
    else if (m.op === 'cut') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    else if (m.op === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, 'utf8'), bytes.subarray(at)]);
    else {
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
      binary = true;
    }
  }
  return binary ? new Uint8Array(bytes) : bytes.toString('utf8');
}

// ── Bodies that are not a mutated model ──────────────────────────────────────────────────────

export const ODD_TEXTS = [
  '', ' ', '\n', '\t \r\n ', 'null', ' null ', 'true', '0', '-1', '""', '"x"', '[]', '{}', '[{}]', '{', '}', '[', '{"', '{"a"', '{"a":',
  '{"a":1', '{"a":1,}', '{,}', '[1,]', "{'a':1}", '{a:1}', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":undefined}',
  '{"a":1}{"b":2}', '{} x', '{}\u0000', '\u0000', '\ufeff{}', '\ufeff', '{"\\ud800":1}', '{"a":"\\ud800"}', '{"a":"\\u12"}',
  '{"a":"\\x41"}', '{"a":"\u0001"}', '{"a":"line\nbreak"}', '/* c */ {}', '{"a":1 // c\n}', 'nul', 'tru', 'fals', '-', '1.',
  '01', '1e', '--1', '[1 2]', '{"a" 1}', '{"a":1 "b":2}', '"\\"', '[' + '"a",'.repeat(3) + ']', '{"limit": 5, "limit": -1}',
  '{"sort": "ID_DESC", "sort": 7}', '{"key": "a", "key": "A B"}', '{"name": "x", "name": null}', '{"__proto__": {"limit": -1}}',
  '{"__proto__": null}', '{"constructor": {"prototype": {}}}',
];

export const INVALID_UTF8_BODIES: Uint8Array[] = [
  ...INVALID_UTF8.map((b) => new Uint8Array(b)),
  ...INVALID_UTF8.map((b) => new Uint8Array([...Buffer.from('{"data":"'), ...b, ...Buffer.from('"}')])),
  ...INVALID_UTF8.map((b) => new Uint8Array([...Buffer.from('{"name":"'), ...b, ...Buffer.from('"}')])),
  ...INVALID_UTF8.map((b) => new Uint8Array([...Buffer.from('{"'), ...b, ...Buffer.from('":1}')])),
  new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), // UTF-16LE with BOM: {}
  new Uint8Array([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]), // UTF-16BE with BOM
  new Uint8Array([0x7b, 0x00, 0x7d, 0x00]),
  new Uint8Array([0x1f, 0x8b, 0x08, 0x00]), // a gzip header
];

// ── Headers ───────────────────────────────────────────────────────────────────────────────────

export const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16',
  'APPLICATION/JSON', 'application/json;;;', 'application/problem+json', 'application/vnd.api+json', 'text/plain', 'text/html',
  'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'multipart/form-data; boundary=x',
  'multipart/form-data; boundary=', 'application/octet-stream', 'application/xml', 'image/png', '*/*', '', ' ', 'json', ';',
  'application/', '/json', 'application/json\u00ff',
];

export const API_VERSIONS = [
  '0.8.4', '0.8.0', '0.7.9', '0.8', '0.8.4.1', '1.2.3.4', '0.8.a', 'a.b.c', '', ' ', '...', '0..0', '.8.4', '0.8.', '9.9.9',
  '99999999999999999999.0.0', '-1.0.0', '+0.+8.+4', ' 0 . 8 . 4 ', '00.08.04', '0.08.00', '0.7.99999999999999999999', '0.8.-0',
  '1e3.0.0', '0x1.0.0', '0.8.4 ', '\t0.8.4', '3.0.0', 'v0.8.4', '0.8.4-dev', '٠.٨.٤', '0,8,4', '0.8.4, 0.8.4',
];

const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
  fc.constantFrom('', 'null', '*', '-1', '0', '99999999999999999999', 'abc', 'http://evil.example', 'Basic', 'Basic !!!', 'Bearer x'),
);

/** Optional extra headers: versions, content types, CORS, auth, CSRF, bogus lengths, encodings. */
export const headerSet: fc.Arbitrary<[string, string][]> = fc
  .record(
    {
      contentType: fc.option(fc.oneof(fc.constantFrom(...CONTENT_TYPES), headerValue), { nil: undefined, freq: 3 }),
      apiVersion: fc.option(fc.oneof({ arbitrary: fc.constantFrom(...API_VERSIONS), weight: 4 }, { arbitrary: headerValue, weight: 1 }), {
        nil: undefined,
        freq: 2,
      }),
      extra: fc.array(
        fc.tuple(
          fc.constantFrom(
            'accept', 'accept-encoding', 'origin', 'access-control-request-method', 'access-control-request-headers', 'authorization',
            'prefect-csrf-token', 'prefect-csrf-client', 'content-length', 'content-encoding', 'transfer-encoding', 'expect',
            'x-forwarded-for', 'x-forwarded-proto', 'cookie', 'range', 'if-none-match', 'x-prefect-api-version',
          ),
          fc.oneof(headerValue, fc.constantFrom('gzip', 'br', 'chunked', '100-continue', 'GET', 'POST', 'DELETE', 'application/json')),
        ),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  )
  .map(({ contentType, apiVersion, extra = [] }) => {
    const out: [string, string][] = [];
    if (contentType !== undefined) out.push(['content-type', contentType]);
    if (apiVersion !== undefined) out.push(['x-prefect-api-version', apiVersion]);
    return [...out, ...extra];
  });

// ── Paths and query strings ──────────────────────────────────────────────────────────────────

/** Raw path-segment material: percent-encodings valid and not, dot segments, separators. */
export const RAW_SEGMENTS = [
  '%', '%%', '%zz', '%F', '%FF', '%ff', '%00', '%0A', '%0a', '%0D', '%0D%0A', '%09', '%20', '%2F', '%2f', '%5C', '%25', '%2525',
  '%C0%80', '%C0%AF', '%ED%A0%80', '%E2%82', '%F0%9F%98', '%F0%9F%98%80', '%EF%BB%BF', '%E2%80%A8', '%7F', '.', '..', '%2e',
  '%2e%2e', '...', ';', ';a=b', ',', '+', '~', '*', '@', ':', '!', '$', "'", '(', ')', '[', ']', '|', '^', '`', '{', '}', '"',
  '<', '>', '\\', ' ', 'é', '😀', '\u0000', '\ud800', 'latest', 'filter', 'count', 'name', 'set_state', 'create_flow_run',
];

/** A path segment: encoded nasty strings, raw percent junk, or long runs. */
export const segment: fc.Arbitrary<string | Big> = fc.oneof(
  { arbitrary: fc.constantFrom(...RAW_SEGMENTS), weight: 4 },
  { arbitrary: nastyString.map((s) => encodeSegment(s)), weight: 3 },
  { arbitrary: fc.array(fc.constantFrom(...RAW_SEGMENTS), { minLength: 2, maxLength: 4 }).map((a) => a.join('')), weight: 2 },
  { arbitrary: fc.constantFrom(new Big('a', 3000), new Big('%FF', 1000), new Big('%00', 700), new Big('-', 70_000), new Big('é', 2000)), weight: 1 },
);

function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogates: send raw, the URL parser will do what it does
  }
}

/** A query string: nothing, or pairs of nasty keys and values (client= for the CSRF route). */
export const queryString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant(''), weight: 3 },
  {
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom('client', 'limit', 'offset', 'sort', 'id', 'key', 'name', '', '%', '%FF', 'a[b]', '__proto__'), nastyString.map(encodeSegment)),
          fc.option(fc.oneof(fc.constantFrom(...RAW_SEGMENTS), nastyString.map(encodeSegment), fc.constantFrom(new Big('x', 10_000))), { nil: undefined }),
        ),
        { maxLength: 4 },
      )
      .map((pairs) => '?' + pairs.map(([k, v]) => (v === undefined ? k : `${k}=${str(v)}`)).join('&')),
    weight: 3,
  },
  { arbitrary: fc.constantFrom('?', '?&', '?&&=&', '?=', '?%', '?%FF=%FF', '?a=1#frag', '?client', '?client=', '?client=%00', '?client=a&client=b'), weight: 1 },
);

// ── Routes ────────────────────────────────────────────────────────────────────────────────────

export type Slot = { real: IdKind } | { key: true } | { flowName: true };

export interface Route {
  method: string;
  /** Path segments after /api; slots are filled from the world or by generators. */
  path: (string | Slot)[];
  /** A valid body, or undefined for body-less routes. */
  body?: (w: World) => unknown;
}

/** How a slot is filled: the right real row, another kind's row, a UUID form of it, junk. */
export type SlotFill =
  | { fill: 'real'; variant: 'canonical' | 'upper' | 'braces' | 'urn' | 'bare' }
  | { fill: 'otherKind'; kind: IdKind }
  | { fill: 'literal'; segment: string | Big };

export const slotFill: fc.Arbitrary<SlotFill> = fc.oneof(
  { arbitrary: fc.record({ fill: fc.constant('real' as const), variant: fc.constantFrom('canonical', 'upper', 'braces', 'urn', 'bare') as fc.Arbitrary<'canonical'> }), weight: 5 },
  { arbitrary: fc.record({ fill: fc.constant('otherKind' as const), kind: fc.constantFrom(...ID_KINDS) }), weight: 1 },
  { arbitrary: fc.record({ fill: fc.constant('literal' as const), segment: fc.oneof(uuidish.map(encodeSegment), segment) }), weight: 3 },
);

function uuidVariant(id: string, variant: string): string {
  switch (variant) {
    case 'upper':
      return id.toUpperCase();
    case 'braces':
      return encodeURIComponent(`{${id}}`);
    case 'urn':
      return `urn:uuid:${id}`;
    case 'bare':
      return id.replaceAll('-', '');
    default:
      return id;
  }
}

export function fillSlot(slot: Slot, fill: SlotFill, world: World, pick: number): string {
  if (fill.fill === 'literal') return str(fill.segment);
  if (fill.fill === 'otherKind') return realId(world, fill.kind, pick);
  if ('key' in slot) return encodeURIComponent(world.keys[pick % world.keys.length]);
  if ('flowName' in slot) return encodeURIComponent(world.flowName);
  return uuidVariant(realId(world, slot.real, pick), fill.variant);
}

/** Changes to a built path: trailing slash, doubled slashes, case, extra segments, no /api. */
export type PathTweak = 'none' | 'toggleSlash' | 'doubleSlash' | 'upper' | 'extraSegment' | 'dropApi' | 'dotSegment' | 'encodedSlash';

export const pathTweak: fc.Arbitrary<PathTweak> = fc.oneof(
  { arbitrary: fc.constant('none' as const), weight: 12 },
  { arbitrary: fc.constantFrom('toggleSlash', 'doubleSlash', 'upper', 'extraSegment', 'dropApi', 'dotSegment', 'encodedSlash') as fc.Arbitrary<PathTweak>, weight: 3 },
);

export function tweakPath(path: string, tweak: PathTweak, extra: string): string {
  switch (tweak) {
    case 'toggleSlash':
      return path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    case 'doubleSlash':
      return path.replace('/api/', '/api//');
    case 'upper':
      return path.toUpperCase();
    case 'extraSegment':
      return `${path.replace(/\/$/, '')}/${extra}`;
    case 'dropApi':
      return path.replace(/^\/api/, '');
    case 'dotSegment':
      return path.replace('/api/', '/api/./x/../');
    case 'encodedSlash':
      return path.replace(/\/([^/]*)$/, '%2F$1');
    default:
      return path;
  }
}

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'patch', 'delete', 'FOO', 'PROPFIND', 'CONNECT', 'TRACE'];

// ── Route bodies: one valid body per model, with every field set ─────────────────────────────

const ISO = '2024-09-05T12:00:00Z';
const ISO2 = '2030-01-01T00:00:00.5+02:00';

export const artifactFilter = (w: World, latest = false) => ({
  operator: 'and_',
  [latest ? 'latest_id' : 'id']: { any_: [...w.artifactIds] },
  key: { any_: ['fuzz-report', 'fuzz-table'], like_: 'fuzz', exists_: true },
  flow_run_id: { any_: [w.flowRunId] },
  task_run_id: { any_: [w.taskRunId] },
  type: { any_: ['markdown', 'table'], not_any_: ['progress'] },
});

export const flowFilter = (w: World) => ({
  operator: 'and_',
  id: { any_: [w.flowId], not_any_: [UUID_EXAMPLE] },
  deployment: { operator: 'and_', is_null_: false },
  name: { any_: [w.flowName], like_: 'fuzz' },
  tags: { operator: 'and_', all_: ['fuzz'], is_null_: false },
});

export const flowRunFilter = (w: World) => ({
  operator: 'and_',
  id: { any_: [w.flowRunId], not_any_: [UUID_EXAMPLE] },
  name: { any_: ['fuzz-run'], like_: 'fuzz' },
  tags: { operator: 'and_', all_: ['nightly'], any_: ['nightly', 'x'], is_null_: false },
  deployment_id: { operator: 'and_', any_: [w.deploymentId], is_null_: false },
  work_queue_name: { operator: 'or_', any_: ['default'], is_null_: true },
  state: { operator: 'and_', type: { any_: ['RUNNING', 'COMPLETED'], not_any_: ['FAILED'] }, name: { any_: ['Running'], not_any_: ['Failed'] } },
  flow_version: { any_: ['1'] },
  start_time: { before_: ISO2, after_: ISO, is_null_: false },
  expected_start_time: { before_: ISO2, after_: ISO },
  next_scheduled_start_time: { before_: ISO2, after_: ISO },
  parent_flow_run_id: { operator: 'and_', any_: [w.flowRunId] },
  parent_task_run_id: { operator: 'and_', any_: [w.taskRunId], is_null_: true },
  idempotency_key: { any_: ['fuzz-idem'], not_any_: ['x'] },
  end_time: { before_: ISO2, after_: ISO, is_null_: true },
  created_by: { operator: 'and_', id_: [UUID_EXAMPLE], type_: ['USER'], is_null_: true },
});

export const taskRunFilter = (w: World) => ({
  operator: 'and_',
  id: { any_: [w.taskRunId] },
  name: { any_: ['fuzz-task-0'], like_: 'fuzz' },
  tags: { operator: 'and_', all_: [], is_null_: true },
  state: { operator: 'or_', type: { any_: ['COMPLETED'] }, name: { any_: ['Completed'] } },
  start_time: { before_: ISO2, after_: ISO, is_null_: true },
  expected_start_time: { before_: ISO2, after_: ISO },
  subflow_runs: { exists_: false },
  flow_run_id: { operator: 'and_', any_: [w.flowRunId], is_null_: false },
  end_time: { before_: ISO2, after_: ISO, is_null_: false },
});

export const deploymentFilter = (w: World) => ({
  operator: 'and_',
  id: { any_: [w.deploymentId], not_any_: [] },
  name: { any_: [w.deploymentName], like_: 'fuzz' },
  flow_or_deployment_name: { like_: 'fuzz' },
  paused: { eq_: false },
  tags: { operator: 'and_', all_: ['nightly'], any_: ['nightly'], is_null_: false },
  work_queue_name: { any_: ['default'] },
  concurrency_limit: { ge_: 0, le_: 10, is_null_: false },
});

const runFilters = (w: World) => ({ flow_runs: flowRunFilter(w), task_runs: taskRunFilter(w), flows: flowFilter(w), deployments: deploymentFilter(w) });

const state = (type = 'RUNNING') => ({
  type,
  name: 'Running',
  message: 'fuzzed',
  data: { x: 1 },
  state_details: { scheduled_time: ISO, cache_key: 'c', pause_timeout: ISO2, deferred: false, run_input_keyset: { a: 'b' }, retriable: true, transition_id: UUID_EXAMPLE },
});

const flowRunPolicy = { max_retries: 0, retry_delay_seconds: 0, retries: 2, retry_delay: 5, pause_keys: ['k'], resuming: false };

export const ROUTES: Record<string, Route[]> = {
  artifacts: [
    {
      method: 'POST',
      path: ['artifacts', ''],
      body: (w) => ({
        key: 'fuzz-report',
        type: 'markdown',
        description: 'fuzzed',
        data: { rows: [1, 2.5, 'x', null, true], nested: { a: [] } },
        metadata_: { owner: 'fuzz', long: 'x'.repeat(10) },
        flow_run_id: w.flowRunId,
        task_run_id: w.taskRunId,
      }),
    },
    { method: 'GET', path: ['artifacts', { real: 'artifact' }] },
    { method: 'GET', path: ['artifacts', { key: true }, 'latest'] },
    { method: 'POST', path: ['artifacts', 'filter'], body: (w) => ({ sort: 'KEY_ASC', limit: 10, offset: 0, artifacts: artifactFilter(w), ...runFilters(w) }) },
    { method: 'POST', path: ['artifacts', 'latest', 'filter'], body: (w) => ({ sort: 'UPDATED_DESC', limit: 5, offset: 1, artifacts: artifactFilter(w, true), ...runFilters(w) }) },
    { method: 'POST', path: ['artifacts', 'count'], body: (w) => ({ artifacts: artifactFilter(w), ...runFilters(w) }) },
    { method: 'POST', path: ['artifacts', 'latest', 'count'], body: (w) => ({ artifacts: artifactFilter(w, true), ...runFilters(w) }) },
    { method: 'PATCH', path: ['artifacts', { real: 'artifact' }], body: () => ({ data: [1, { a: 'b' }], description: 'patched', metadata_: { k: 'v' } }) },
    { method: 'DELETE', path: ['artifacts', { real: 'artifact' }] },
  ],
  flows: [
    { method: 'POST', path: ['flows', ''], body: () => ({ name: 'fuzz-flow-2', tags: ['a', 'b'], labels: { team: 'x' } }) },
    { method: 'GET', path: ['flows', { real: 'flow' }] },
    { method: 'GET', path: ['flows', 'name', { flowName: true }] },
    { method: 'POST', path: ['flows', 'filter'], body: (w) => ({ sort: 'NAME_DESC', limit: 10, offset: 0, ...runFilters(w), work_pools: null }) },
    { method: 'POST', path: ['flows', 'count'], body: (w) => ({ ...runFilters(w) }) },
    { method: 'PATCH', path: ['flows', { real: 'flow' }], body: () => ({ tags: ['x', 'y'] }) },
    { method: 'DELETE', path: ['flows', { real: 'flow' }] },
  ],
  flowRuns: [
    {
      method: 'POST',
      path: ['flow_runs', ''],
      body: (w) => ({
        flow_id: w.flowId,
        name: 'fuzz-run-2',
        flow_version: '1',
        state: state('SCHEDULED'),
        parameters: { x: 1 },
        context: { c: true },
        parent_task_run_id: w.taskRunId,
        infrastructure_document_id: null,
        empirical_policy: flowRunPolicy,
        tags: ['nightly'],
        idempotency_key: 'fuzz-idem-2',
        deployment_id: w.deploymentId,
        labels: { l: 'v' },
        work_pool_name: 'pool',
        work_queue_name: 'default',
        job_variables: { env: {} },
      }),
    },
    { method: 'GET', path: ['flow_runs', { real: 'flowRun' }] },
    { method: 'POST', path: ['flow_runs', 'filter'], body: (w) => ({ sort: 'START_TIME_DESC', limit: 10, offset: 0, ...runFilters(w), work_pools: null, work_pool_queues: null }) },
    { method: 'POST', path: ['flow_runs', 'count'], body: (w) => ({ ...runFilters(w) }) },
    { method: 'POST', path: ['flow_runs', { real: 'flowRun' }, 'set_state'], body: () => ({ state: state('COMPLETED'), force: true }) },
    {
      method: 'PATCH',
      path: ['flow_runs', { real: 'flowRun' }],
      body: () => ({ name: 'renamed', flow_version: '2', parameters: { y: [1] }, empirical_policy: flowRunPolicy, tags: ['t'], infrastructure_pid: 'pid', job_variables: { a: 1 } }),
    },
    { method: 'DELETE', path: ['flow_runs', { real: 'flowRun' }] },
  ],
  taskRuns: [
    {
      method: 'POST',
      path: ['task_runs', ''],
      body: (w) => ({
        flow_run_id: w.flowRunId,
        task_key: 'fuzz-task',
        dynamic_key: '1',
        name: 'fuzz-task-1',
        state: state('PENDING'),
        cache_key: 'ck',
        cache_expiration: ISO2,
        task_version: 'v',
        empirical_policy: { max_retries: 0, retry_delay_seconds: 0, retries: 1, retry_delay: [1, 2, 3], retry_jitter_factor: 0.5 },
        tags: ['t'],
        task_inputs: { x: [{ input_type: 'task_run', id: w.taskRunId }, { input_type: 'parameter', name: 'p' }, { input_type: 'constant', type: 'int' }] },
        labels: {},
      }),
    },
    { method: 'GET', path: ['task_runs', { real: 'taskRun' }] },
    { method: 'POST', path: ['task_runs', 'filter'], body: (w) => ({ sort: 'EXPECTED_START_TIME_DESC', limit: 10, offset: 0, ...runFilters(w) }) },
    { method: 'POST', path: ['task_runs', 'count'], body: (w) => ({ ...runFilters(w) }) },
    { method: 'DELETE', path: ['task_runs', { real: 'taskRun' }] },
  ],
  deployments: [
    {
      method: 'POST',
      path: ['deployments', ''],
      body: (w) => ({
        name: 'fuzz-deployment-2',
        flow_id: w.flowId,
        paused: false,
        schedules: [{ schedule: { interval: 3600 } }],
        concurrency_limit: 1,
        enforce_parameter_schema: true,
        parameter_openapi_schema: { type: 'object', properties: { x: { type: 'integer' }, s: { type: ['string', 'null'] } }, required: ['x'] },
        parameters: { x: 1 },
        tags: ['nightly'],
        pull_steps: [{ step: {} }],
        work_queue_name: 'default',
        storage_document_id: null,
        infrastructure_document_id: null,
        description: 'd',
        path: '.',
        version: '1',
        entrypoint: 'flow.py:main',
        job_variables: {},
      }),
    },
    { method: 'GET', path: ['deployments', { real: 'deployment' }] },
    { method: 'POST', path: ['deployments', 'filter'], body: (w) => ({ sort: 'CREATED_DESC', limit: 10, offset: 0, ...runFilters(w), work_pools: null, work_pool_queues: null }) },
    { method: 'POST', path: ['deployments', 'count'], body: (w) => ({ ...runFilters(w) }) },
    {
      method: 'POST',
      path: ['deployments', { real: 'deployment' }, 'create_flow_run'],
      body: (w) => ({
        name: 'from-deployment',
        state: state('SCHEDULED'),
        parameters: { x: 2 },
        enforce_parameter_schema: true,
        context: {},
        infrastructure_document_id: null,
        empirical_policy: flowRunPolicy,
        tags: ['extra'],
        idempotency_key: 'fuzz-idem-3',
        parent_task_run_id: w.taskRunId,
        work_queue_name: 'default',
        job_variables: {},
      }),
    },
    { method: 'DELETE', path: ['deployments', { real: 'deployment' }] },
  ],
  root: [
    { method: 'GET', path: ['health'] },
    { method: 'GET', path: ['version'] },
    { method: 'GET', path: ['ready'] },
    { method: 'GET', path: ['hello'] },
    { method: 'GET', path: ['admin', 'version'] },
    { method: 'GET', path: ['csrf-token'] },
  ],
};

export const ALL_ROUTES: Route[] = Object.values(ROUTES).flat();

// ── A whole request recipe ───────────────────────────────────────────────────────────────────

export type BodyRecipe =
  | { kind: 'valid'; keep: boolean[] }
  | { kind: 'mutated'; keep: boolean[]; mutations: Mutation[]; dups: DupKey[]; text: TextMutation[] }
  | { kind: 'json'; value: unknown; dups: DupKey[] }
  | { kind: 'odd'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'none' };

const dupKeys = (depthLimit: number) =>
  fc.array(fc.record({ at: fc.nat(), nameIndex: fc.nat(), value: nastyValue(depthLimit), before: fc.boolean() }), { maxLength: 2 });

export const bodyRecipe = (depthLimit: number): fc.Arbitrary<BodyRecipe> =>
  fc.oneof(
    // The valid body, whole (creates and patches real rows) or with a random subset of keys.
    { arbitrary: fc.record({ kind: fc.constant('valid' as const), keep: fc.constant([] as boolean[]) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('valid' as const), keep: fc.array(fc.boolean(), { maxLength: 24 }) }), weight: 1 },
    // Same-type leaf replacements: mostly still valid, so adversarial content reaches the store.
    {
      arbitrary: fc.record({
        kind: fc.constant('mutated' as const),
        keep: fc.constant([] as boolean[]),
        mutations: fc.array(fc.oneof({ arbitrary: sameType, weight: 3 }, { arbitrary: blank, weight: 1 }), { minLength: 1, maxLength: 3 }),
        dups: fc.oneof({ arbitrary: fc.constant([] as DupKey[]), weight: 4 }, { arbitrary: dupKeys(depthLimit), weight: 1 }),
        text: fc.constant([] as TextMutation[]),
      }),
      weight: 8,
    },
    // Anything goes: wrong types, unknown keys at any depth, deletions, duplicate keys, corrupted text.
    {
      arbitrary: fc.record({
        kind: fc.constant('mutated' as const),
        keep: fc.oneof(fc.constant([] as boolean[]), fc.array(fc.boolean(), { maxLength: 24 })),
        mutations: fc.array(mutation(depthLimit), { minLength: 1, maxLength: 4 }),
        dups: dupKeys(depthLimit),
        text: fc.oneof({ arbitrary: fc.constant([] as TextMutation[]), weight: 5 }, { arbitrary: fc.array(textMutation, { minLength: 1, maxLength: 2 }), weight: 1 }),
      }),
      weight: 8,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('json' as const),
        value: fc.oneof(nastyValue(depthLimit), fc.jsonValue({ maxDepth: 4 })),
        dups: dupKeys(depthLimit),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ kind: fc.constant('odd' as const), text: fc.constantFrom(...ODD_TEXTS) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.oneof(fc.constantFrom(...INVALID_UTF8_BODIES), fc.uint8Array({ maxLength: 48 })) }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  );

export interface RequestRecipe {
  route: number;
  method: { useRoute: true } | { useRoute: false; method: string };
  slots: SlotFill[];
  pick: number;
  tweak: PathTweak;
  extraSegment: string | Big;
  query: string;
  headers: [string, string][];
  body: BodyRecipe;
}

/**
 * A request recipe over `routes`. Shrinking is capped (fc.limitShrink) so a failure found on a
 * big input is reported in seconds, not minutes; `queryWeight` raises how often a random query
 * string is appended (out of 5).
 */
export const requestRecipe = (routes: Route[], depthLimit: number, { queryWeight = 1 } = {}): fc.Arbitrary<RequestRecipe> =>
  fc.limitShrink(recipeOf(routes, depthLimit, queryWeight), 400);

const recipeOf = (routes: Route[], depthLimit: number, queryWeight: number): fc.Arbitrary<RequestRecipe> =>
  fc.record({
    route: fc.nat({ max: routes.length - 1 }),
    method: fc.oneof(
      { arbitrary: fc.constant({ useRoute: true as const }), weight: 12 },
      { arbitrary: fc.constantFrom(...METHODS).map((method) => ({ useRoute: false as const, method })), weight: 2 },
    ),
    slots: fc.array(slotFill, { minLength: 2, maxLength: 2 }),
    pick: fc.nat(),
    tweak: pathTweak,
    extraSegment: segment,
    query: fc.oneof({ arbitrary: fc.constant(''), weight: Math.max(0, 5 - queryWeight) }, { arbitrary: queryString, weight: queryWeight }),
    headers: fc.oneof(
      { arbitrary: fc.constant([['content-type', 'application/json']] as [string, string][]), weight: 3 },
      { arbitrary: headerSet, weight: 2 },
    ),
    body: bodyRecipe(depthLimit),
  });

/** Turns a recipe into a request against the current world. */
export function buildRequest(recipe: RequestRecipe, routes: Route[], world: World): FuzzRequest {
  const route = routes[recipe.route % routes.length];
  let slotIndex = 0;
  const segments = route.path.map((p) => (typeof p === 'string' ? p : fillSlot(p, recipe.slots[slotIndex++ % recipe.slots.length], world, recipe.pick)));
  const path = tweakPath(`/api/${segments.join('/')}`, recipe.tweak, str(recipe.extraSegment)) + recipe.query;
  const method = recipe.method.useRoute ? route.method : recipe.method.method;
  return { method, path, headers: recipe.headers, body: buildBody(recipe.body, route, world) };
}

export function buildBody(recipe: BodyRecipe, route: Route, world: World): string | Uint8Array | undefined {
  const valid = () => (route.body ? structuredClone(route.body(world)) : {});
  switch (recipe.kind) {
    case 'none':
      return undefined;
    case 'valid':
      return route.body ? serialize(prune(valid(), recipe.keep)) : undefined;
    case 'mutated': {
      const tree = mutate(prune(valid(), recipe.keep), recipe.mutations, world);
      const text = tree === undefined ? '' : serialize(tree, recipe.dups);
      return recipe.text.length > 0 ? mutateText(text, recipe.text) : text;
    }
    case 'json':
      return serialize(recipe.value, recipe.dups);
    case 'odd':
      return recipe.text;
    case 'bytes':
      return recipe.bytes;
  }
}
