/**
 * The query planner: which access path answers a filter. A path that narrows the rows to a
 * known list (ids, keys, run ids) is taken when the filter's own logic guarantees every match
 * is on that list; otherwise the store walks the index of the requested sort and stops once
 * `offset + limit` rows matched. The predicate is always applied on top, so a path may return
 * extra candidates but must never miss one.
 */
import type { ArtifactCollectionFilter, ArtifactFilter } from '../schemas/filters.ts';
import type { RunSets } from './runs.ts';

export type AccessPath =
  | { kind: 'ids'; ids: string[] } // direct gets by artifact id / latest id
  | { kind: 'keys'; keys: string[] } // the key index (versions of these keys)
  | { kind: 'flowRuns'; ids: string[] } // the flow-run index
  | { kind: 'taskRuns'; ids: string[] } // the task-run index
  | { kind: 'sorted' }; // walk the sort's own index

type Narrowing = { path: AccessPath; size: number };

/**
 * Narrowing is sound only if every match must satisfy the narrowing condition: always under
 * `and_`, and under `or_` only when that sub-filter is the single condition present.
 */
function mustHold(filter: { operator?: string | null }, present: number): boolean {
  return (filter.operator ?? 'and_') === 'and_' || present === 1;
}

/**
 * Past this many expected rows a narrow path stops paying: gathering and sorting them costs more
 * than walking the sort index and stopping after one page.
 */
export const MAX_NARROWING = 20_000;

function cheapest(options: (Narrowing | undefined)[]): AccessPath {
  let best: Narrowing | undefined;
  for (const option of options) if (option && (!best || option.size < best.size)) best = option;
  return best && best.size <= MAX_NARROWING ? best.path : { kind: 'sorted' };
}

/** Run filters resolved to id sets always hold (they are ANDed with everything else). */
function runNarrowings(runs: RunSets | undefined): (Narrowing | undefined)[] {
  return [list('flowRuns', runs?.flowRunIds && [...runs.flowRunIds], 4), list('taskRuns', runs?.taskRunIds && [...runs.taskRunIds], 4)];
}

function countPresent(filter: object): number {
  return Object.entries(filter).filter(([name, value]) => name !== 'operator' && value != null).length;
}

/**
 * A candidate list and its expected size: an id names one row, while a key or a run may have
 * many versions or artifacts, hence the weights.
 */
function list(kind: 'ids' | 'flowRuns' | 'taskRuns' | 'keys', values: string[] | null | undefined, weight: number): Narrowing | undefined {
  if (values == null) return undefined;
  const unique = [...new Set(values)];
  const path: AccessPath = kind === 'keys' ? { kind, keys: unique } : { kind, ids: unique };
  return { path, size: unique.length * weight };
}

export function planArtifactQuery(filter: ArtifactFilter | null | undefined, runs?: RunSets): AccessPath {
  if (filter == null || !mustHold(filter, countPresent(filter))) return cheapest(runNarrowings(runs));
  return cheapest([
    ...runNarrowings(runs),
    list('ids', filter.id?.any_, 1),
    list('keys', filter.key?.any_, 4),
    list('flowRuns', filter.flow_run_id?.any_, 4),
    list('taskRuns', filter.task_run_id?.any_, 4),
  ]);
}

/**
 * Collections: `key.any_` is a direct get per key; a latest id, flow run or task run list goes
 * through the artifact side (the collection row mirrors its latest artifact).
 */
export function planCollectionQuery(filter: ArtifactCollectionFilter | null | undefined, runs?: RunSets): AccessPath {
  if (filter == null || !mustHold(filter, countPresent(filter))) return cheapest(runNarrowings(runs));
  return cheapest([
    ...runNarrowings(runs),
    list('keys', filter.key?.any_, 1),
    list('ids', filter.latest_id?.any_, 1.5),
    list('flowRuns', filter.flow_run_id?.any_, 4),
    list('taskRuns', filter.task_run_id?.any_, 4),
  ]);
}
