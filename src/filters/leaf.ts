/**
 * The leaf operators of Prefect filters as predicates over one column value, with the SQL
 * semantics upstream gets from its database (`shared/spec/filters.md` §1.3): NULL never matches
 * a comparison, an empty `any_` matches nothing, an empty `not_any_` matches everything.
 */

export type Predicate<T> = (row: T) => boolean;
export type Nullish<T> = T | null | undefined;

export const always: Predicate<unknown> = () => true;

/**
 * The condition nothing satisfies (an empty `any_`, a collection's `key.exists_: false`). Like
 * `always` it is one shared function, so `combine` can fold it and a query can see that it
 * needs no scan at all.
 */
export const never: Predicate<unknown> = () => false;

export function anyOf<V>(values: V[]): Predicate<Nullish<V>> {
  if (values.length === 0) return never;
  if (values.length === 1) {
    const only = values[0];
    return (v) => v === only;
  }
  const set = new Set(values);
  return (v) => v !== null && v !== undefined && set.has(v);
}

export function noneOf<V>(values: V[]): Predicate<Nullish<V>> {
  if (values.length === 0) return always;
  const set = new Set(values);
  return (v) => v !== null && v !== undefined && !set.has(v);
}

/** ASCII-only lower-casing: what SQLite's LIKE folds (é and É stay different). */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s;
}

/**
 * `like_`: case-insensitive substring with SQL wildcards — `%` any run of characters, `_` exactly
 * one — and no escape character, as upstream builds `ILIKE '%' || pattern || '%'`.
 */
export function like(pattern: string): Predicate<Nullish<string>> {
  const folded = asciiLower(pattern);
  if (!/[%_]/.test(folded)) return (v) => typeof v === 'string' && asciiLower(v).includes(folded);
  const source = Array.from(folded, (c) => (c === '%' ? '.*' : c === '_' ? '.' : escapeRegex(c))).join('');
  const re = new RegExp(source, 'su');
  return (v) => typeof v === 'string' && re.test(asciiLower(v));
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

export const isNull = (wantNull: boolean): Predicate<Nullish<unknown>> =>
  wantNull ? (v) => v === null || v === undefined : (v) => v !== null && v !== undefined;

/**
 * Combines conditions: none collected means TRUE; otherwise AND or OR, with `always` and `never`
 * folded (AND: one `never` is `never`, `always` drops out; OR: the reverse).
 */
export function combine<T>(conditions: Predicate<T>[], operator: 'and_' | 'or_' = 'and_'): Predicate<T> {
  if (conditions.length === 0) return always;
  const [absorbing, neutral] = operator === 'or_' ? [always, never] : [never, always];
  if (conditions.includes(absorbing)) return absorbing;
  const live = conditions.filter((c) => c !== neutral);
  if (live.length === 0) return neutral;
  if (live.length === 1) return live[0];
  if (operator === 'or_') return (row) => live.some((c) => c(row));
  return (row) => live.every((c) => c(row));
}

/** Lifts a column predicate to a row predicate (`always` and `never` stay themselves). */
export function on<T, V>(column: (row: T) => V, test: Predicate<V>): Predicate<T> {
  if (test === always || test === never) return test as unknown as Predicate<T>;
  return (row) => test(column(row));
}

/** Datetime bounds, both inclusive; a NULL column never matches. */
export function timeRange(before: number | undefined, after: number | undefined): Predicate<Nullish<number>> {
  return (v) => v !== null && v !== undefined && (before === undefined || v <= before) && (after === undefined || v >= after);
}

/** Tag filters: `all_` ⊆ tags, `any_` shares one, `is_null_` means empty / non-empty. */
export function tagsCondition<T>(
  f: { operator?: 'and_' | 'or_' | null; all_?: string[] | null; any_?: string[] | null; is_null_?: boolean | null },
  tags: (row: T) => string[],
): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (f.all_ != null) {
    const wanted = f.all_;
    parts.push((row) => wanted.every((tag) => tags(row).includes(tag)));
  }
  if (f.any_ != null) {
    const wanted = new Set(f.any_);
    parts.push((row) => tags(row).some((tag) => wanted.has(tag)));
  }
  if (f.is_null_ != null) {
    const empty = f.is_null_;
    parts.push((row) => (tags(row).length === 0) === empty);
  }
  return combine(parts, f.operator ?? 'and_');
}
