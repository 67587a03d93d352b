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
import { toPgText } from './text.ts';

export const TRUE = 'TRUE';
export const FALSE = 'FALSE';

/**
 * A condition before rendering: TRUE, FALSE, or SQL that adds its values to `params` when
 * rendered. Parts that folding drops are never rendered, so they leave no unused parameter
 * (PostgreSQL cannot type a placeholder the text does not use).
 */
export type Cond = typeof TRUE | typeof FALSE | { sql: (params: Params) => string };

/** Joins conditions with AND or OR, folding TRUE and FALSE (none: TRUE), as leaf.ts `combine`. */
function combineConds(conditions: Cond[], operator: 'and_' | 'or_' = 'and_'): Cond {
  if (conditions.length === 0) return TRUE;
  const [absorbing, neutral]: [Cond, Cond] = operator === 'or_' ? [TRUE, FALSE] : [FALSE, TRUE];
  if (conditions.includes(absorbing)) return absorbing;
  const live = conditions.filter((c) => c !== neutral);
  if (live.length === 0) return neutral;
  if (live.length === 1) return live[0];
  return { sql: (params) => `(${live.map((c) => render(c, params)).join(operator === 'or_' ? ' OR ' : ' AND ')})` };
}

/** The SQL text of `cond`, its values added to `params`. */
function render(cond: Cond, params: Params): string {
  return typeof cond === 'string' ? cond : cond.sql(params);
}

/** Joins rendered conditions (TRUE/FALSE folded). */
export function combineSql(conditions: string[], operator: 'and_' | 'or_' = 'and_'): string {
  const conds: Cond[] = conditions.map((c) => (c === TRUE || c === FALSE ? c : { sql: () => c }));
  return render(combineConds(conds, operator), undefined as unknown as Params);
}

/** `column` is one of `values` (never NULL; none: FALSE). */
function anyCond(column: string, raw: readonly string[]): Cond {
  if (raw.length === 0) return FALSE;
  const values = raw.map(toPgText); // as the columns hold them (text.ts)
  if (values.length === 1) return { sql: (p) => `${column} = ${p.add(values[0])}` };
  return { sql: (p) => `${column} = ANY(${p.add([...values])}::text[])` };
}

/** `column` is set and none of `values` (none: TRUE, NULLs included). */
function noneCond(column: string, raw: readonly string[]): Cond {
  if (raw.length === 0) return TRUE;
  const values = raw.map(toPgText);
  if (values.length === 1) return { sql: (p) => `(${column} IS NOT NULL AND ${column} <> ${p.add(values[0])})` };
  return { sql: (p) => `(${column} IS NOT NULL AND NOT (${column} = ANY(${p.add([...values])}::text[])))` };
}

/** `like_`: an ASCII-case-insensitive substring match, `%` and `_` wildcards, no escape character. */
function likeCond(column: string, pattern: string): Cond {
  return { sql: (p) => `(${column} ILIKE ${p.add(`%${toPgText(pattern)}%`)}::text COLLATE "C" ESCAPE '')` };
}

type KeyFilter = { any_?: string[] | null; like_?: string | null; exists_?: boolean | null };
type TypeFilter = { any_?: string[] | null; not_any_?: string[] | null };
type IdsFilter = { any_?: string[] | null };

function keyCond(f: KeyFilter, column: string, keyAlwaysSet: boolean): Cond {
  const parts: Cond[] = [];
  if (f.any_ != null) parts.push(anyCond(column, f.any_));
  if (f.like_ != null) parts.push(likeCond(column, f.like_));
  if (f.exists_ != null) {
    const exists = f.exists_;
    parts.push(keyAlwaysSet ? (exists ? TRUE : FALSE) : { sql: () => `${column} ${exists ? 'IS NOT NULL' : 'IS NULL'}` });
  }
  return combineConds(parts);
}

function typeCond(f: TypeFilter, column: string): Cond {
  const parts: Cond[] = [];
  if (f.any_ != null) parts.push(anyCond(column, f.any_));
  if (f.not_any_ != null) parts.push(noneCond(column, f.not_any_));
  return combineConds(parts);
}

function idsCond(f: IdsFilter, column: string): Cond {
  return f.any_ != null ? anyCond(column, f.any_) : TRUE;
}

const col = (alias: string, name: string) => (alias === '' ? name : `${alias}.${name}`);

function compile(
  filter: ArtifactFilter | ArtifactCollectionFilter,
  ids: { filter: IdsFilter | null | undefined; column: string; keyAlwaysSet: boolean },
  alias: string,
): Cond {
  const parts: Cond[] = [];
  if (ids.filter != null) parts.push(idsCond(ids.filter, col(alias, ids.column)));
  if (filter.key != null) parts.push(keyCond(filter.key, col(alias, 'key'), ids.keyAlwaysSet));
  if (filter.flow_run_id != null) parts.push(idsCond(filter.flow_run_id, col(alias, 'flow_run_id')));
  if (filter.task_run_id != null) parts.push(idsCond(filter.task_run_id, col(alias, 'task_run_id')));
  if (filter.type != null) parts.push(typeCond(filter.type, col(alias, 'type')));
  return combineConds(parts, filter.operator ?? 'and_');
}

/** The condition an `artifact` row (aliased `alias`, or unqualified with '') must meet: TRUE, FALSE or SQL. */
export function artifactCondition(filter: ArtifactFilter | null | undefined, params: Params, alias = ''): string {
  return filter == null ? TRUE : render(compile(filter, { filter: filter.id, column: 'id', keyAlwaysSet: false }, alias), params);
}

/** The condition an `artifact_collection` row must meet (its mirrored fields are the latest version's). */
export function collectionCondition(filter: ArtifactCollectionFilter | null | undefined, params: Params, alias = ''): string {
  return filter == null ? TRUE : render(compile(filter, { filter: filter.latest_id, column: 'latest_id', keyAlwaysSet: true }, alias), params);
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
