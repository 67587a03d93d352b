/**
 * The schema's versions, compiled into the executable: migration N brings a database from
 * version N-1 to N. `artifactd_schema_migrations` records each applied version (the database's
 * version is the highest), and `migrate` applies the missing ones — in one transaction, under a
 * PostgreSQL advisory lock, so that ten instances starting at once apply them exactly once (the
 * others wait for the lock, then find nothing left to do). PostgreSQL's DDL is transactional: a
 * migration that fails leaves the database at its previous version.
 *
 * A database at a version newer than this binary knows was migrated by a newer artifactd; this
 * one refuses it (DatabaseTooNewError) rather than read or write a schema it does not know.
 */
import { Db, run } from './db.ts';
import { ARTIFACT_TABLES_SQL } from './schema-artifacts.ts';
import { COUNTER_SQL } from './schema-counters.ts';
import { LOG_EVENT_TABLES_SQL } from './schema-logs-events.ts';
import { RUN_TABLES_SQL } from './schema-runs.ts';

export interface Migration {
  version: number;
  /** What it adds, for logs and `artifactd migrate`. */
  adds: string;
  sql: string;
}

/** Every migration, oldest first; versions are 1, 2, 3, … without gaps. Never edit a released one: add the next. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    adds: 'artifacts and collections; flows, flow runs, task runs, deployments and CSRF tokens',
    sql: ARTIFACT_TABLES_SQL + '\n' + RUN_TABLES_SQL,
  },
  {
    version: 2,
    adds: 'row counters kept by triggers (exact counts without a scan), filled from the existing rows',
    sql: COUNTER_SQL,
  },
  {
    version: 3,
    adds: 'logs and events (with their resources), counted as the other tables',
    sql: LOG_EVENT_TABLES_SQL,
  },
];

/** The schema version this build reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The table that records applied versions. */
export const VERSION_TABLE = 'artifactd_schema_migrations';

/** The advisory lock (one-bigint form) held while migrating: 'artifact' in ASCII. */
export const MIGRATION_LOCK = 0x6172_7469_6661_6374n;

export class DatabaseTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly binaryVersion: number,
  ) {
    super(
      `the database's schema is at version ${databaseVersion}, newer than this artifactd knows ` +
        `(${binaryVersion}): it was migrated by a newer artifactd. Run that version (or newer), ` +
        `or point --database-url at another database.`,
    );
    this.name = 'DatabaseTooNewError';
  }
}

export interface MigrateResult {
  /** The database's version before. */
  from: number;
  /** Its version now (= SCHEMA_VERSION). */
  to: number;
  /** The versions this call applied (empty when another instance had, or nothing was due). */
  applied: number[];
}

/** The database's schema version (0 when artifactd never migrated it). */
export async function schemaVersion(db: Db): Promise<number> {
  const [exists] = await db.unsafe<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [VERSION_TABLE]);
  if (!exists?.t) return 0;
  const [row] = await db.unsafe<{ v: number | null }>(`SELECT max(version) AS v FROM ${VERSION_TABLE}`);
  return Number(row?.v ?? 0);
}

/**
 * Brings the database to SCHEMA_VERSION (`artifactd migrate`, and every start). A database
 * already there costs two reads and takes no lock; one newer is refused (DatabaseTooNewError).
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  const target = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  const seen = await schemaVersion(db);
  if (seen > target) throw new DatabaseTooNewError(seen, target);
  if (seen === target) return { from: seen, to: seen, applied: [] };
  return await db.transaction(async (tx) => {
    // A migration may run long (indexes on big tables): no pool statement timeout applies.
    await run(tx, `SELECT set_config('statement_timeout', '0', true)`);
    await run(tx, 'SELECT pg_advisory_xact_lock($1::int8)', [MIGRATION_LOCK.toString()]);
    await tx
      .unsafe(
        `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (
           version    integer PRIMARY KEY,
           adds       text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      )
      .simple();
    // Read again under the lock: another instance may have migrated while this one waited.
    const [row] = await run<{ v: number | null }>(tx, `SELECT max(version) AS v FROM ${VERSION_TABLE}`);
    const from = Number(row?.v ?? 0);
    if (from > target) throw new DatabaseTooNewError(from, target);
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      await tx.unsafe(migration.sql).simple();
      await run(tx, `INSERT INTO ${VERSION_TABLE} (version, adds) VALUES ($1, $2)`, [migration.version, migration.adds]);
      applied.push(migration.version);
    }
    return { from, to: target, applied };
  });
}
