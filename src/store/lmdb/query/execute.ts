/**
 * Runs a planned query against the store's indexes: either streams the sort's index, testing
 * the predicate per record and stopping after `offset + limit` matches, or gathers the
 * candidates of a narrow path, filters and sorts them. Never loads the whole table. The scans
 * are sliced work (slices.ts) reading through one transaction (`at`). A narrow path's candidate
 * stream also carries holes (`undefined`): one per index range it opens, so that a list of many
 * runs with few rows each still reaches its pause points.
 */
import type { Sort } from '../../../schemas/artifacts.ts';
import type { StoreDbs } from '../env.ts';
import { storableKey } from '../../index-keys.ts';
import { prefixRange, runRange, typeCounter, typeKey, versionsRange } from '../keys.ts';
import type { ArtifactView, CollectionView } from '../../records.ts';
import { like, type Predicate } from '../../../filters/leaf.ts';
import { keepWalking, type AccessPath } from './plan.ts';
import type { RunSets } from './runs.ts';
import { artifactOrder, collectionOrder } from './order.ts';
import { ROWS_PER_PAUSE, toEnd, type At, type Sliced } from './slices.ts';
import { Top } from './top.ts';

/** Ids newest first (ids are time-ordered). */
const idDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

export type { Page } from '../../contract.ts';
import type { Page } from '../../contract.ts';

const lastId = (key: unknown[]) => key[key.length - 1] as string;

/** Every artifact's view, in the order of `sort`, read straight off the matching index. */
function* artifactsInOrder(dbs: StoreDbs, sort: Sort, at: At): Iterable<ArtifactView> {
  if (sort === 'ID_DESC') {
    for (const { value } of dbs.artifactViews.getRange({ reverse: true, ...at })) yield value;
    return;
  }
  const index =
    sort === 'CREATED_DESC' ? dbs.artifactsByCreated : sort === 'UPDATED_DESC' ? dbs.artifactsByUpdated : dbs.artifactsByKey;
  for (const key of index.getKeys({ reverse: sort !== 'KEY_ASC', ...at })) {
    const view = dbs.artifactViews.get(lastId(key as unknown[]), at);
    if (view) yield view;
  }
}

/** A step of a candidate stream: a candidate, or a hole (an index range opened). */
type Step<T> = T | undefined;

/**
 * The last part of every key under these prefixes of a two-part index ([run id, id], [type key,
 * key], …), with a hole before each prefix's range.
 */
function* lastPartsUnder(index: StoreDbs['artifactsByFlowRun'], prefixes: Iterable<string>, at: At): Iterable<Step<string>> {
  for (const prefix of prefixes) {
    yield undefined;
    for (const key of index.getKeys({ ...prefixRange(prefix), ...at })) yield lastId(key as unknown[]);
  }
}

/**
 * A run or type list read off one side's two-part index: [run id or type key, artifact id] on
 * the artifact side, [run id or type key, key] in the collections' indexes of the fields they
 * mirror from their latest version. Undefined for the other kinds of path.
 */
function onRunOrTypeIndex(
  path: Exclude<AccessPath, { kind: 'sorted' }>,
  indexes: { flowRuns: StoreDbs['artifactsByFlowRun']; taskRuns: StoreDbs['artifactsByFlowRun']; types: StoreDbs['artifactsByFlowRun'] },
  at: At,
): Iterable<Step<string>> | undefined {
  switch (path.kind) {
    case 'flowRuns':
      return lastPartsUnder(indexes.flowRuns, path.ids, at);
    case 'taskRuns':
      return lastPartsUnder(indexes.taskRuns, path.ids, at);
    case 'types':
      return lastPartsUnder(indexes.types, path.types.map(typeKey), at);
    default:
      return undefined;
  }
}

