/** Helpers for the layout-upgrade tests: a store made to look written by an older artifactd. */
import type { StoreDbs } from '../../src/store/env.ts';
import type { Store } from '../../src/store/store.ts';

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
