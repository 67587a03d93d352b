/**
 * The query planner: which access path answers a filter. A narrow path reads a known list of
 * candidates (ids, keys' versions, run ids' artifacts, a type's rows) and sorts them; the sorted
 * path walks the index of the requested sort, testing each row, and stops after `offset + limit`
 * matches (a count walks everything). A list is usable when the filter's logic guarantees every
 * match is on it; the predicate is always applied on top, so a path may return extra candidates
 * but never misses one. Cost model, in units of one row visited by a walk (a sequential read of
 * a compact view, ~0.7–1 µs at 1M): a list costs OPEN_RANGE per index range it opens (a run's or
 * key's entries: a cursor, ~5–10 µs) plus GET_ROW per candidate (a random read, ~1.5–2 µs); a
 * walk costs one per row, about `pageEnd × total / C` rows when C rows match evenly, `total` for
 * a count. The cheaper wins. Matches need not be spread evenly, so a walk chosen over a usable
 * list carries that list: the walk re-estimates its remaining length from the matches it has
 * seen and switches to the list once the list would finish sooner.
 */
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../../schemas/filters.ts';
import type { IdSet, RunSets } from './runs.ts';

export type AccessPath =
  | { kind: 'ids'; ids: string[] } // direct gets by artifact id / latest id
  | { kind: 'keys'; keys: string[] } // the key index (versions of these keys)
  | { kind: 'flowRuns'; ids: Iterable<string> } // the flow-run index (a resolved set is read as it is iterated)
  | { kind: 'taskRuns'; ids: Iterable<string> } // the task-run index
  | { kind: 'types'; types: string[] } // the type index
  | { kind: 'sorted' }; // walk the sort's own index

/** What the planner knows about the table and the request, from the store's counters. */
export interface PlanContext {
  /** Rows the sorted walk could visit (artifacts, or collections for the latest routes). */
  total: number;
  /** `offset + limit`, or Infinity for a count (which must see every match). */
  pageEnd: number;
  /** Average artifacts per key, per flow run and per task run. */
  perKey: number;
  perFlowRun: number;
  perTaskRun: number;
  /**
   * Counts the artifacts a run index files under these run ids, stopping at `cap`. The averages
   * above come from run records, and artifacts often name runs this server has no record of
   * (they ran elsewhere): then the average says "the whole table" for a run with ten artifacts.
   */
  countRunEntries?: (kind: RunIndex, ids: string[], cap: number) => number;
  /** The rows of these types (the store reads its per-type counters); may stop at `cap`, past which the list loses anyway. */
  countTypeEntries?: (types: string[], cap: number) => number;
}

type RunIndex = 'flowRuns' | 'taskRuns';

/** Run lists up to this many ids are measured in their index rather than estimated. */
const MEASURED_RUN_IDS = 64;

/** For callers without statistics: narrow paths always win. */
export const NO_STATISTICS: PlanContext = { total: Infinity, pageEnd: Infinity, perKey: 4, perFlowRun: 4, perTaskRun: 4 };

/** Costs in rows visited by a walk (see the opening comment). */
export const OPEN_RANGE = 8;
export const GET_ROW = 2;

/**
 * A usable list: its expected rows, the index ranges reading it opens, and the path that reads
 * it (built only when chosen).
 */
type Narrowing = { path: () => AccessPath; size: number; ranges: number };

/** What reading a list costs, in rows walked. */
const listCost = (n: Narrowing) => n.ranges * OPEN_RANGE + n.size * GET_ROW;

/**
 * Narrowing is sound only if every match must satisfy the narrowing condition: always under
 * `and_`, and under `or_` only when that sub-filter is the single condition present.
 */
function mustHold(filter: { operator?: string | null }, present: number): boolean {
  return (filter.operator ?? 'and_') === 'and_' || present === 1;
}

/**
 * The cheapest usable list against the walk (see the opening comment). A count walks every row;
 * a page about `pageEnd × total / C` of them, never more than the table.
 */