/** The artifacts a narrow path can match (each once), in no particular order, with holes. */
function* artifactCandidates(dbs: StoreDbs, path: Exclude<AccessPath, { kind: 'sorted' }>, at: At): Iterable<Step<ArtifactView>> {
  const ids: Iterable<Step<string>> =
    path.kind === 'ids'
      ? path.ids
      : path.kind === 'keys'
        ? (function* () {
            for (const key of path.keys.filter(storableKey)) {
              yield undefined;
              for (const k of dbs.artifactsByKey.getKeys({ ...versionsRange(key), ...at })) yield lastId(k as unknown[]);
            }
          })()
        : onRunOrTypeIndex(path, { flowRuns: dbs.artifactsByFlowRun, taskRuns: dbs.artifactsByTaskRun, types: dbs.artifactsByType }, at)!;
  for (const id of ids) {
    if (id === undefined) yield undefined;
    else {
      const view = dbs.artifactViews.get(id, at);
      if (view) yield view;
    }
  }
}

/** Every collection's view, in the order of `sort`. */
function* collectionsInOrder(dbs: StoreDbs, sort: Sort, at: At): Iterable<CollectionView> {
  if (sort === 'KEY_ASC' || sort === 'KEY_DESC') {
    for (const { value } of dbs.collectionViews.getRange({ reverse: sort === 'KEY_DESC', ...at })) yield value;
    return;
  }
  const index =
    sort === 'ID_DESC' ? dbs.collectionsById : sort === 'CREATED_DESC' ? dbs.collectionsByCreated : dbs.collectionsByUpdated;
  for (const { value: key } of index.getRange({ reverse: true, ...at })) {
    const view = dbs.collectionViews.get(key, at);
    if (view) yield view;
  }
}

/** The collections a narrow path can match (each once), with holes. */
function* collectionCandidates(dbs: StoreDbs, path: Exclude<AccessPath, { kind: 'sorted' }>, at: At): Iterable<Step<CollectionView>> {
  const keys =
    path.kind === 'keys'
      ? path.keys.filter(storableKey)
      : onRunOrTypeIndex(path, { flowRuns: dbs.collectionsByFlowRun, taskRuns: dbs.collectionsByTaskRun, types: dbs.collectionsByType }, at);
  if (keys !== undefined) {
    for (const key of keys) {
      if (key === undefined) yield undefined;
      else {
        const view = dbs.collectionViews.get(key, at);
        if (view) yield view;
      }
    }
    return;
  }
  // Through the artifact side: a collection qualifies through the artifact that is its latest.
  for (const artifact of artifactCandidates(dbs, path, at)) {
    if (artifact === undefined) yield undefined;
    if (artifact === undefined || artifact.key === null) continue;
    const view = dbs.collectionViews.get(artifact.key, at);
    if (view && view.latestId === artifact.id) yield view;
  }
}

// The scans below reach a pause point every ROWS_PER_PAUSE rows they visit (slices.ts).

/**
 * A page off rows in order. With a `listCost` (a walk tried before a usable list), gives up
 * (undefined) at a pause point once the rest of the walk, judged from the matches seen so far,
 * would cost more than the list (`keepWalking`).
 */
function* page<T>(rows: Iterable<T>, test: Predicate<T>, { offset, limit }: Page, listCost = Infinity): Sliced<T[] | undefined> {
  const out: T[] = [];
  if (limit === 0) return out;
  let skip = offset;
  let visited = 0;
  for (const row of rows) {
    if (++visited % ROWS_PER_PAUSE === 0) {
      if (!keepWalking(visited, offset - skip + out.length, offset + limit, listCost)) return undefined;
      yield;
    }
    if (!test(row)) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    out.push(row);
    if (out.length === limit) break;
  }
  return out;
}

/** A page of candidates read in no order: the first `offset + limit` matches kept as they come. */
function* sortedPage<T>(rows: Iterable<Step<T>>, test: Predicate<T>, order: (a: T, b: T) => number, p: Page): Sliced<T[]> {
  const top = new Top(p.offset + p.limit, order);
  let visited = 0;
  for (const row of rows) {
    if (++visited % ROWS_PER_PAUSE === 0) yield;
    if (row !== undefined && test(row)) top.push(row);
  }
  return top.sorted().slice(p.offset);
}

