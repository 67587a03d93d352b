import { describe, expect, test } from 'bun:test';
import { GET_ROW, keepWalking, MIN_WALK, NO_STATISTICS, OPEN_RANGE, planArtifactQuery, planArtifacts, planCollectionQuery, type PlanContext } from '../../../../src/store/lmdb/query/plan.ts';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

describe('planArtifactQuery', () => {
  test('no filter, or nothing narrowing, walks the sort index', () => {
    expect(planArtifactQuery(undefined)).toEqual({ kind: 'sorted' });
    expect(planArtifactQuery({})).toEqual({ kind: 'sorted' });
    expect(planArtifactQuery({ key: { like_: 'x' }, type: { not_any_: ['table'] } })).toEqual({ kind: 'sorted' });
  });
  test('id.any_ becomes direct gets, deduplicated', () => {
    expect(planArtifactQuery({ id: { any_: [A, A, B] } })).toEqual({ kind: 'ids', ids: [A, B] });
  });
  test('key.any_ walks the key index; run ids walk the run indexes', () => {
    expect(planArtifactQuery({ key: { any_: ['k'] } })).toEqual({ kind: 'keys', keys: ['k'] });
    expect(planArtifactQuery({ flow_run_id: { any_: [A] } })).toEqual({ kind: 'flowRuns', ids: [A] });
    expect(planArtifactQuery({ task_run_id: { any_: [B] } })).toEqual({ kind: 'taskRuns', ids: [B] });
  });
  test('the cheapest narrowing wins under and_', () => {
    expect(planArtifactQuery({ key: { any_: ['k'] }, id: { any_: [A] } })).toEqual({ kind: 'ids', ids: [A] });
    expect(planArtifactQuery({ key: { any_: ['a', 'b', 'c'] }, flow_run_id: { any_: [A] } })).toEqual({
      kind: 'flowRuns',
      ids: [A],
    });
  });
  test('under or_ a narrowing is used only when it is the single condition', () => {
    expect(planArtifactQuery({ operator: 'or_', key: { any_: ['k'] }, type: { any_: ['t'] } })).toEqual({ kind: 'sorted' });
    expect(planArtifactQuery({ operator: 'or_', key: { any_: ['k'] }, type: {} })).toEqual({ kind: 'sorted' });
    expect(planArtifactQuery({ operator: 'or_', key: { any_: ['k'] }, type: null })).toEqual({ kind: 'keys', keys: ['k'] });
  });
  test('an empty list narrows to nothing to read', () => {
    expect(planArtifactQuery({ id: { any_: [] } })).toEqual({ kind: 'ids', ids: [] });
  });
});

describe('planCollectionQuery', () => {
  test('keys are direct gets; run ids and types read the collections\' indexes; latest ids go through artifacts', () => {
    expect(planCollectionQuery({ key: { any_: ['k'] } })).toEqual({ kind: 'keys', keys: ['k'] });
    expect(planCollectionQuery({ latest_id: { any_: [A] } })).toEqual({ kind: 'ids', ids: [A] });
    expect(planCollectionQuery({ flow_run_id: { any_: [A] } })).toEqual({ kind: 'flowRuns', ids: [A] });
    expect(planCollectionQuery({ type: { any_: ['t', 't'] } })).toEqual({ kind: 'types', types: ['t'] });
    expect(planCollectionQuery({ key: { any_: ['k'] } }, undefined, NO_STATISTICS, ['a', 'b'])).toEqual({ kind: 'keys', keys: ['k'] });
    expect(planCollectionQuery({ key: { like_: 'a' } }, undefined, NO_STATISTICS, ['a', 'b'])).toEqual({ kind: 'keys', keys: ['a', 'b'] });
  });
});

