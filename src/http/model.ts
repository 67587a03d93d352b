/**
 * Reading a single-model body (create, update) and UUID path parameters, with Prefect's 422s.
 */
import { validate, type ValidationIssue } from '../validation/validate.ts';
import type { JsonBody } from './body.ts';
import { validationFailed } from './errors.ts';

const missingBody = (): ValidationIssue => ({ type: 'missing', loc: ['body'], msg: 'Field required', input: null });

/**
 * A single-model body: required (absent, empty or `null` is a 422 `missing`), and must satisfy
 * the model. Path issues found earlier are reported in the same 422, as FastAPI does.
 */
export function readModel<T>(body: JsonBody, schema: object, pathIssues: ValidationIssue[] = []): T {
  const present = body.present && body.value !== null;
  const checked = present ? validate(schema, body.value, ['body']) : { value: undefined, issues: [missingBody()] };
  const issues = [...pathIssues, ...checked.issues];
  if (issues.length > 0) throw validationFailed(issues, body.value ?? null);
  return checked.value as T;
}

const UUID_SCHEMA = { type: 'string', format: 'uuid' };

/** A UUID path parameter: the canonical id, or the issues (a 422 at `["path", name]`, as 3.0.0). */
export function pathId(raw: string, name: string): { id?: string; issues: ValidationIssue[] } {
  const { value, issues } = validate(UUID_SCHEMA, raw, ['path', name]);
  return { id: value as string | undefined, issues };
}

/** A UUID path parameter on a route without a body: throws the 422 at once. */
export function requirePathId(raw: string, name = 'id'): string {
  const { id, issues } = pathId(raw, name);
  if (issues.length > 0) throw validationFailed(issues, null);
  return id!;
}
