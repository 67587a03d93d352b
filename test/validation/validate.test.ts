import { describe, expect, test } from 'bun:test';
import { t } from '../../src/schemas/common.ts';
import { ArtifactCreate } from '../../src/schemas/artifacts.ts';
import { ArtifactFilter, TaskRunFilterFlowRunId } from '../../src/schemas/filters.ts';
import { parseDateTime } from '../../src/validation/datetime.ts';
import { parseUuid } from '../../src/validation/uuid.ts';
import { validate } from '../../src/validation/validate.ts';

const U = '6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12';

describe('parseUuid', () => {
  test('accepts Pydantic forms and returns the canonical one', () => {
    for (const input of [U, U.toUpperCase(), U.replaceAll('-', ''), `{${U}}`, `urn:uuid:${U}`]) {
      expect(parseUuid(input)).toEqual({ ok: true, value: U });
    }
  });
  test('rejects with the uuid crate wording', () => {
    expect(parseUuid('not-a-uuid')).toEqual({ ok: false, error: 'invalid character: found `n` at 1' });
    expect(parseUuid(`urn:uuid:${U.replaceAll('-', '')}`).ok).toBe(false);
    expect(parseUuid('abc').ok).toBe(false);
    expect(parseUuid(U.slice(0, 35)).ok).toBe(false);
    expect(parseUuid('').ok).toBe(false);
  });
});

describe('parseDateTime', () => {
  test('reads offsets as instants and offset-less values as UTC', () => {
    const utc = parseDateTime('2024-09-05T12:00:00Z');
    expect(utc).toBe(Date.UTC(2024, 8, 5, 12) * 1000);
    expect(parseDateTime('2024-09-05T12:00:00')).toBe(utc!);
    expect(parseDateTime('2024-09-05T14:00:00+02:00')).toBe(utc!);
    expect(parseDateTime('2024-09-05T12:00:00.123456789Z')).toBe(utc! + 123456);
    expect(parseDateTime('2024-09-05')).toBe(Date.UTC(2024, 8, 5) * 1000);
  });
  test('rejects garbage and impossible dates', () => {
    expect(parseDateTime('garbage')).toBeUndefined();
    expect(parseDateTime('2024-02-30T00:00:00Z')).toBeUndefined();
    expect(parseDateTime('2024-09-05T25:00:00Z')).toBeUndefined();
  });
});

describe('validate', () => {
  test('extra keys are rejected after the declared fields, each at its own loc', () => {
    const { issues } = validate(ArtifactCreate, { key: 5, colour: 'teal' }, ['body']);
    expect(issues.map((i) => [i.type, i.loc])).toEqual([
      ['string_type', ['body', 'key']],
      ['extra_forbidden', ['body', 'colour']],
    ]);
  });
  test('nested filter errors carry the full path', () => {
    const { issues } = validate(ArtifactFilter, { key: { any_: ['a', null], operator: 'and_' } }, ['body', 'artifacts']);
    expect(issues.map((i) => i.loc)).toEqual([
      ['body', 'artifacts', 'key', 'any_', 1],
      ['body', 'artifacts', 'key', 'operator'],
    ]);
  });
  test('lax integers and booleans, strict strings', () => {
    const schema = t.Object({ n: t.Integer({ minimum: 0 }), b: t.Boolean(), s: t.String() });
    expect(validate(schema, { n: '10', b: 'yes', s: 'x' }, []).value).toEqual({ n: 10, b: true, s: 'x' });
    expect(validate(schema, { n: 10.0, b: 0, s: 'x' }, []).value).toEqual({ n: 10, b: false, s: 'x' });
    const bad = validate(schema, { n: 10.5, b: 'maybe', s: 1 }, []).issues.map((i) => i.type);
    expect(bad).toEqual(['int_from_float', 'bool_parsing', 'string_type']);
    expect(validate(schema, { n: -1, b: true, s: '' }, []).issues[0]).toMatchObject({
      type: 'greater_than_equal',
      ctx: { ge: 0 },
    });
  });
  test('absent stays absent and explicit null stays null (TaskRunFilterFlowRunId depends on it)', () => {
    expect(validate(TaskRunFilterFlowRunId, {}, []).value).toEqual({});
    expect(validate(TaskRunFilterFlowRunId, { is_null_: null }, []).value).toEqual({ is_null_: null });
  });
  test('UUIDs come out canonical', () => {
    expect(validate(ArtifactFilter, { id: { any_: [U.toUpperCase()] } }, []).value).toEqual({ id: { any_: [U] } });
  });
  test('artifact keys follow Python re.match: one trailing newline is allowed', () => {
    const key = (k: unknown) => validate(ArtifactCreate, { key: k }, ['body']).issues.map((i) => i.type);
    expect(key('')).toEqual([]);
    expect(key('report\n')).toEqual([]);
    expect(key('report\n\n')).toEqual(['value_error']);
    expect(key('Report')).toEqual(['value_error']);
    expect(key('a_b')).toEqual(['value_error']);
  });
});
