/**
 * `ArtifactFilter` and `ArtifactCollectionFilter` compiled once per request into predicates over
 * stored views (a record is a view too) (`shared/spec/filters.md` §1–3). Each present sub-object adds one condition (an
 * empty one adds TRUE); the object's operator joins them.
 */
import type { ArtifactCollectionFilter, ArtifactFilter } from '../schemas/filters.ts';
import type { ArtifactView, CollectionView } from '../store/records.ts';
import { always, anyOf, combine, isNull, like, never, noneOf, on, type Predicate } from './leaf.ts';

type KeyFilter = { any_?: string[] | null; like_?: string | null; exists_?: boolean | null };
type TypeFilter = { any_?: string[] | null; not_any_?: string[] | null };
type IdsFilter = { any_?: string[] | null };

/** `keyAlwaysSet`: a collection always has a key, so `exists_` is decided without a row. */
function keyCondition<T extends ArtifactView>(f: KeyFilter, keyAlwaysSet: boolean): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (f.any_ != null) parts.push(on((r: T) => r.key, anyOf(f.any_)));
  if (f.like_ != null) parts.push(on((r: T) => r.key, like(f.like_)));
  if (f.exists_ != null) parts.push(keyAlwaysSet ? (f.exists_ ? always : never) : on((r: T) => r.key, isNull(!f.exists_)));
  return combine(parts);
}

function typeCondition<T extends ArtifactView>(f: TypeFilter): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (f.any_ != null) parts.push(on((r: T) => r.type, anyOf(f.any_)));
  if (f.not_any_ != null) parts.push(on((r: T) => r.type, noneOf(f.not_any_)));
  return combine(parts);
}

function idsCondition<T>(f: IdsFilter, column: (r: T) => string | null): Predicate<T> {
  return f.any_ != null ? on(column, anyOf(f.any_)) : always;
}

/** The conditions both filters share; they differ only in which id they name. */
function compile<T extends ArtifactView>(
  filter: ArtifactFilter | ArtifactCollectionFilter,
  ids: { filter: IdsFilter | null | undefined; column: (r: T) => string | null; keyAlwaysSet: boolean },
): Predicate<T> {
  const parts: Predicate<T>[] = [];
  if (ids.filter != null) parts.push(idsCondition(ids.filter, ids.column));
  if (filter.key != null) parts.push(keyCondition(filter.key, ids.keyAlwaysSet));
  if (filter.flow_run_id != null) parts.push(idsCondition(filter.flow_run_id, (r: T) => r.flowRunId));
  if (filter.task_run_id != null) parts.push(idsCondition(filter.task_run_id, (r: T) => r.taskRunId));
  if (filter.type != null) parts.push(typeCondition(filter.type));
  return combine(parts, filter.operator ?? 'and_');
}

export function compileArtifactFilter(filter: ArtifactFilter | null | undefined): Predicate<ArtifactView> {
  return filter == null ? always : compile(filter, { filter: filter.id, column: (r) => r.id, keyAlwaysSet: false });
}

export function compileCollectionFilter(
  filter: ArtifactCollectionFilter | null | undefined,
): Predicate<CollectionView> {
  return filter == null ? always : compile(filter, { filter: filter.latest_id, column: (r) => r.latestId, keyAlwaysSet: true });
}
