/**
 * Seeds a PostgreSQL database with exactly what an LMDB store (seeded by bench/seed.ts) holds, so
 * both backends serve the same records and the ratios compare like with like.
 *
 * The schema is the server's own (`PostgresStore.open` applies the migrations). Rows are written
 * straight into the tables in multi-row INSERTs (rows.ts `insertRows`, as `artifactd import`
 * writes them), with the values the server's writes give them: the run tables through
 * schema-runs.ts's `flowRow`/`flowRunRow`/… (the functions the repositories insert with),
 * artifacts and collections column for column from the records (rows.ts `artifactRow`) —
 * collections as LMDB keeps them, i.e. the newest version per key mirrored, which is what
 * `artifactd check` verifies on PostgreSQL too.
 *
 * For speed at 1M: the artifact tables' secondary indexes are dropped before the load and made
 * again after it from their own definitions (pg_indexes), the session writes with
 * `synchronous_commit = off` (the seed is not what is measured; a CHECKPOINT at the end makes it
 * durable anyway), then VACUUM ANALYZE (statistics and the visibility map, as a database that
 * autovacuum has seen would have).
 */
import { SQL } from 'bun';
import { LmdbStore } from '../src/store/lmdb/store.ts';
import { PostgresStore } from '../src/store/postgres/store.ts';
import { ARTIFACT_FIELDS, artifactRow } from '../src/store/postgres/artifact-rows.ts';
import { insertRows } from '../src/store/postgres/rows.ts';
import {
  DEPLOYMENT_COLUMNS,
  deploymentRow,
  FLOW_COLUMNS,
  FLOW_RUN_COLUMNS,
  flowRow,
  flowRunRow,
  TASK_RUN_COLUMNS,
  taskRunRow,
} from '../src/store/postgres/schema-runs.ts';
import type { CollectionRecord } from '../src/store/records.ts';

const COLLECTION_FIELDS = [...ARTIFACT_FIELDS, 'latest_id'] as const;
const collectionRow = (c: CollectionRecord): unknown[] => [...artifactRow(c), c.latestId];

export interface PgSeeded {
  seconds: number;
  rows: Record<string, number>;
  /** seconds spent making the dropped indexes again */
  indexSeconds: number;
  /** the database's size after the load (pg_database_size) */
  bytes: number;
}

/** Copies the LMDB store at `lmdbDir` into the (empty) database at `url`. */
export async function seedPostgresFromLmdb(lmdbDir: string, url: string, log = console.log): Promise<PgSeeded> {
  const started = performance.now();
  await (await PostgresStore.open(url)).close(); // the server's schema, by its migrations
  const sql = new SQL({ url, max: 3, prepare: false });
  const lmdb = LmdbStore.open(lmdbDir);
  const rows: Record<string, number> = {};
  try {
    await sql.unsafe('SET synchronous_commit = off');
    const indexes = (await sql.unsafe(
      `SELECT indexname, indexdef FROM pg_indexes
       WHERE schemaname = 'public' AND tablename IN ('artifact', 'artifact_collection')
         AND indexname NOT IN (SELECT conname FROM pg_constraint)`,
    )) as { indexname: string; indexdef: string }[];
    for (const ix of indexes) await sql.unsafe(`DROP INDEX "${ix.indexname}"`);

    /** Inserts `source` rows in statements of 2,000 rows, two statements in flight. */
    const load = async <T>(table: string, columns: readonly string[], source: Iterable<T>, toRow: (t: T) => unknown[]) => {
      const per = 2000;
      const t0 = performance.now();
      let count = 0;
      let batch: unknown[][] = [];
      const inFlight = new Set<Promise<unknown>>();
      // Each statement runs on its own pooled connection with synchronous_commit off.
      const send = async (chunk: unknown[][]) => {
        await sql.begin(async (tx) => {
          await tx.unsafe('SET LOCAL synchronous_commit = off');
          await insertRows(tx, table, columns, chunk);
        });
      };
      for (const item of source) {
        batch.push(toRow(item));
        count++;
        if (batch.length === per) {
          const p = send(batch).finally(() => inFlight.delete(p));
          inFlight.add(p);
          batch = [];
          if (inFlight.size >= 2) await Promise.race(inFlight);
        }
      }
      if (batch.length > 0) {
        const p = send(batch).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
      rows[table] = count;
      const s = (performance.now() - t0) / 1000;
      log(`  postgres ${table}: ${count.toLocaleString('en-US')} rows in ${s.toFixed(1)} s (${Math.round(count / Math.max(s, 1e-3)).toLocaleString('en-US')}/s)`);
    };
    const { dbs } = lmdb;
    const values = <T>(db: { getRange(): Iterable<{ value: T }> }) => ({
      *[Symbol.iterator]() {
        for (const { value } of db.getRange()) yield value;
      },
    });
    await load('flow', FLOW_COLUMNS, values(dbs.flows), flowRow);
    await load('deployment', DEPLOYMENT_COLUMNS, values(dbs.deployments), deploymentRow);
    // Sub-flow runs point at task runs (no foreign key), task runs at flow runs: this order works.
    await load('flow_run', FLOW_RUN_COLUMNS, values(dbs.flowRuns), flowRunRow);
    await load('task_run', TASK_RUN_COLUMNS, values(dbs.taskRuns), taskRunRow);
    await load('artifact_collection', COLLECTION_FIELDS, values(dbs.collections), collectionRow);
    await load('artifact', ARTIFACT_FIELDS, values(dbs.artifacts), artifactRow);

    const t0 = performance.now();
    await Promise.all(
      indexes.map((ix) =>
        sql.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL maintenance_work_mem = '256MB'`);
          await tx.unsafe(ix.indexdef);
        }),
      ),
    );
    const indexSeconds = (performance.now() - t0) / 1000;
    log(`  postgres: ${indexes.length} indexes made again in ${indexSeconds.toFixed(1)} s`);
    await sql.unsafe('VACUUM ANALYZE');
    await sql.unsafe('CHECKPOINT');
    const [{ bytes }] = await sql.unsafe('SELECT pg_database_size(current_database()) AS bytes');
    return { seconds: (performance.now() - started) / 1000, rows, indexSeconds, bytes: Number(bytes) };
  } finally {
    await lmdb.close();
    await sql.close({ timeout: 5 });
  }
}
