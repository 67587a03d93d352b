/**
 * `artifactd migrate`: brings a store to this build's schema and says where it stands. Every
 * start does the same (PostgreSQL under an advisory lock, so instances starting together apply
 * each migration once); the command lets an operator do it first, on its own, e.g. from a
 * deployment's pre-start job. A database migrated by a newer artifactd is refused.
 */
import { LAYOUT_VERSION } from '../store/lmdb/store.ts';
import { Db } from '../store/postgres/db.ts';
import { migrate } from '../store/postgres/migrations.ts';
import type { Command } from './command.ts';
import { openLocalStore } from './data-dir.ts';
import { print } from './print.ts';
import { databaseOf, storeOptions, storePlace } from './store-options.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: "Bring the store (PostgreSQL's schema, or LMDB's layout) up to this build's version.",
  options: {
    ...storeOptions('the store to migrate (created if missing)'),
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(values) {
    const database = databaseOf(values);
    if (database.databaseUrl === null) {
      await openLocalStore(values, { create: true }).close();
      const result = { backend: 'lmdb', version: LAYOUT_VERSION };
      await print(values.json ? JSON.stringify(result) : `${storePlace(values)}: LMDB layout version ${LAYOUT_VERSION}, up to date`);
      return 0;
    }
    const db = new Db(database.databaseUrl, { connectTimeoutMs: database.databaseConnectTimeoutMs, max: 1 });
    try {
      const { from, to, applied } = await migrate(db);
      if (values.json) await print(JSON.stringify({ backend: 'postgresql', from, to, applied }));
      else if (applied.length === 0) await print(`${storePlace(values)}: schema version ${to}, up to date`);
      else await print(`${storePlace(values)}: schema version ${from} → ${to} (applied ${applied.join(', ')})`);
      return 0;
    } finally {
      await db.close();
    }
  },
};

