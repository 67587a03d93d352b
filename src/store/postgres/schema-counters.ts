/**
 * Row counters (migration 2, migrations.ts; logs and events since migration 3): exact counts of
 * the counted tables without a scan, for `count {}`, `latest/count {}` and `counts()` (/metrics,
 * `artifactd check`).
 *
 * `artifactd_counter (name, shard, n)`: a table's count (name = the table's name) is the sum of
 * its rows. Shard 0 is the base (the migration's count of the rows already there, and what
 * compaction folds in); every other shard is one database backend — `pg_backend_pid()` — and only
 * that backend writes it. A statement-level AFTER INSERT / AFTER DELETE trigger counts the
 * statement's rows (its transition table: the import's multi-row INSERT is one update; an INSERT
 * … ON CONFLICT DO UPDATE counts only the rows it inserted; cascaded deletes fire it too) and adds
 * them to its backend's row, in the writing transaction. Every writer counts: any artifactd
 * instance, an older binary still running, psql.
 *
 * A backend runs one transaction at a time, so no two writers ever update the same counter row:
 * no hot row, no lock wait on a counter, hence no deadlock with the key and row locks writers
 * take (two retention runs deleting the same rows, say) — which a row shared by several backends
 * would risk, its lock held from the first statement to the commit. Readers sum one snapshot's
 * rows: exact at that snapshot, since a counter moves in the transaction that writes the rows.
 *
 * Backends come and go (pool replacements, restarts), leaving rows behind: `artifactd_counter_
 * compact()` folds the rows of backends no longer in pg_stat_activity into shard 0 (one compactor
 * at a time, a live backend's row untouched, SKIP LOCKED); every PostgresStore.open calls it.
 *
 * TRUNCATE sets the table's counters to 0 (an AFTER TRUNCATE trigger; TRUNCATE holds the table's
 * ACCESS EXCLUSIVE lock, so no open transaction has counted rows of it). Not covered:
 * `session_replication_role = replica` (no triggers fire). `artifactd check` compares every
 * table's counters with its count(*) and reports a drift.
 *
 * Per-type counts (`type.any_`) are not kept: types are open-ended, so it would need a GROUP BY
 * over every statement's rows and a row per type and backend; those counts use the (type, id)
 * index instead.
 */

/** The shard of the base counts (no backend has pid 0). */
export const BASE_SHARD = 0;

/** The advisory lock (one-bigint form) of the compaction: one compactor at a time. 'counters' in ASCII. */
export const COMPACT_LOCK = 0x636f_756e_7465_7273n;

/** The tables migration 2 counts (its SQL is released: this list never changes). */
const MIGRATION_2_TABLES = ['artifact', 'artifact_collection', 'deployment', 'flow', 'flow_run', 'task_run'] as const;

/** Every counted table, in name order: migration 2's, and `event` and `log` (migration 3, schema-logs-events.ts). */
export const COUNTED_TABLES = ['artifact', 'artifact_collection', 'deployment', 'event', 'flow', 'flow_run', 'log', 'task_run'] as const;
export type CountedTable = (typeof COUNTED_TABLES)[number];

/** A table's exact row count from its counters (no parameters: `name` is one of COUNTED_TABLES). */
export const counterSql = (table: CountedTable): string =>
  `SELECT COALESCE(sum(n), 0) AS n FROM artifactd_counter WHERE name = '${table}'`;

/** A table's three counting triggers (migration 2 for its tables, migration 3 for logs and events). */
export const counterTriggersSql = (table: CountedTable) => `
CREATE TRIGGER artifactd_count_insert AFTER INSERT ON ${table}
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION artifactd_count_rows();
CREATE TRIGGER artifactd_count_delete AFTER DELETE ON ${table}
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION artifactd_count_rows();
CREATE TRIGGER artifactd_count_truncate AFTER TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION artifactd_count_truncated();
`;

/** A table's base row: the count of the rows it holds when its counting starts. */
export const baseCountSql = (table: CountedTable) => `INSERT INTO artifactd_counter (name, shard, n) SELECT '${table}', ${BASE_SHARD}, count(*) FROM ${table};`;

export const COUNTER_SQL = `
-- Writers of the tables wait until this migration commits: the counts below are then exact.
LOCK TABLE flow, deployment, flow_run, task_run, artifact, artifact_collection IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE artifactd_counter (
  name  text COLLATE "C" NOT NULL,
  shard integer NOT NULL,
  n     bigint NOT NULL,
  PRIMARY KEY (name, shard)
);

-- Adds the statement's rows (transition table "changed") to this backend's counter of the table.
CREATE FUNCTION artifactd_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d bigint;
  s integer := pg_backend_pid();
BEGIN
  SELECT count(*) INTO d FROM changed;
  IF d = 0 THEN RETURN NULL; END IF;
  IF TG_OP = 'DELETE' THEN d := -d; END IF;
  UPDATE artifactd_counter SET n = n + d WHERE name = TG_TABLE_NAME AND shard = s;
  IF NOT FOUND THEN
    INSERT INTO artifactd_counter (name, shard, n) VALUES (TG_TABLE_NAME, s, d)
    ON CONFLICT (name, shard) DO UPDATE SET n = artifactd_counter.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;

-- Waits for a running compaction (which never waits for it): the two touch the same rows.
CREATE FUNCTION artifactd_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(${COMPACT_LOCK});
  UPDATE artifactd_counter SET n = 0 WHERE name = TG_TABLE_NAME;
  RETURN NULL;
END $$;

-- Folds the rows of backends that are gone into shard ${BASE_SHARD}; answers how many rows it folded.
CREATE FUNCTION artifactd_counter_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  folded bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(${COMPACT_LOCK}) THEN RETURN 0; END IF;
  WITH gone AS (
    DELETE FROM artifactd_counter c
    WHERE (c.name, c.shard) IN (
      SELECT name, shard FROM artifactd_counter
      WHERE shard <> ${BASE_SHARD} AND shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
      FOR UPDATE SKIP LOCKED)
    RETURNING c.name, c.n
  ), moved AS (
    INSERT INTO artifactd_counter (name, shard, n)
    SELECT name, ${BASE_SHARD}, sum(n) FROM gone GROUP BY name
    ON CONFLICT (name, shard) DO UPDATE SET n = artifactd_counter.n + EXCLUDED.n
  )
  SELECT count(*) INTO folded FROM gone;
  RETURN folded;
END $$;
${MIGRATION_2_TABLES.map(counterTriggersSql).join('')}
${MIGRATION_2_TABLES.map(baseCountSql).join('\n')}
`;