function* count<T>(rows: Iterable<Step<T>>, test: Predicate<T>): Sliced<number> {
  let n = 0;
  let visited = 0;
  for (const row of rows) {
    if (++visited % ROWS_PER_PAUSE === 0) yield;
    if (row !== undefined && test(row)) n++;
  }
  return n;
}

export function* findArtifacts(dbs: StoreDbs, path: AccessPath, test: Predicate<ArtifactView>, sort: Sort, p: Page, at: At = {}): Sliced<ArtifactView[]> {
  return path.kind === 'sorted'
    ? (yield* page(artifactsInOrder(dbs, sort, at), test, p))!
    : yield* sortedPage(artifactCandidates(dbs, path, at), test, artifactOrder(sort), p);
}

/** The sorted walk's page, or undefined once reading a list costing `listCost` would finish sooner. */
export function walkArtifacts(dbs: StoreDbs, test: Predicate<ArtifactView>, sort: Sort, p: Page, at: At, listCost: number) {
  return page(artifactsInOrder(dbs, sort, at), test, p, listCost);
}

export function countArtifacts(dbs: StoreDbs, path: AccessPath, test: Predicate<ArtifactView>, at: At = {}) {
  return count(path.kind === 'sorted' ? artifactsInOrder(dbs, 'ID_DESC', at) : artifactCandidates(dbs, path, at), test);
}

export function* findCollections(dbs: StoreDbs, path: AccessPath, test: Predicate<CollectionView>, sort: Sort, p: Page, at: At = {}): Sliced<CollectionView[]> {
  return path.kind === 'sorted'
    ? (yield* page(collectionsInOrder(dbs, sort, at), test, p))!
    : yield* sortedPage(collectionCandidates(dbs, path, at), test, collectionOrder(sort), p);
}

/** The sorted walk's page of collections, or undefined once a list costing `listCost` would finish sooner. */
export function walkCollections(dbs: StoreDbs, test: Predicate<CollectionView>, sort: Sort, p: Page, at: At, listCost: number) {
  return page(collectionsInOrder(dbs, sort, at), test, p, listCost);
}

export function countCollections(dbs: StoreDbs, path: AccessPath, test: Predicate<CollectionView>, at: At = {}) {
  return count(path.kind === 'sorted' ? collectionsInOrder(dbs, 'KEY_ASC', at) : collectionCandidates(dbs, path, at), test);
}

/**
 * The distinct keys that a `like_` pattern matches — the list `key.like_` narrows to. Every key
 * that has an artifact has exactly one collection, so this visits each key once (not each
 * version) and decodes no record. The keys are read as the values of the collections' id index
 * (id → key), whose pages hold nothing else: walking the keys of the collections table itself
 * would page through every collection's record, several times the bytes.
 */
export function* keysLike(dbs: StoreDbs, pattern: string, at: At): Sliced<string[]> {
  const matches = like(pattern);
  const keys: string[] = [];
  let visited = 0;
  for (const { value: key } of dbs.collectionsById.getRange({ ...at })) {
    if (++visited % (ROWS_PER_PAUSE * 8) === 0) yield; // a key costs a fraction of a record
    if (matches(key)) keys.push(key);
  }
  return keys;
}

/** The `like_` pattern of a filter whose only condition is `key.like_`, or undefined. */
export function soleKeyLike(filter: { key?: { like_?: string | null } | null } | null | undefined): string | undefined {
  if (filter == null || !filter.key || filter.key.like_ == null) return undefined;
  const present = Object.entries(filter).filter(([name, value]) => name !== 'operator' && value != null);
  const leaves = Object.entries(filter.key).filter(([, value]) => value != null);
  return present.length === 1 && leaves.length === 1 ? filter.key.like_ : undefined;
}

