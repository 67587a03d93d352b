import { describe, expect, test } from 'bun:test';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { PostgresStore } from '../../../src/store/postgres/store.ts';
import { newArtifact } from './artifacts-helpers.ts';

const url = await testDatabaseUrl();

describe.skipIf(url === null)('PostgresStore', () => {
  test('opens (migrating), counts, checks, answers queries with run filters, closes', async () => {
    const fresh = await freshDatabase('store');
    const store = await PostgresStore.open(fresh.url, { max: 4, statementTimeoutMs: 5_000 });
    try {
      expect(store.backend).toBe('postgresql');
      expect((store as { direct?: unknown }).direct).toBeUndefined();
      expect(await store.isReadable()).toBe(true);
      const flowRunId = crypto.randomUUID();
      await store.artifacts.create(newArtifact({ key: 'a', flowRunId }));
      await store.artifacts.create(newArtifact({ key: 'a', flowRunId }));
      await store.artifacts.create(newArtifact({ type: 'table' }));
      expect(await store.counts()).toEqual({ artifacts: 3, collections: 1, flows: 0, flowRuns: 0, taskRuns: 0, deployments: 0, logs: 0, events: 0 });
      expect(await store.check()).toEqual([]);
      const queries = store.artifacts.queries({ timeoutMs: 5_000, handOffMs: null });
      expect(await queries.run({ route: 'count', values: { artifacts: { flow_run_id: { any_: [flowRunId] } } }, limit: 0 })).toBe(2);
      // Run filters are EXISTS conditions: no such flow run stored, so nothing matches.
      expect(await queries.run({ route: 'count', values: { flow_runs: { id: { any_: [flowRunId] } } }, limit: 0 })).toBe(0);
      expect(await queries.run({ route: 'latest/filter', values: { flow_runs: {} }, limit: 10 })).toEqual([]);
      expect(((await queries.run({ route: 'filter', values: {}, limit: 10 })) as string[]).length).toBe(3);
      await queries.close();
      // A collection that does not name its newest version is found.
      await store.db.unsafe(`UPDATE artifact_collection SET data = '"tampered"'`);
      expect(await store.check()).toEqual(['collections: key "a" does not mirror its latest version']);
    } finally {
      await store.close();
      await fresh.drop();
    }
  });

  test('a database that cannot be reached rejects open with StoreUnavailableError', async () => {
    const { StoreUnavailableError } = await import('../../../src/store/errors.ts');
    const dead = await PostgresStore.open('postgres://postgres@127.0.0.1:1/postgres', { connectTimeoutMs: 1000 }).catch((e) => e);
    expect(dead).toBeInstanceOf(StoreUnavailableError);
  });
});