describe('run filters resolved to id sets', () => {
  test('a small run-id set walks the run index; the smaller of two lists wins', () => {
    expect(planArtifactQuery(undefined, { flowRunIds: new Set([A]) })).toEqual({ kind: 'flowRuns', ids: new Set([A]) });
    expect(planArtifactQuery({ type: { not_any_: ['t'] } }, { taskRunIds: new Set([B]) })).toEqual({ kind: 'taskRuns', ids: new Set([B]) });
    expect(planArtifactQuery({ id: { any_: [A] } }, { flowRunIds: new Set([A, B]) })).toEqual({ kind: 'ids', ids: [A] });
  });
  test('run sets narrow even under or_, since they are ANDed with the artifact filter', () => {
    const filter = { operator: 'or_' as const, key: { any_: ['k'] }, type: { any_: ['t'] } };
    expect(planArtifactQuery(filter, { flowRunIds: new Set([A]) })).toEqual({ kind: 'flowRuns', ids: new Set([A]) });
  });
  const stats = (over: Partial<PlanContext>): PlanContext => ({
    total: 100_000,
    pageEnd: 10,
    perKey: 5,
    perFlowRun: 10,
    perTaskRun: 10,
    ...over,
  });
  test('a short page of a list that covers much of the table walks the sort index instead', () => {
    // 3,000 runs × 10 artifacts = 30,000 candidates; a walk finds 10 matches in ~33 rows.
    const many = new Set(Array.from({ length: 3000 }, (_, i) => `run-${i}`));
    expect(planArtifactQuery(undefined, { flowRunIds: many }, stats({}))).toEqual({ kind: 'sorted' });
    expect(planCollectionQuery(undefined, { flowRunIds: many }, stats({}))).toEqual({ kind: 'sorted' });
  });
  test('a walk chosen over a list carries the list and its cost, to read once the walk would cost more', () => {
    const many = new Set(Array.from({ length: 3000 }, (_, i) => `run-${i}`));
    // 30,000 candidates in 3,000 ranges: 3,000 × OPEN_RANGE + 30,000 × GET_ROW; the walk expects ≈ 33 rows.
    const chosen = planArtifacts(undefined, { flowRunIds: many }, stats({}));
    expect(chosen.path).toEqual({ kind: 'sorted' });
    expect(chosen.fallback?.listCost).toBe(3000 * OPEN_RANGE + 30_000 * GET_ROW);
    expect(chosen.fallback?.path()).toEqual({ kind: 'flowRuns', ids: many });
    // A list read directly, or no list at all, has no fallback.
    expect(planArtifacts(undefined, { flowRunIds: new Set(['run-1']) }, stats({})).fallback).toBeUndefined();
    expect(planArtifacts({ type: { not_any_: ['t'] } }, undefined, stats({})).fallback).toBeUndefined();
  });
  test('the same list is read directly for a count, or when it is small next to the walk', () => {
    const many = new Set(Array.from({ length: 3000 }, (_, i) => `run-${i}`));
    expect(planArtifactQuery(undefined, { flowRunIds: many }, stats({ pageEnd: Infinity })).kind).toBe('flowRuns');
    // A count scans instead when the list costs more than reading every row: 9,000 runs'
    // ranges and 90,000 random reads against 100,000 rows read in order.
    const most = new Set(Array.from({ length: 9000 }, (_, i) => `run-${i}`));
    expect(planArtifacts(undefined, { flowRunIds: most }, stats({ pageEnd: Infinity }))).toEqual({ path: { kind: 'sorted' } });
    const few = new Set(['run-1', 'run-2']);
    expect(planArtifactQuery(undefined, { flowRunIds: few }, stats({})).kind).toBe('flowRuns');
  });
  test('short run lists are measured in their index: runs without a record are not "the whole table"', () => {
    // No flow run records: the average says 100,000 artifacts per run, the index says 10.
    const counted: number[] = [];
    const measured = stats({
      perFlowRun: 100_000,
      countRunEntries: (kind, ids, cap) => {
        counted.push(cap);
        return kind === 'flowRuns' ? Math.min(cap, ids.length * 10) : cap;
      },
    });
    expect(planArtifactQuery({ flow_run_id: { any_: [A] } }, undefined, measured)).toEqual({ kind: 'flowRuns', ids: [A] });
    expect(planArtifactQuery(undefined, { flowRunIds: new Set([A]) }, measured)).toEqual({ kind: 'flowRuns', ids: new Set([A]) });
    // Counting stops at the break-even point, √(pageEnd × total / GET_ROW) + 1, where the walk wins.
    expect(counted).toEqual([708, 708]);
    expect(planArtifactQuery({ task_run_id: { any_: [B] } }, undefined, measured)).toEqual({ kind: 'sorted' });
    // Without the estimate's help the same query would have walked the table.
    expect(planArtifactQuery({ flow_run_id: { any_: [A] } }, undefined, stats({ perFlowRun: 100_000 }))).toEqual({ kind: 'sorted' });
  });
  test('type lists are measured in the type index up to the break-even point', () => {
    const caps: number[] = [];
    const measured = (rows: number) =>
      stats({
        countTypeEntries: (types, cap) => {
          caps.push(cap);
          return Math.min(cap, rows * types.length);
        },
      });
    // A rare type: 40 rows, far fewer than the ~700-row break-even of a 10-row page of 100,000.
    expect(planArtifactQuery({ type: { any_: ['image'] } }, undefined, measured(40))).toEqual({ kind: 'types', types: ['image'] });
    // A common one: counting stops at the break-even point, and the page walks the sort index.
    expect(planArtifactQuery({ type: { any_: ['markdown'] } }, undefined, measured(60_000))).toEqual({ kind: 'sorted' });
    expect(caps).toEqual([708, 708]);
    // A count reads the list unless its random reads cost more than reading every row in order.
    expect(planArtifactQuery({ type: { any_: ['markdown'] } }, undefined, { ...measured(40_000), pageEnd: Infinity }).kind).toBe('types');
    expect(planArtifactQuery({ type: { any_: ['markdown'] } }, undefined, { ...measured(60_000), pageEnd: Infinity }).kind).toBe('sorted');
  });
  test('rows per entry come from the statistics: a key with many versions is walked past', () => {
    expect(planArtifactQuery({ key: { any_: ['k'] } }, undefined, stats({ perKey: 5 })).kind).toBe('keys');
    expect(planArtifactQuery({ key: { any_: ['k'] } }, undefined, stats({ perKey: 50_000 })).kind).toBe('sorted');
  });
});

describe('keepWalking', () => {
  test('a walk goes on while its remaining rows, at the rate seen so far, cost less than the list', () => {
    // Never judged before MIN_WALK rows.
    expect(keepWalking(MIN_WALK, 0, 200, 1)).toBe(true);
    // 1,000 rows gave 99 of 199 matches (as if 100): 1,000 more rows to go for the last 100.
    expect(keepWalking(1000, 99, 199, 1000)).toBe(true);
    expect(keepWalking(1000, 99, 199, 999)).toBe(false);
    // No match yet counts as one: 1,000 rows per match, 200 × 1,000 rows to go.
    expect(keepWalking(1000, 0, 200, 200_000)).toBe(true);
    expect(keepWalking(1000, 0, 200, 199_999)).toBe(false);
  });
});
