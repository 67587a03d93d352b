/**
 * `ArtifactFilter` and `ArtifactCollectionFilter` compiled into SQL conditions, and the five sorts
 * into ORDER BY clauses — the same semantics as the LMDB side's predicates (src/filters/
 * artifacts.ts, leaf.ts) and orders (lmdb/query/order.ts), `shared/spec/filters.md` §1–3:
 *
 * - each present sub-object adds one condition (an empty one adds TRUE); the object's `operator`
 *   joins them (and_ by default); no condition at all is TRUE;
 * - NULL never matches a comparison; an empty `any_` matches nothing, an empty `not_any_`
 *   everything (NULLs included, as `noneOf([])` is `always`); `type.not_any_` drops NULL types;
 * - `key.like_` is ILIKE '%pattern%' with no escape character (`ESCAPE ''`) over a `COLLATE "C"`
 *   column: `%` and `_` are wildcards, and case folds in ASCII only (é and É stay different),
 *   as SQLite's LIKE and `asciiLower` do;
 * - a collection always has a key: `key.exists_` is TRUE or FALSE without a row.
 *
 * Every value goes into `params`; the text holds only placeholders and our own column names.
 * Conditions fold as `combine` does: TRUE and FALSE are the literals below, so a caller can see
 * that a filter matches nothing (`FALSE`) and answer without a query.
 */
import type { Sort } from '../../schemas/artifacts.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../schemas/filters.ts';
import type { Params } from './params.ts';

export const TRUE = 'TRUE';
export const FALSE = 'FALSE';

/** Joins conditions with AND or OR, folding TRUE and FALSE (none: TRUE). */
export function combineSql(conditions: string[], operator: 'and_' | 'or_' = 'and_'): string {
  if (conditions.length === 0) return TRUE;
  const [absorbing, neutral] = operator === 'or_' ? [TRUE, FALSE] : [FALSE, TRUE];
  if (conditions.includes(absorbing)) return absorbing;
  const live = conditions.filter((c) => c !== neutral);
  if (live.length === 0) return neutral;
  if (live.length === 1) return live[0];
  return `(${live.join(operator === 'or_' ? ' OR ' : ' AND ')})`;
}

/** `column` is one of `values` (never NULL; none: FALSE). */
export function anySql(column: string, values: readonly string[], params: Params): string {
  if (values.length === 0) return FALSE;
  if (values.length === 1) return `${column} = ${params.add(values[0])}`;
  return `${column} = ANY(${params.add([...values])}::text[])`;
}

/** `column` is set and none of `values` (none: TRUE, NULLs included). */
export function noneSql(column: string, values: readonly string[], params: Params): string {
  if (values.length === 0) return TRUE;
  if (values.length === 1) return `(${column} IS NOT NULL AND ${column} <> ${params.add(values[0])})`;
  return `(${column} IS NOT NULL AND NOT (${column} = ANY(${params.add([...values])}::text[])))`;
}

/** `like_`: an ASCII-case-insensitive substring match, `%` and `_` wildcards, no escape character. */
export function likeSql(column: string, pattern: string, params: Params): string {
  return `(${column} ILIKE ${params.add(`%${pattern}%`)} COLLATE "C" ESCAPE '')`;
}

type KeyFilter = { any_?: string[] | null; like_?: string | null; exists_?: boolean | null };
type TypeFilter = { any_?: string[] | null; not_any_?: string[] | null };
type IdsFilter = { any_?: string[] | null };

function keySql(f: KeyFilter, column: string, keyAlwaysSet: boolean, params: Params): string {
  const parts: string[] = [];
  if (f.any_ != null) parts.push(anySql(column, f.any_, params));
  if (f.like_ != null) parts.push(likeSql(column, f.like_, params));
  if (f.exists_ != null) parts.push(keyAlwaysSet ? (f.exists_ ? TRUE : FALSE) : `${column} ${f.exists_ ? 'IS NOT NULL' : 'IS NULL'}`);
  return combineSql(parts);
}

function typeSql(f: TypeFilter, column: string, params: Params): string {
  const parts: string[] = [];
  if (f.any_ != null) parts.push(anySql(column, f.any_, params));
  if (f.not_any_ != null) parts.push(noneSql(column, f.not_any_, params));
  return combineSql(parts);
}

function idsSql(f: IdsFilter, column: string, params: Params): string {
  return f.any_ != null ? anySql(column, f.any_, params) : TRUE;
}

const col = (alias: string, name: string) => (alias === '' ? name : `${alias}.${name}`);

function compile(
  filter: ArtifactFilter | ArtifactCollectionFilter,
  ids: { filter: IdsFilter | null | undefined; column: string; keyAlwaysSet: boolean },
  alias: string,
  params: Params,
): string {
  const parts: string[] = [];
  if (ids.filter != null) parts.push(idsSql(ids.filter, col(alias, ids.column), params));
  if (filter.key != null) parts.push(keySql(filter.key, col(alias, 'key'), ids.keyAlwaysSet, params));
  if (filter.flow_run_id != null) parts.push(idsSql(filter.flow_run_id, col(alias, 'flow_run_id'), params));
  if (filter.task_run_id != null) parts.push(idsSql(filter.task_run_id, col(alias, 'task_run_id'), params));
  if (filter.type != null) parts.push(typeSql(filter.type, col(alias, 'type'), params));
  return combineSql(parts, filter.operator ?? 'and_');
}

/** The condition an `artifact` row (aliased `alias`, or unqualified with '') must meet. */
export function artifactCondition(filter: ArtifactFilter | null | undefined, params: Params, alias = ''): string {
  return filter == null ? TRUE : compile(filter, { filter: filter.id, column: 'id', keyAlwaysSet: false }, alias, params);
}

/** The condition an `artifact_collection` row must meet (its mirrored fields are the latest version's). */
export function collectionCondition(filter: ArtifactCollectionFilter | null | undefined, params: Params, alias = ''): string {
  return filter == null ? TRUE : compile(filter, { filter: filter.latest_id, column: 'latest_id', keyAlwaysSet: true }, alias, params);
}

/**
 * The artifact orders of order.ts as ORDER BY: ties by created time, then id. KEY_ASC puts
 * keyless rows first and KEY_DESC last; both read `artifact_key_created_id` (one direction each).
 */
export function artifactOrderBy(sort: Sort, alias = ''): string {
  const c = (name: string) => col(alias, name);
  switch (sort) {
    case 'KEY_ASC':
      return `${c('key')} ASC NULLS FIRST, ${c('created')} ASC, ${c('id')} ASC`;
    case 'KEY_DESC':
      return `${c('key')} DESC NULLS LAST, ${c('created')} DESC, ${c('id')} DESC`;
    case 'CREATED_DESC':
      return `${c('created')} DESC, ${c('id')} DESC`;
    case 'UPDATED_DESC':
      return `${c('updated')} DESC, ${c('id')} DESC`;
    case 'ID_DESC':
      return `${c('id')} DESC`;
  }
  throw new Error(`unknown sort ${String(sort)}`);
}

/** The collection orders of order.ts: by key alone (unique), else as artifacts. */
export function collectionOrderBy(sort: Sort, alias = ''): string {
  const c = (name: string) => col(alias, name);
  switch (sort) {
    case 'KEY_ASC':
      return `${c('key')} ASC`;
    case 'KEY_DESC':
      return `${c('key')} DESC`;
    default:
      return artifactOrderBy(sort, alias);
  }
}