/** Versions of these keys, counted in the key index without reading a record. */
export function countVersions(dbs: StoreDbs, keys: string[], at: At): number {
  return keys.reduce((n, key) => n + dbs.artifactsByKey.getKeysCount({ ...versionsRange(key), ...at }), 0);
}

type ListFilter = { any_?: string[] | null } & Record<string, unknown>;

/** The single `any_` list of a filter that has nothing else, or undefined. */
function soleList(filter: Record<string, unknown> | null | undefined): { field: string; values: string[] } | undefined {
  if (filter == null) return undefined;
  const present = Object.entries(filter).filter(([name, value]) => name !== 'operator' && value != null);
  if (present.length !== 1) return undefined;
  const [field, sub] = present[0] as [string, ListFilter];
  const leaves = Object.entries(sub).filter(([, value]) => value != null);
  if (leaves.length !== 1 || leaves[0][0] !== 'any_') return undefined;
  return { field, values: [...new Set(sub.any_!)] };
}

const isEmpty = (filter: object | null | undefined) =>
  filter == null || Object.entries(filter).every(([name, value]) => name === 'operator' || value == null);

/** A query that is one indexed list: ids given outright, or ranges of one index. */
type Range = { start: unknown[]; end: unknown[] };
type IndexedList = { kind: 'ids'; ids: string[] } | { kind: 'ranges'; index: StoreDbs['artifactsByFlowRun']; ranges: Iterable<Range> };

/** `ranges` mapped lazily (a resolved run set may hold many thousand ids, listed as they are read). */
function* mapped<T, U>(items: Iterable<T>, f: (item: T) => U): Iterable<U> {
  for (const item of items) yield f(item);
}

/**
 * The whole query as one indexed list, when it is one: `key.any_`, `id.any_`, `flow_run_id.any_`,
 * `task_run_id.any_` or `type.any_` alone, or a single resolved run-id set with no artifact
 * filter. Every index entry in it is then a match (an artifact has one key, one flow run, one
 * task run, one type), so the index keys alone answer the query. Undefined otherwise.
 */
function soleIndexedList(dbs: StoreDbs, filter: Record<string, unknown> | null | undefined, runs: RunSets | undefined): IndexedList | undefined {
  const sets = [runs?.flowRunIds, runs?.taskRunIds].filter((s) => s !== undefined);
  if (sets.length === 0) {
    const list = soleList(filter);
    if (!list) return undefined;
    switch (list.field) {
      case 'id':
        return { kind: 'ids', ids: list.values };
      case 'key':
        return { kind: 'ranges', index: dbs.artifactsByKey, ranges: list.values.filter(storableKey).map(versionsRange) };
      case 'flow_run_id':
        return { kind: 'ranges', index: dbs.artifactsByFlowRun, ranges: list.values.map(runRange) };
      case 'task_run_id':
        return { kind: 'ranges', index: dbs.artifactsByTaskRun, ranges: list.values.map(runRange) };
      case 'type':
        return { kind: 'ranges', index: dbs.artifactsByType, ranges: list.values.map((type) => prefixRange(typeKey(type))) };
      default:
        return undefined;
    }
  }
  if (sets.length !== 1 || !isEmpty(filter)) return undefined;
  const index = runs?.flowRunIds ? dbs.artifactsByFlowRun : dbs.artifactsByTaskRun;
  return { kind: 'ranges', index, ranges: mapped(sets[0]!, runRange) };
}

/** Entries in these ranges of an index, counted natively; pauses between groups of ranges. */
function* countRanges(index: StoreDbs['artifactsByFlowRun'], ranges: Iterable<Range>, at: At): Sliced<number> {
  let n = 0;
  let i = 0;
  for (const range of ranges) {
    if (++i % ROWS_PER_PAUSE === 0) yield;
    n += index.getKeysCount({ ...range, ...at } as any);
  }
  return n;
}

