/** Helpers for the layout-upgrade tests: a fresh store per test, and a store made to look written by an older artifactd. */
import { afterEach, beforeEach, expect } from 'bun:test';
import { rmSync } from 'node:fs';
import type { StoreDbs } from '../../../src/store/lmdb/env.ts';
import { LAYOUT_VERSION, LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { storeVersion, type UpgradeStep } from '../../../src/store/lmdb/upgrade.ts';
import { tempDir } from '../../helpers.ts';

/** A store in a new temporary directory for each test, closed and removed after it. */
export function storePerTest() {
  const current = {
    dir: '',
    store: undefined as unknown as Store,
    /** Closes the store and opens it again (what a restart of the server does: upgrades run). */
    async reopen(): Promise<Store> {
      await current.store.close();
      current.store = Store.open(current.dir);
      return current.store;
    },
  };
  beforeEach(() => {
    current.dir = tempDir();
    current.store = Store.open(current.dir);
  });
  afterEach(async () => {
    await current.store.close();
    rmSync(current.dir, { recursive: true, force: true });
  });
  return current;
}

/** Empties `dbs` (what a later layout added) and stamps the store with layout `version`. */
export function asWrittenAt(store: Store, version: number, dbs: readonly (keyof StoreDbs)[]): void {
  store.dbs.env.transactionSync(() => {
    for (const name of dbs) {
      const db = store.dbs[name] as StoreDbs['artifactsByType'];
      for (const key of [...db.getKeys({})]) db.remove(key);
    }
    store.dbs.meta.put('schema', version);
  });
}

/**
 * Reopens the store of a test (its upgrade steps run) and expects it brought to the newest
 * layout, sound (`check`) and answering as `expectAnswers` says; then runs `step` again over the
 * result and expects the same (every step is idempotent).
 */
export async function expectUpgradedOnOpen(current: ReturnType<typeof storePerTest>, step: UpgradeStep, expectAnswers: (store: Store) => void): Promise<void> {
  const store = await current.reopen();
  expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
  expect(LAYOUT_VERSION).toBeGreaterThanOrEqual(step.version);
  expect(store.check()).toEqual([]);
  expectAnswers(store);
  store.dbs.env.transactionSync(() => step.build(store.dbs));
  expect(store.check()).toEqual([]);
  expectAnswers(store);
}
