/**
 * Validates JSON values against the TypeBox schemas in `src/schemas/` the way Pydantic v2 (lax
 * mode) validates Prefect's models, and reports failures with Pydantic's error `type`, `loc` and
 * `msg`, so a 422 from artifactd reads like one from Prefect. Returns the value with coercions
 * applied: lax integers and booleans, canonical UUIDs. Absent keys stay absent (not defaulted),
 * because some filters treat "absent" and "null" differently.
 */
import { parseDateTime } from './datetime.ts';
import { parseUuid } from './uuid.ts';
import { CHECKS } from './checks.ts';

export type Loc = (string | number)[];

export interface ValidationIssue {
  type: string;
  loc: Loc;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

type Schema = Record<string, any>;

export function validate(schema: Schema, value: unknown, loc: Loc): { value: unknown; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const out = check(schema, value, loc, issues);
  return { value: out, issues };
}

function check(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  const before = issues.length;
  const out = checkShape(schema, value, loc, issues);
  const rule = schema['x-check'];
  if (rule && issues.length === before && out !== null && out !== undefined) {
    const problem = CHECKS[rule as string](out);
    if (problem) {
      issues.push({ type: 'value_error', loc, msg: `Value error, ${problem}`, input: value, ctx: { error: {} } });
      return undefined;
    }
  }
  return out;
}

function checkShape(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (schema.anyOf) return checkUnion(schema.anyOf, value, loc, issues);
  if (schema.enum) return checkEnum(schema.enum, value, loc, issues);
  switch (schema.type) {
    case 'object':
      return schema.properties
        ? checkModel(schema, value, loc, issues)
        : checkDict(schema, value, loc, issues);
    case 'array':
      return checkList(schema, value, loc, issues);
    case 'string':
      return checkString(schema, value, loc, issues);
    case 'integer':
      return checkInteger(schema, value, loc, issues);
    case 'number':
      return checkNumber(value, loc, issues);
    case 'boolean':
      return checkBoolean(value, loc, issues);
    case 'null':
      if (value !== null) issues.push({ type: 'none_required', loc, msg: 'Input should be None', input: value });
      return null;
    default:
      return value; // `{}` and AnyJson branches: any JSON value
  }
}

function checkUnion(branches: Schema[], value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  const nonNull = branches.filter((b) => b.type !== 'null');
  if (value === null && nonNull.length < branches.length) return null;
  if (nonNull.some((b) => Object.keys(b).length === 0)) return value;
  if (nonNull.length === 1) return check(nonNull[0], value, loc, issues);
  let first: ValidationIssue[] | undefined;
  for (const branch of nonNull) {
    const attempt: ValidationIssue[] = [];
    const out = check(branch, value, loc, attempt);
    if (attempt.length === 0) return out;
    first ??= attempt;
  }
  issues.push(...(first ?? []));
  return undefined;
}

function checkEnum(values: string[], value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (typeof value === 'string' && values.includes(value)) return value;
  const quoted = values.map((v) => `'${v}'`);
  const expected = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : quoted[0];
  issues.push({ type: 'enum', loc, msg: `Input should be ${expected}`, input: value, ctx: { expected } });
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkModel(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (!isPlainObject(value)) {
    const name = schema.title ?? 'Model';
    issues.push({
      type: 'model_type',
      loc,
      msg: `Input should be a valid dictionary or instance of ${name}`,
      input: value,
      ctx: { class_name: name },
    });
    return undefined;
  }
  const out: Record<string, unknown> = {};
  const required: string[] = schema.required ?? [];
  for (const [name, propSchema] of Object.entries(schema.properties as Record<string, Schema>)) {
    if (!Object.hasOwn(value, name)) {
      if (required.includes(name)) issues.push({ type: 'missing', loc: [...loc, name], msg: 'Field required', input: value });
      continue;
    }
    out[name] = check(propSchema, value[name], [...loc, name], issues);
  }
  if (schema.additionalProperties === false) {
    for (const name of Object.keys(value)) {
      if (!Object.hasOwn(schema.properties, name)) {
        issues.push({ type: 'extra_forbidden', loc: [...loc, name], msg: 'Extra inputs are not permitted', input: value[name] });
      }
    }
  }
  return out;
}

function checkDict(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (!isPlainObject(value)) {
    issues.push({ type: 'dict_type', loc, msg: 'Input should be a valid dictionary', input: value });
    return undefined;
  }
  const valueSchema: Schema | undefined = schema.patternProperties
    ? Object.values(schema.patternProperties)[0]
    : typeof schema.additionalProperties === 'object'
      ? schema.additionalProperties
      : undefined;
  if (!valueSchema) return value;
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) out[name.toWellFormed()] = check(valueSchema, item, [...loc, name], issues);
  return out;
}

function checkList(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (!Array.isArray(value)) {
    issues.push({ type: 'list_type', loc, msg: 'Input should be a valid list', input: value });
    return undefined;
  }
  return value.map((item, i) => check(schema.items ?? {}, item, [...loc, i], issues));
}

const patterns = new Map<string, RegExp>();
const patternOf = (source: string) => {
  let re = patterns.get(source);
  if (!re) patterns.set(source, (re = new RegExp(source, 'u')));
  return re;
};

function checkString(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (schema.format === 'uuid') {
    if (typeof value !== 'string') {
      issues.push({ type: 'uuid_type', loc, msg: 'UUID input should be a string, bytes or UUID object', input: value });
      return undefined;
    }
    const parsed = parseUuid(value);
    if (parsed.ok) return parsed.value;
    issues.push({
      type: 'uuid_parsing',
      loc,
      msg: `Input should be a valid UUID, ${parsed.error}`,
      input: value,
      ctx: { error: parsed.error },
    });
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({ type: 'string_type', loc, msg: 'Input should be a valid string', input: value });
    return undefined;
  }
  // A lone surrogate cannot be stored as UTF-8: it becomes U+FFFD here, once, so that a record
  // and its index entries always hold the same string.
  const text = value.toWellFormed();
  if (schema.format === 'date-time' && parseDateTime(text) === undefined) {
    issues.push({ type: 'value_error', loc, msg: `Value error, Unable to parse string [${text}]`, input: text, ctx: { error: {} } });
    return undefined;
  }
  if (typeof schema.maxLength === 'number' && text.length > schema.maxLength) {
    issues.push({
      type: 'string_too_long',
      loc,
      msg: `String should have at most ${schema.maxLength} characters`,
      input: text,
      ctx: { max_length: schema.maxLength },
    });
    return undefined;
  }
  if (schema.pattern && !patternOf(schema.pattern).test(text)) {
    issues.push({
      type: 'string_pattern_mismatch',
      loc,
      msg: `String should match pattern '${schema.pattern}'`,
      input: text,
      ctx: { pattern: schema.pattern },
    });
    return undefined;
  }
  return text;
}

const INT_STRING = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

function checkInteger(schema: Schema, value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  let n: number | undefined;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) n = value;
    else if (Number.isFinite(value)) {
      issues.push({ type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input: value });
      return undefined;
    }
  } else if (typeof value === 'boolean') {
    n = value ? 1 : 0;
  } else if (typeof value === 'string') {
    if (!INT_STRING.test(value)) {
      issues.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: value });
      return undefined;
    }
    n = Number(value.replaceAll('_', '').trim());
  }
  if (n === undefined) {
    issues.push({ type: 'int_type', loc, msg: 'Input should be a valid integer', input: value });
    return undefined;
  }
  if (typeof schema.minimum === 'number' && n < schema.minimum) {
    issues.push({
      type: 'greater_than_equal',
      loc,
      msg: `Input should be greater than or equal to ${schema.minimum}`,
      input: value,
      ctx: { ge: schema.minimum },
    });
    return undefined;
  }
  return n;
}

const FLOAT_STRING = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

function checkNumber(value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && FLOAT_STRING.test(value)) return Number(value);
  const parsing = typeof value === 'string';
  issues.push({
    type: parsing ? 'float_parsing' : 'float_type',
    loc,
    msg: parsing ? 'Input should be a valid number, unable to parse string as a number' : 'Input should be a valid number',
    input: value,
  });
  return undefined;
}

const TRUE_STRINGS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_STRINGS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

function checkBoolean(value: unknown, loc: Loc, issues: ValidationIssue[]): unknown {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (TRUE_STRINGS.has(s)) return true;
    if (FALSE_STRINGS.has(s)) return false;
    issues.push({ type: 'bool_parsing', loc, msg: 'Input should be a valid boolean, unable to interpret input', input: value });
    return undefined;
  }
  issues.push({ type: 'bool_type', loc, msg: 'Input should be a valid boolean', input: value });
  return undefined;
}
