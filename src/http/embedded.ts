/**
 * Embedded bodies (`shared/spec/artifacts-api.md` §1, §7): the filter and count routes take an
 * object whose top-level keys are parameters. Absent and `null` both mean "default"; an absent,
 * empty or `null` body is `{}`; unknown top-level keys are ignored. `limit` is checked first and
 * on its own, as Prefect's limit dependency does: out of range, it alone is reported.
 */
import type { TSchema } from '@sinclair/typebox';
import { validate, isPlainObject, type ValidationIssue } from '../validation/validate.ts';
import type { JsonBody } from './body.ts';
import { detail, validationFailed } from './errors.ts';

export interface EmbeddedParam {
  name: string;
  schema: TSchema;
  /** FastAPI's `Body(...)`: absent or `null` is a 422 `missing` instead of the default. */
  required?: boolean;
  /** Constraints the schema validator does not enforce (`gt`, `le`, `min_items`), on a valid value. */
  refine?: (value: unknown, loc: (string | number)[]) => ValidationIssue[];
}

const LimitSchema = { type: 'integer' } as const;

/**
 * Validates the parameters present in the body and returns them by name (absent → undefined).
 * With `limit` given, also returns the effective limit within [0, maxLimit].
 */
export function readEmbeddedBody(
  body: JsonBody,
  params: EmbeddedParam[],
  limit?: { max: number },
): { values: Record<string, unknown>; limit: number } {
  const raw = body.value === undefined || body.value === null ? {} : body.value;
  const names = [...(limit ? ['limit'] : []), ...params.map((p) => p.name)];
  if (!isPlainObject(raw)) {
    const missing = names.map((name) => ({ type: 'missing', loc: ['body', name], msg: 'Field required', input: null }));
    throw validationFailed(missing, body.value);
  }
  const issues: ValidationIssue[] = [];
  let effectiveLimit = limit?.max ?? 0;
  if (limit && raw.limit != null) {
    const checked = validate(LimitSchema, raw.limit, ['body', 'limit']);
    if (checked.issues.length > 0) issues.push(...checked.issues);
    else {
      const n = checked.value as number;
      if (n > limit.max) throw detail(422, `Invalid limit: must be less than or equal to ${limit.max}.`);
      if (n < 0) throw detail(422, 'Invalid limit: must be greater than or equal to 0.');
      effectiveLimit = n;
    }
  }
  const values: Record<string, unknown> = {};
  for (const { name, schema, required, refine } of params) {
    if (raw[name] == null) {
      if (required) issues.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: null });
      continue;
    }
    const checked = validate(schema, raw[name], ['body', name]);
    issues.push(...checked.issues);
    if (refine && checked.issues.length === 0) issues.push(...refine(checked.value, ['body', name]));
    values[name] = checked.value;
  }
  if (issues.length > 0) throw validationFailed(issues, body.value);
  return { values, limit: effectiveLimit };
}
