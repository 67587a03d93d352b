/**
 * An EventQuery compiled into SQL over `event e` — the meaning `eventMatches` (src/filters/
 * events.ts) gives it — and its order and keyset cursor (`isAfter`).
 *
 * - Names and resource ids are compared as stored (text.ts's escape applied to the values), so a
 *   prefix is a range of the C-collated column (`prefixRange`): an index range, with no LIKE
 *   pattern whose `%` and `_` would need escaping, and no plan that depends on a parameter's text.
 * - `any_resource` and `related` are semi-joins on `event_resource` (schema-logs-events.ts): some
 *   one resource row meets every part given (id and prefix; id and role), bounded by the query's
 *   time range so the planner can drive the query from the (resource_id, occurred) index.
 * - An empty list of ids, names or prefixes matches nothing, an empty exclusion list excludes
 *   nothing; an empty prefix matches every name.
 *
 * Every value is a parameter (params.ts).
 */
import type { EventCursor, EventQuery } from '../contract.ts';
import type { Params } from './params.ts';
import { combineSql } from './run-filters.ts';
import { toPgText } from './text.ts';

const TRUE = 'TRUE';
const FALSE = 'FALSE';

/**
 * The least string greater than every string that starts with `prefix`, in code point order
 * (= UTF-8 byte order, the C collation's): the prefix with its last code point incremented
 * (surrogates skipped, a maximal one dropped); null when there is none (every code point maximal).
 */
export function prefixEnd(prefix: string): string | null {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

/** `column` starts with `prefix` (stored text): a range; the empty prefix is TRUE. */
function prefixRange(p: Params, column: string, raw: string): string {
  const prefix = toPgText(raw);
  if (prefix === '') return TRUE;
  const end = prefixEnd(prefix);
  return end === null ? `${column} >= ${p.add(prefix)}::text` : `(${column} >= ${p.add(prefix)}::text AND ${column} < ${p.add(end)}::text)`;
}

/** `column` starts with one of `prefixes` (none: FALSE). */
const startsWithOne = (p: Params, column: string, prefixes: readonly string[]): string =>
  prefixes.length === 0 ? FALSE : combineSql(prefixes.map((prefix) => prefixRange(p, column, prefix)), 'or_');

/** `column` is one of `values`, compared as stored (none: FALSE; one: `=`, which an index reads in order). */
function oneOf(p: Params, column: string, values: readonly string[]): string {
  if (values.length === 0) return FALSE;
  if (values.length === 1) return `${column} = ${p.add(toPgText(values[0]))}::text`;
  return `${column} = ANY(${p.add(values.map((v) => toPgText(v)))}::text[])`;
}

/** `NOT cond` for a condition over NOT NULL columns (TRUE and FALSE folded). */
const not = (cond: string): string => (cond === TRUE ? FALSE : cond === FALSE ? TRUE : `NOT (${cond})`);

/** Id and prefix lists on one resource id column (both when both are given). */
function resourceCondition(p: Params, column: string, ids: readonly string[] | undefined, prefixes: readonly string[] | undefined): string {
  const parts: string[] = [];
  if (ids !== undefined) parts.push(oneOf(p, column, ids));
  if (prefixes !== undefined) parts.push(startsWithOne(p, column, prefixes));
  return combineSql(parts);
}

/** `e.id` is an event with a row of `event_resource r` meeting `rowCondition`, within the query's time range. */
function someResource(p: Params, q: EventQuery, rowCondition: string): string {
  if (rowCondition === FALSE) return FALSE;
  const range = `r.occurred >= ${p.add(String(q.since))}::bigint AND r.occurred <= ${p.add(String(q.until))}::bigint`;
  return `e.id IN (SELECT r.event_id FROM event_resource r WHERE ${rowCondition === TRUE ? range : `${rowCondition} AND ${range}`})`;
}

/** The condition an `event e` row must meet to match `q`. */
export function eventCondition(q: EventQuery, p: Params): string {
  const parts: string[] = [`e.occurred >= ${p.add(String(q.since))}::bigint`, `e.occurred <= ${p.add(String(q.until))}::bigint`];
  if (q.ids !== undefined) parts.push(q.ids.length === 0 ? FALSE : `e.id = ANY(${p.add([...q.ids])}::text[])`);
  if (q.prefixes !== undefined) parts.push(startsWithOne(p, 'e.event', q.prefixes));
  if (q.excludePrefixes !== undefined && q.excludePrefixes.length > 0) parts.push(not(startsWithOne(p, 'e.event', q.excludePrefixes)));
  if (q.names !== undefined) parts.push(oneOf(p, 'e.event', q.names));
  if (q.excludeNames !== undefined && q.excludeNames.length > 0) parts.push(not(oneOf(p, 'e.event', q.excludeNames)));
  parts.push(resourceCondition(p, 'e.resource_id', q.resourceIds, q.resourceIdPrefixes));
  if (q.anyResourceIds !== undefined || q.anyResourceIdPrefixes !== undefined) {
    parts.push(someResource(p, q, resourceCondition(p, 'r.resource_id', q.anyResourceIds, q.anyResourceIdPrefixes)));
  }
  if (q.relatedIds !== undefined || q.relatedRoles !== undefined) {
    const row = combineSql(['r.ordinal > 0', resourceCondition(p, 'r.resource_id', q.relatedIds, undefined), q.relatedRoles === undefined ? TRUE : oneOf(p, 'r.role', q.relatedRoles)]);
    parts.push(someResource(p, q, row));
  }
  return combineSql(parts);
}

/** True when `q` constrains nothing but the time range (its count may come from the row counter). */
export const isTimeRangeOnly = (q: EventQuery): boolean =>
  q.ids === undefined &&
  q.prefixes === undefined &&
  q.excludePrefixes === undefined &&
  q.names === undefined &&
  q.excludeNames === undefined &&
  q.resourceIds === undefined &&
  q.resourceIdPrefixes === undefined &&
  q.anyResourceIds === undefined &&
  q.anyResourceIdPrefixes === undefined &&
  q.relatedIds === undefined &&
  q.relatedRoles === undefined;

/**
 * The count of a time range alone ($1 since, $2 until): the row counter (schema-counters.ts) when
 * no stored event lies outside the range — two index probes at its ends — else the events in it
 * counted. One statement, one snapshot; the branch not taken is never evaluated.
 */
export const TIME_RANGE_COUNT = `
SELECT (CASE
  WHEN NOT EXISTS (SELECT 1 FROM event WHERE occurred < $1::bigint) AND NOT EXISTS (SELECT 1 FROM event WHERE occurred > $2::bigint)
  THEN (SELECT COALESCE(sum(n), 0) FROM artifactd_counter WHERE name = 'event')
  ELSE (SELECT count(*) FROM event WHERE occurred >= $1::bigint AND occurred <= $2::bigint)
END)::text AS n`;

/** The query's order: by occurred, ties by id, both in its direction. */
export const eventOrderBy = (q: EventQuery): string => (q.order === 'ASC' ? 'e.occurred ASC, e.id ASC' : 'e.occurred DESC, e.id DESC');

/** The events after `cursor` in the query's order (a row comparison the (occurred, id) index serves). */
export const afterCursor = (q: EventQuery, cursor: EventCursor, p: Params): string =>
  `(e.occurred, e.id) ${q.order === 'ASC' ? '>' : '<'} (${p.add(String(cursor.occurred))}::bigint, ${p.add(cursor.id)}::text)`;