function cheapest(options: (Narrowing | undefined)[], ctx: PlanContext): Plan {
  let best: Narrowing | undefined;
  for (const option of options) if (option && (!best || listCost(option) < listCost(best))) best = option;
  if (!best) return { path: { kind: 'sorted' } };
  const cost = listCost(best);
  const walk = best.size === 0 ? Infinity : Math.min(ctx.total, (ctx.pageEnd * ctx.total) / best.size);
  if (cost <= walk) return { path: best.path() };
  if (ctx.pageEnd === Infinity) return { path: { kind: 'sorted' } }; // a count: the scan, no list to fall back on
  return { path: { kind: 'sorted' }, fallback: { path: best.path, listCost: cost } };
}

/**
 * The planner's decision: the access path, and — when it chose to walk the sort index over a
 * usable list — that list and its cost, to read instead once the walk's remaining rows, judged
 * from the matches it has seen, would cost more (`keepWalking`). Both together cost at most
 * about twice the cheaper of the two.
 */
export interface Plan {
  path: AccessPath;
  /** Built only when needed. */
  fallback?: { path: () => AccessPath; listCost: number };
}

/** Rows every walk may visit before it judges its progress (a few pauses' worth). */
export const MIN_WALK = 256;

/**
 * Whether a walk that has visited `visited` rows and found `matched` (counting those skipped by
 * the offset) should go on rather than read a list costing `listCost`: it goes on while the rows
 * it still expects to visit — at the rate it has found matches so far, counting one more match
 * than seen — cost less than the list.
 */
export function keepWalking(visited: number, matched: number, pageEnd: number, listCost: number): boolean {
  if (visited <= MIN_WALK) return true;
  const remaining = ((pageEnd - matched) * visited) / (matched + 1);
  return remaining <= listCost;
}

/** Past this many rows a list no longer beats the walk (GET_ROW × C² > pageEnd × total): counting stops there. */
const breakEven = (ctx: PlanContext) => Math.floor(Math.sqrt((ctx.pageEnd * ctx.total) / GET_ROW)) + 1;

/** Expected rows of a run list: measured when short and a page is asked for, else the average. */
function runListSize(kind: RunIndex, count: number, ids: () => string[], ctx: PlanContext): number {
  // A count must read the list whatever its size (the walk sees every row), so only pages measure.
  if (ctx.countRunEntries && count <= MEASURED_RUN_IDS && ctx.pageEnd !== Infinity) {
    return ctx.countRunEntries(kind, ids(), breakEven(ctx));
  }
  return count * (kind === 'flowRuns' ? ctx.perFlowRun : ctx.perTaskRun);
}

/** Run filters resolved to id sets always hold (they are ANDed with everything else). */
function runNarrowings(runs: RunSets | undefined, ctx: PlanContext): (Narrowing | undefined)[] {
  const narrowing = (kind: RunIndex, set: IdSet | undefined): Narrowing | undefined =>
    set && { size: runListSize(kind, set.size, () => [...set], ctx), ranges: set.size, path: () => ({ kind, ids: set }) };
  return [narrowing('flowRuns', runs?.flowRunIds), narrowing('taskRuns', runs?.taskRunIds)];
}

function countPresent(filter: object): number {
  return Object.entries(filter).filter(([name, value]) => name !== 'operator' && value != null).length;
}

/** A candidate list and its expected number of rows (entries × rows per entry). */
function list(kind: 'ids' | 'keys', values: string[] | null | undefined, perEntry: number): Narrowing | undefined {
  if (values == null) return undefined;
  const unique = [...new Set(values)];
  const path: AccessPath = kind === 'keys' ? { kind, keys: unique } : { kind, ids: unique };
  return { path: () => path, size: unique.length * perEntry, ranges: kind === 'keys' ? unique.length : 0 };
}

/**
 * A type list: its rows are counted, not averaged (types are few and uneven — one may be most
 * of the table, another a handful); a counter needs no more than the break-even point.
 */
