/**
 * Layout version 8 (counters of flow runs per flow and per deployment): every write path keeps
 * them exact, `check` sees a wrong one, a store written before them gets them on open, and the
 * run filters through flows and deployments (which size their sets by them) answer the same.
 */
import { expect, test } from 'bun:test';
import { resolveRunSets, type RunFilters } from '../../../src/store/lmdb/query/runs.ts';
import { deploymentCounter, flowCounter, FLOW_RUN_OWNER_COUNTERS } from '../../../src/store/lmdb/rows.ts';
import type { LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { expectUpgradedOnOpen, storePerTest } from './layout.ts';

const t = storePerTest();

/** Flows, deployments and runs through creates, a delete and a flow's cascade. */
async function seed(s: Store) {
  const etl = (await s.flows.create({ name: 'etl' } as never)).record;
  const doomed = (await s.flows.create({ name: 'doomed' } as never)).record;
  const nightly = (await s.deployments.create({ name: 'nightly', flow_id: etl.id } as never)).record;
  const run = async (flowId: string, deploymentId: string | null) =>
    (await s.flowRuns.create({ flow_id: flowId, name: 'r', deployment_id: deploymentId, state: { type: 'COMPLETED' } } as never)).record;
  const a = await run(etl.id, nightly.id);
  const b = await run(etl.id, nightly.id);
  const c = await run(etl.id, null);
  await s.flowRuns.delete((await run(etl.id, nightly.id)).id);
  await run(doomed.id, null);
  await s.flows.delete(doomed.id); // cascades through its run
  return { etl, doomed, nightly, runs: [a, b, c] };
}

const counter = (s: Store, name: string) => s.dbs.counters.get(name) ?? 0;

function expectCounts(s: Store, seeded: Awaited<ReturnType<typeof seed>>) {
  const { etl, doomed, nightly, runs } = seeded;
  expect([counter(s, flowCounter(etl.id)), counter(s, flowCounter(doomed.id)), counter(s, deploymentCounter(nightly.id))]).toEqual([3, 0, 2]);
  const ids = (filters: object) => [...resolveRunSets(s, filters as RunFilters).flowRunIds!].sort();
  expect(ids({ flows: { name: { any_: ['etl'] } } })).toEqual(runs.map((r) => r.id).sort());
  expect(ids({ deployments: { id: { any_: [nightly.id] } } })).toEqual([runs[0].id, runs[1].id].sort());
  expect(ids({ flow_runs: { deployment_id: { any_: [nightly.id] } } })).toEqual([runs[0].id, runs[1].id].sort());
}

test('creates, deletes and cascades keep the runs per flow and per deployment exact', async () => {
  const store = t.store;
  const seeded = await seed(store);
  expect(store.check()).toEqual([]);
  expectCounts(store, seeded);
});

test('check reports a wrong counter, also one left for an owner without runs', async () => {
  const store = t.store;
  const { etl, doomed } = await seed(store);
  store.dbs.env.transactionSync(() => {
    store.dbs.counters.put(flowCounter(etl.id), 4);
    store.dbs.counters.put(flowCounter(doomed.id), 1);
  });
  const findings = store.check().join('\n');
  expect(findings).toContain(`counters: ${flowCounter(etl.id)} is 4, real count 3`);
  expect(findings).toContain(`counters: ${flowCounter(doomed.id)} is 1, real count 0`);
});

test('a store written at version 7 gets the counters on open; the step is idempotent', async () => {
  const store = t.store;
  const seeded = await seed(store);
  store.dbs.env.transactionSync(() => {
    for (const name of [flowCounter(seeded.etl.id), deploymentCounter(seeded.nightly.id)]) store.dbs.counters.remove(name);
    store.dbs.counters.put(flowCounter('00000000-0000-4000-8000-000000000000'), 9); // a stale one
    store.dbs.meta.put('schema', 7);
  });
  expect(store.check().length).toBeGreaterThan(0);
  await expectUpgradedOnOpen(t, FLOW_RUN_OWNER_COUNTERS, (s) => expectCounts(s, seeded));
});