/** The one leaf of a filter that has a single condition with a single operator, or undefined. */
function soleLeaf(filter: Record<string, unknown> | null | undefined): { field: string; op: string; value: unknown } | undefined {
  if (filter == null) return undefined;
  const present = Object.entries(filter).filter(([name, value]) => name !== 'operator' && value != null);
  if (present.length !== 1) return undefined;
  const [field, sub] = present[0] as [string, Record<string, unknown>];
  const leaves = Object.entries(sub).filter(([name, value]) => name !== 'operator' && value != null);
  return leaves.length === 1 ? { field, op: leaves[0][0], value: leaves[0][1] } : undefined;
}

type Table = 'artifacts' | 'collections';

/** Rows of any of these types (NULL among them, as `null`), from the per-type counters. */
function countOfTypes(dbs: StoreDbs, table: Table, types: (string | null)[], at: At): number {
  return [...new Set(types)].reduce((n, type) => n + (dbs.counters.get(typeCounter(table, type), at) ?? 0), 0);
}

/**
 * `type.not_any_` alone: every row but those of NULL type (a comparison never matches NULL) and
 * those of the listed types; an empty list matches every row (filters.md).
 */
function countNotOfTypes(dbs: StoreDbs, table: Table, total: number, types: string[], at: At): number {
  if (types.length === 0) return total;
  return total - countOfTypes(dbs, table, [null, ...types], at);
}

/**
 * Counts straight from indexes and counters, without reading a record, when the query has a
 * shape they answer: one indexed list (above), `type.not_any_` alone, `key.exists_` alone.
 */
export function* countArtifactsByIndexSliced(
  dbs: StoreDbs,
  filter: Record<string, unknown> | null | undefined,
  runs: RunSets | undefined,
  at: At,
): Sliced<number | undefined> {
  const list = soleIndexedList(dbs, filter, runs);
  if (list?.kind === 'ids') return list.ids.filter((id) => dbs.artifacts.doesExist(id)).length;
  if (list?.index === dbs.artifactsByType) return countOfTypes(dbs, 'artifacts', (filter!.type as { any_: string[] }).any_, at);
  if (list) return yield* countRanges(list.index, list.ranges, at);
  if (runs?.flowRunIds || runs?.taskRunIds) return undefined;
  const leaf = soleLeaf(filter);
  const total = dbs.counters.get('artifacts', at) ?? 0;
  if (leaf?.field === 'type' && leaf.op === 'not_any_') return countNotOfTypes(dbs, 'artifacts', total, leaf.value as string[], at);
  if (leaf?.field === 'key' && leaf.op === 'exists_') {
    const keyless = dbs.artifactsByKey.getKeysCount({ start: [0], end: [1], ...at } as any);
    return leaf.value ? total - keyless : keyless;
  }
  return undefined;
}

export function countArtifactsByIndex(dbs: StoreDbs, filter: Record<string, unknown> | null | undefined, runs: RunSets | undefined) {
  return toEnd(countArtifactsByIndexSliced(dbs, filter, runs, {}));
}

/**
 * A page in `ID_DESC` order (the filter routes' default) of a query that is one indexed list,
 * from index keys alone: no record is decoded. Undefined for any other query or sort. Callers
 * use it only where the planner chose the narrow path, so the list is short next to the table.
 */
export function* artifactIdsByIndexSliced(
  dbs: StoreDbs,
  filter: Record<string, unknown> | null | undefined,
  runs: RunSets | undefined,
  sort: Sort,
  { offset, limit }: Page,
  at: At,
): Sliced<string[] | undefined> {
  if (sort !== 'ID_DESC') return undefined;
  const list = soleIndexedList(dbs, filter, runs);
  if (!list) return undefined;
  const top = new Top<string>(offset + limit, idDesc);
  if (list.kind === 'ids') {
    for (const id of list.ids) if (dbs.artifacts.doesExist(id)) top.push(id);
  } else {
    let visited = 0;
    for (const range of list.ranges) {
      if (++visited % ROWS_PER_PAUSE === 0) yield;
      for (const key of list.index.getKeys({ ...range, ...at } as any)) {
        if (++visited % ROWS_PER_PAUSE === 0) yield;
        top.push(lastId(key as unknown[]));
      }
    }
  }
  return top.sorted().slice(offset);
}

