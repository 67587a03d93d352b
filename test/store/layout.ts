/** Helpers for the layout-upgrade tests: a fresh store per test, and a store made to look written by an older artifactd. */
import { afterEach, beforeEach } from 'bun:test';
import { rmSync } from 'node:fs';
import type { StoreDbs } from '../../src/store/env.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers.ts';

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
