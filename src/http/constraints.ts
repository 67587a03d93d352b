/**
 * Pydantic's field constraints that the schema validator leaves to the route (`gt`, `ge`, `le`,
 * `min_length` on lists), as `refine` hooks of embedded body parameters (embedded.ts), with
 * Pydantic v2's error types, messages and contexts.
 */
import type { Loc, ValidationIssue } from '../validation/validate.ts';

export type Refine = (value: unknown, loc: Loc) => ValidationIssue[];

export const greaterThan =
  (gt: number): Refine =>
  (value, loc) =>
    typeof value === 'number' && !(value > gt) ? [{ type: 'greater_than', loc, msg: `Input should be greater than ${gt}`, input: value, ctx: { gt } }] : [];

export const atLeast =
  (ge: number): Refine =>
  (value, loc) =>
    typeof value === 'number' && !(value >= ge)
      ? [{ type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${ge}`, input: value, ctx: { ge } }]
      : [];

export const atMost =
  (le: number): Refine =>
  (value, loc) =>
    typeof value === 'number' && !(value <= le) ? [{ type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${le}`, input: value, ctx: { le } }] : [];

export const minItems =
  (min: number): Refine =>
  (value, loc) =>
    Array.isArray(value) && value.length < min
      ? [
          {
            type: 'too_short',
            loc,
            msg: `List should have at least ${min} item${min === 1 ? '' : 's'} after validation, not ${value.length}`,
            input: value,
            ctx: { field_type: 'List', min_length: min, actual_length: value.length },
          },
        ]
      : [];

/** Several constraints; the first that fails is reported, as Pydantic stops at a field's first. */
export const all =
  (...refines: Refine[]): Refine =>
  (value, loc) => {
    for (const refine of refines) {
      const issues = refine(value, loc);
      if (issues.length > 0) return issues;
    }
    return [];
  };
