import { describe, expect, test } from 'bun:test';
import { NO_STATISTICS, planArtifactQuery, planArtifacts, planCollectionQuery, type PlanContext } from '../../src/query/plan.ts';

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
    expect(planArtifactQuery(undefined, { flowRunIds: new Set([A]) })).toEqual({ kind: 'flowRuns', ids: [A] });
    expect(planArtifactQuery({ type: { not_any_: ['t'] } }, { taskRunIds: new Set([B]) })).toEqual({ kind: 'taskRuns', ids: [B] });
    expect(planArtifactQuery({ id: { any_: [A] } }, { flowRunIds: new Set([A, B]) })).toEqual({ kind: 'ids', ids: [A] });
  });
  test('run sets narrow even under or_, since they are ANDed with the artifact filter', () => {
    const filter = { operator: 'or_' as const, key: { any_: ['k'] }, type: { any_: ['t'] } };
    expect(planArtifactQuery(filter, { flowRunIds: new Set([A]) })).toEqual({ kind: 'flowRuns', ids: [A] });
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
  test('a walk chosen over a list carries the list, to read once the walk passes its budget', () => {
    const many = new Set(Array.from({ length: 3000 }, (_, i) => `run-${i}`));
    // 30,000 candidates; the walk expects 10 × 100,000 / 30,000 ≈ 33 rows: budget 4× that, at least 256.
    const chosen = planArtifacts(undefined, { flowRunIds: many }, stats({}));
    expect(chosen.path).toEqual({ kind: 'sorted' });
    expect(chosen.fallback?.walkBudget).toBe(256);
    expect(chosen.fallback?.path()).toEqual({ kind: 'flowRuns', ids: [...many] });
    expect(planArtifacts(undefined, { flowRunIds: many }, stats({ pageEnd: 200 })).fallback?.walkBudget).toBe(2667);
    // A list read directly, or no list at all, has no fallback.
    expect(planArtifacts(undefined, { flowRunIds: new Set(['run-1']) }, stats({})).fallback).toBeUndefined();
    expect(planArtifacts({ type: { not_any_: ['t'] } }, undefined, stats({})).fallback).toBeUndefined();
  });
  test('the same list is read directly for a count, or when it is small next to the walk', () => {
    const many = new Set(Array.from({ length: 3000 }, (_, i) => `run-${i}`));
    expect(planArtifactQuery(undefined, { flowRunIds: many }, stats({ pageEnd: Infinity })).kind).toBe('flowRuns');
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
    expect(planArtifactQuery(undefined, { flowRunIds: new Set([A]) }, measured)).toEqual({ kind: 'flowRuns', ids: [A] });
    // Counting stops at the break-even point, √(pageEnd × total) + 1, where the walk wins.
    expect(counted).toEqual([1001, 1001]);
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
    // A rare type: 40 rows, far fewer than the ~1,000-row break-even of a 10-row page of 100,000.
    expect(planArtifactQuery({ type: { any_: ['image'] } }, undefined, measured(40))).toEqual({ kind: 'types', types: ['image'] });
    // A common one: counting stops at the break-even point, and the page walks the sort index.
    expect(planArtifactQuery({ type: { any_: ['markdown'] } }, undefined, measured(60_000))).toEqual({ kind: 'sorted' });
    expect(caps).toEqual([1001, 1001]);
    // A count reads the list whatever its size.
    expect(planArtifactQuery({ type: { any_: ['markdown'] } }, undefined, { ...measured(60_000), pageEnd: Infinity }).kind).toBe('types');
  });
  test('rows per entry come from the statistics: a key with many versions is walked past', () => {
    expect(planArtifactQuery({ key: { any_: ['k'] } }, undefined, stats({ perKey: 5 })).kind).toBe('keys');
    expect(planArtifactQuery({ key: { any_: ['k'] } }, undefined, stats({ perKey: 50_000 })).kind).toBe('sorted');
  });
});