export function artifactIdsByIndex(dbs: StoreDbs, filter: Record<string, unknown> | null | undefined, runs: RunSets | undefined, sort: Sort, p: Page) {
  return toEnd(artifactIdsByIndexSliced(dbs, filter, runs, sort, p, {}));
}

/**
 * Collections counted without reading a record: `key.any_` alone by direct gets; `type.any_`
 * or `type.not_any_` alone, or one resolved run-id set alone, in the indexes of the fields a
 * collection mirrors from its latest version; `key.exists_` alone is every key or none (a
 * collection always has a key).
 */
export function* countCollectionsByIndexSliced(
  dbs: StoreDbs,
  filter: Record<string, unknown> | null | undefined,
  runs: RunSets | undefined,
  at: At,
): Sliced<number | undefined> {
  const sets = [runs?.flowRunIds, runs?.taskRunIds].filter((s) => s !== undefined);
  if (sets.length > 0) {
    if (sets.length !== 1 || !isEmpty(filter)) return undefined;
    const index = runs?.flowRunIds ? dbs.collectionsByFlowRun : dbs.collectionsByTaskRun;
    return yield* countRanges(index, mapped(sets[0]!, prefixRange), at);
  }
  const leaf = soleLeaf(filter);
  if (leaf === undefined) return undefined;
  const total = dbs.counters.get('collections', at) ?? 0;
  if (leaf.field === 'key' && leaf.op === 'any_') {
    return [...new Set(leaf.value as string[])].filter((key) => storableKey(key) && dbs.collections.doesExist(key)).length;
  }
  if (leaf.field === 'key' && leaf.op === 'exists_') return leaf.value ? total : 0;
  if (leaf.field === 'type' && leaf.op === 'any_') return countOfTypes(dbs, 'collections', leaf.value as string[], at);
  if (leaf.field === 'type' && leaf.op === 'not_any_') return countNotOfTypes(dbs, 'collections', total, leaf.value as string[], at);
  return undefined;
}

export function countCollectionsByIndex(dbs: StoreDbs, filter: Record<string, unknown> | null | undefined, runs: RunSets | undefined) {
  return toEnd(countCollectionsByIndexSliced(dbs, filter, runs, {}));
}

/**
 * The ids of one page of artifacts when no condition applies: read off the sort's index keys
 * alone, with LMDB skipping the offset.
 */
export function unfilteredArtifactIds(dbs: StoreDbs, sort: Sort, { offset, limit }: Page): string[] {
  if (limit === 0) return [];
  const range = { reverse: sort !== 'KEY_ASC', offset, limit };
  if (sort === 'ID_DESC') return [...dbs.artifacts.getKeys(range)] as string[];
  const index =
    sort === 'CREATED_DESC' ? dbs.artifactsByCreated : sort === 'UPDATED_DESC' ? dbs.artifactsByUpdated : dbs.artifactsByKey;
  return [...index.getKeys(range)].map((key) => lastId(key as unknown[]));
}

/** The keys of one page of collections when no condition applies. */
export function unfilteredCollectionKeys(dbs: StoreDbs, sort: Sort, { offset, limit }: Page): string[] {
  if (limit === 0) return [];
  if (sort === 'KEY_ASC' || sort === 'KEY_DESC') {
    return [...dbs.collections.getKeys({ reverse: sort === 'KEY_DESC', offset, limit })] as string[];
  }
  const index =
    sort === 'ID_DESC' ? dbs.collectionsById : sort === 'CREATED_DESC' ? dbs.collectionsByCreated : dbs.collectionsByUpdated;
  return [...index.getRange({ reverse: true, offset, limit })].map(({ value }) => value);
}