function typeList(values: string[] | null | undefined, ctx: PlanContext): Narrowing | undefined {
  if (values == null) return undefined;
  const types = [...new Set(values)];
  const size = ctx.countTypeEntries ? ctx.countTypeEntries(types, breakEven(ctx)) : types.length;
  return { path: () => ({ kind: 'types', types }), size, ranges: types.length };
}

/** A run id list: read through its run index. */
function runList(kind: RunIndex, values: string[] | null | undefined, ctx: PlanContext): Narrowing | undefined {
  if (values == null) return undefined;
  const ids = [...new Set(values)];
  return { path: () => ({ kind, ids }), size: runListSize(kind, ids.length, () => ids, ctx), ranges: ids.length };
}

/**
 * The run sets always narrow; the filter's own lists only when its logic guarantees that every
 * match is on them.
 */
function plan<F extends { operator?: string | null }>(
  filter: F | null | undefined,
  runs: RunSets | undefined,
  ctx: PlanContext,
  lists: (filter: F) => (Narrowing | undefined)[],
): Plan {
  const always = runNarrowings(runs, ctx);
  if (filter == null || !mustHold(filter, countPresent(filter))) return cheapest(always, ctx);
  return cheapest([...always, ...lists(filter)], ctx);
}

/**
 * Whether the filter's own conditions must all hold (so that each may narrow): worth knowing
 * before computing a list, such as the keys a `like_` matches, only the planner would use.
 */
export function filterNarrows(filter: { operator?: string | null } | null | undefined): boolean {
  return filter != null && mustHold(filter, countPresent(filter));
}

/**
 * `likeKeys`: the distinct keys that `key.like_` matches, when the caller found them (by
 * scanning the keys alone, `execute.ts` `keysLike`): a list like `key.any_`.
 */
export function planArtifactQuery(
  filter: ArtifactFilter | null | undefined,
  runs?: RunSets,
  ctx: PlanContext = NO_STATISTICS,
  likeKeys?: string[],
): AccessPath {
  return planArtifacts(filter, runs, ctx, likeKeys).path;
}

/** `planArtifactQuery` with the fallback list of a walk (see `Plan`). */
export function planArtifacts(
  filter: ArtifactFilter | null | undefined,
  runs?: RunSets,
  ctx: PlanContext = NO_STATISTICS,
  likeKeys?: string[],
): Plan {
  return plan(filter, runs, ctx, (f) => [
    list('ids', f.id?.any_, 1),
    list('keys', f.key?.any_, ctx.perKey),
    list('keys', likeKeys, ctx.perKey),
    runList('flowRuns', f.flow_run_id?.any_, ctx),
    runList('taskRuns', f.task_run_id?.any_, ctx),
    typeList(f.type?.any_, ctx),
  ]);
}

/**
 * Collections: `key.any_` (and the keys `like_` matches) is a direct get per key; a flow run,
 * task run or type list reads the collections' own indexes of those mirrored fields; a latest id
 * list goes through the artifact side.
 */
export function planCollectionQuery(
  filter: ArtifactCollectionFilter | null | undefined,
  runs?: RunSets,
  ctx: PlanContext = NO_STATISTICS,
  likeKeys?: string[],
): AccessPath {
  return planCollections(filter, runs, ctx, likeKeys).path;
}

/** `planCollectionQuery` with the fallback list of a walk (see `Plan`). */
export function planCollections(
  filter: ArtifactCollectionFilter | null | undefined,
  runs?: RunSets,
  ctx: PlanContext = NO_STATISTICS,
  likeKeys?: string[],
): Plan {
  return plan(filter, runs, ctx, (f) => [
    list('keys', f.key?.any_, 1),
    list('keys', likeKeys, 1),
    list('ids', f.latest_id?.any_, 1.5),
    runList('flowRuns', f.flow_run_id?.any_, ctx),
    runList('taskRuns', f.task_run_id?.any_, ctx),
    typeList(f.type?.any_, ctx),
  ]);
}
