/**
 * Shared by the PostgreSQL artifact tests: a fresh, migrated database per suite, and a
 * `PostgresArtifacts` on it — without the companion repositories, so these tests need only
 * the artifact side (and the schema).
 */
import { freshDatabase } from '../../postgres/cluster.ts';
import { Db, type DbOptions } from '../../../src/store/postgres/db.ts';
import { migrate } from '../../../src/store/postgres/migrations.ts';
import { PostgresArtifacts } from '../../../src/store/postgres/artifacts.ts';
import type { NewArtifact } from '../../../src/store/contract.ts';

export interface Fixture {
  url: string;
  db: Db;
  artifacts: PostgresArtifacts;
  /** Closes the pool and drops the database. */
  done(): Promise<void>;
}

export async function migratedDatabase(prefix: string, options: DbOptions = {}): Promise<Fixture> {
  const fresh = await freshDatabase(prefix);
  const db = new Db(fresh.url, options);
  await migrate(db);
  return {
    url: fresh.url,
    db,
    artifacts: new PostgresArtifacts(db),
    async done() {
      await db.close();
      await fresh.drop();
    },
  };
}

export function newArtifact(fields: Partial<NewArtifact> = {}): NewArtifact {
  return { key: null, type: null, description: null, data: 'null', metadata: null, flowRunId: null, taskRunId: null, ...fields };
}
