/**
 * Artifacts on PostgreSQL. Every write that touches a key's collection runs in one transaction
 * that first takes the key's advisory lock (db.ts `lockKey`): writers of one key — from any
 * number of artifactd processes — follow each other, so each reads the key's versions as the
 * previous one committed them (READ COMMITTED takes a fresh snapshot per statement, after the
 * lock). Rules, as LMDB's (lmdb/artifacts.ts):
 *
 * - a key's collection row names its newest version by (created, id) and mirrors its fields;
 * - a new version is always the newest of its key: its `created` is the database clock, or one
 *   µs past the key's newest version should the clock have stepped back (per key, created order
 *   is commit order, as LMDB's `nowMicros` in the write transaction gives);
 * - deleting the latest version hands the collection to the next newest — its fields and its own
 *   timestamps (Prefect's rule) — or removes it when none remains;
 * - a PATCH of the latest version is mirrored (the patched fields and `updated`).
 *
 * One key lock per transaction, except `deleteMany`, which takes its keys' locks in one sorted
 * statement: no two transactions wait on each other in a cycle. Keyless artifacts have no
 * collection and are written without a lock or an explicit transaction.
 *
 * Times come from the database's clock, so that instances on different machines agree.
 */
import type { ArtifactPatch, ArtifactQueries, ArtifactRepository, NewArtifact, Page, QuerySettings } from '../contract.ts';
import type { Sort } from '../../schemas/artifacts.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../schemas/filters.ts';
import { newId } from '../ids.ts';
import { storableKey } from '../index-keys.ts';
import { latestByKeyJson, type ArtifactRecord, type CollectionRecord } from '../records.ts';
import { toPgText } from './text.ts';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_COLUMNS_A,
  COLLECTION_COLUMNS,
  collectionRowJson,
  metadataText,
  rowJson,
  toCollection,
  toRecord,
  type ArtifactRow,
  type CollectionRow,
} from './artifact-rows.ts';
import { Db, LOCKS, lockKey, lockKeys, run, type Runner, type Tx } from './db.ts';
import { findArtifactsSql, findCollectionsSql, PostgresArtifactQueries } from './artifact-queries.ts';

/** The database clock in µs (numeric → bigint: exact). */
const NOW_US = `(extract(epoch FROM clock_timestamp()) * 1000000)::bigint`;

/** A keyless artifact: no collection, no lock. $1 id, $2–$7 type … task_run_id. */
const INSERT_KEYLESS = `
INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id)
SELECT $1, t, t, NULL, $2, $3, $4, $5, $6, $7 FROM (SELECT ${NOW_US} AS t) AS now
RETURNING created`;

/**
 * A keyed artifact, under its key's lock: inserted as the key's newest version, and its
 * collection created (id $9) or moved to it (keeping its own id and `created`).
 */
const INSERT_KEYED = `
WITH now AS (
  SELECT GREATEST(${NOW_US}, COALESCE((SELECT max(created) + 1 FROM artifact WHERE key = $2::text), 0)) AS t
), ins AS (
  INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id)
  SELECT $1, t, t, $2, $3, $4, $5, $6, $7, $8 FROM now
  RETURNING created
), col AS (
  INSERT INTO artifact_collection AS c (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
  SELECT $9, created, created, $2, $1, $3, $4, $5, $6, $7, $8 FROM ins
  ON CONFLICT (key) DO UPDATE SET
    updated = EXCLUDED.updated, latest_id = EXCLUDED.latest_id, type = EXCLUDED.type,
    description = EXCLUDED.description, data = EXCLUDED.data, metadata_ = EXCLUDED.metadata_,
    flow_run_id = EXCLUDED.flow_run_id, task_run_id = EXCLUDED.task_run_id
  RETURNING 1
)
SELECT created FROM ins, (SELECT count(*) FROM col) AS done`;

/**
 * Deletes artifact $2 of key $1 and, if it was the latest, hands the collection to the next
 * newest version (or removes it). Run under the key's lock. Answers the deleted row's id (none
 * when it was gone) and the key's latest id afterwards.
 */
const DELETE_KEYED = `
WITH del AS (
  DELETE FROM artifact WHERE id = $2 RETURNING id
), next AS (
  SELECT ${ARTIFACT_COLUMNS} FROM artifact WHERE key = $1::text AND id <> $2::text ORDER BY created DESC, id DESC LIMIT 1
), moved AS (
  UPDATE artifact_collection AS c SET
    latest_id = next.id, created = next.created, updated = next.updated, type = next.type,
    description = next.description, data = next.data, metadata_ = next.metadata_,
    flow_run_id = next.flow_run_id, task_run_id = next.task_run_id
  FROM next, del
  WHERE c.key = $1::text AND c.latest_id = $2::text
  RETURNING c.latest_id
), gone AS (
  DELETE FROM artifact_collection AS c USING del
  WHERE c.key = $1::text AND c.latest_id = $2::text AND NOT EXISTS (SELECT 1 FROM next)
  RETURNING 1
)
SELECT (SELECT id FROM del) AS deleted,
       COALESCE((SELECT latest_id FROM moved),
                CASE WHEN EXISTS (SELECT 1 FROM gone) THEN NULL
                     ELSE (SELECT latest_id FROM artifact_collection WHERE key = $1::text) END) AS latest`;

export class PostgresArtifacts implements ArtifactRepository {
  constructor(readonly db: Db) {}

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  async create(input: NewArtifact): Promise<ArtifactRecord> {
    const id = newId();
    const fields = [toPgText(input.type), toPgText(input.description), input.data, metadataText(input.metadata), input.flowRunId, input.taskRunId];
    let created: number;
    if (input.key === null) {
      const [row] = await this.db.unsafe<{ created: string }>(INSERT_KEYLESS, [id, ...fields]);
      created = Number(row.created);
    } else {
      const key = toPgText(input.key); // keys read back from rows below are in this form too
      created = await this.db.transaction(async (tx) => {
        await lockKey(tx, LOCKS.artifactKey, key);
        const [row] = await run<{ created: string }>(tx, INSERT_KEYED, [id, key, ...fields, newId()]);
        return Number(row.created);
      });
    }
    return { id, created, updated: created, ...input };
  }

  async update(id: string, patch: ArtifactPatch): Promise<boolean> {
    const [found] = await this.db.unsafe<{ key: string | null }>('SELECT key FROM artifact WHERE id = $1', [id]);
    if (!found) return false;
    const key = found.key;
    if (key === null) return await updateRow(this.db.sql, id, null, patch);
    return await this.db.transaction(async (tx) => {
      await lockKey(tx, LOCKS.artifactKey, key);
      return await updateRow(tx, id, key, patch);
    });
  }

  async delete(id: string): Promise<boolean> {
    const [found] = await this.db.unsafe<{ key: string | null }>('SELECT key FROM artifact WHERE id = $1', [id]);
    if (!found) return false;
    const key = found.key;
    if (key === null) {
      const rows = await this.db.unsafe('DELETE FROM artifact WHERE id = $1 RETURNING id', [id]);
      return rows.length > 0;
    }
    return await this.db.transaction(async (tx) => {
      await lockKey(tx, LOCKS.artifactKey, key);
      const [row] = await run<{ deleted: string | null }>(tx, DELETE_KEYED, [key, id]);
      return row?.deleted != null;
    });
  }

  async deleteMany(ids: readonly string[], spare?: (record: ArtifactRecord, isLatest: boolean) => boolean): Promise<ArtifactRecord[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    return await this.db.transaction(async (tx) => {
      // Keys never change: read them, lock them (sorted), then read the records under the locks.
      const keyed = await run<{ key: string }>(tx, 'SELECT DISTINCT key FROM artifact WHERE id = ANY($1::text[]) AND key IS NOT NULL', [unique]);
      await lockKeys(tx, LOCKS.artifactKey, keyed.map((r) => r.key));
      const rows = await run<ArtifactRow & { latest_id: string | null }>(
        tx,
        `SELECT ${ARTIFACT_COLUMNS_A}, c.latest_id
         FROM artifact a LEFT JOIN artifact_collection c ON c.key = a.key
         WHERE a.id = ANY($1::text[])`,
        [unique],
      );
      const records = new Map(rows.map((row) => [row.id, toRecord(row)]));
      /** Each key's latest version as this transaction has left it so far. */
      const latest = new Map<string, string | null>();
      for (const row of rows) if (row.key !== null) latest.set(row.key, row.latest_id);
      const deleted: ArtifactRecord[] = [];
      let plain: string[] = []; // deletions that move no collection, written in one statement
      const flush = async () => {
        if (plain.length > 0) await run(tx, 'DELETE FROM artifact WHERE id = ANY($1::text[])', [plain]);
        plain = [];
      };
      // In the order given, as LMDB: `spare` sees whether a record is latest after the deletions before it.
      for (const id of unique) {
        const record = records.get(id);
        if (!record) continue;
        const key = toPgText(record.key); // as `latest` and the rows hold it
        const isLatest = key !== null && latest.get(key) === id;
        if (spare && spare(record, isLatest)) continue;
        deleted.push(record);
        if (!isLatest) {
          plain.push(id);
          continue;
        }
        await flush(); // the next newest must be chosen among what remains
        const [row] = await run<{ latest: string | null }>(tx, DELETE_KEYED, [key, id]);
        latest.set(key!, row?.latest ?? null);
      }
      await flush();
      return deleted;
    });
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────

  async get(id: string): Promise<ArtifactRecord | undefined> {
    const row = await this.row(id);
    return row && toRecord(row);
  }

  async getJson(id: string): Promise<string | undefined> {
    const row = await this.row(id);
    return row && rowJson(row);
  }

  async latestByKey(key: string): Promise<CollectionRecord | undefined> {
    const row = await this.collectionRow(key);
    return row && toCollection(row);
  }

  async latestByKeyJson(key: string): Promise<string | undefined> {
    const row = await this.collectionRow(key);
    return row && latestByKeyJson(collectionRowJson(row));
  }

  private async row(id: string): Promise<ArtifactRow | undefined> {
    const [row] = await this.db.unsafe<ArtifactRow>(`SELECT ${ARTIFACT_COLUMNS} FROM artifact WHERE id = $1`, [id]);
    return row;
  }

  private async collectionRow(key: string): Promise<CollectionRow | undefined> {
    if (!storableKey(key)) return undefined;
    const [row] = await this.db.unsafe<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM artifact_collection WHERE key = $1`, [toPgText(key)]);
    return row;
  }

  async isLatest(record: ArtifactRecord): Promise<boolean> {
    if (record.key === null) return false;
    const rows = await this.db.unsafe('SELECT 1 FROM artifact_collection WHERE key = $1 AND latest_id = $2', [toPgText(record.key), record.id]);
    return rows.length > 0;
  }

  async createdBefore(cutoff: number, limit: number, after?: { created: number; id: string }): Promise<{ created: number; id: string }[]> {
    const rows = after
      ? await this.db.unsafe<{ id: string; created: string }>(
          'SELECT id, created FROM artifact WHERE created < $1 AND (created, id) > ($2::bigint, $3::text) ORDER BY created, id LIMIT $4',
          [cutoff, after.created, after.id, limit],
        )
      : await this.db.unsafe<{ id: string; created: string }>('SELECT id, created FROM artifact WHERE created < $1 ORDER BY created, id LIMIT $2', [
          cutoff,
          limit,
        ]);
    return rows.map((r) => ({ id: r.id, created: Number(r.created) }));
  }

  async findJson(filter: ArtifactFilter | null, sort: Sort, page: Page): Promise<string[]> {
    const statement = findArtifactsSql(filter, sort, page, null);
    if (statement === null) return [];
    const rows = await this.db.unsafe<ArtifactRow>(statement.text, statement.values);
    return rows.map(rowJson);
  }

  async findLatestJson(filter: ArtifactCollectionFilter | null, sort: Sort, page: Page): Promise<string[]> {
    const statement = findCollectionsSql(filter, sort, page, null);
    if (statement === null) return [];
    const rows = await this.db.unsafe<CollectionRow>(statement.text, statement.values);
    return rows.map(collectionRowJson);
  }

  queries(settings: QuerySettings): ArtifactQueries {
    return new PostgresArtifactQueries(this.db, settings);
  }
}

/** A PATCH: the artifact's fields and `updated`, and the same on its collection when it is the latest. */
async function updateRow(runner: Runner | Tx, id: string, key: string | null, patch: ArtifactPatch): Promise<boolean> {
  const values: unknown[] = [id];
  const sets: string[] = [];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (patch.data !== undefined) set('data', patch.data);
  if (patch.description !== undefined) set('description', toPgText(patch.description));
  if (patch.metadata !== undefined) set('metadata_', metadataText(patch.metadata));
  const assignments = ['updated = now.t', ...sets].join(', ');
  const text =
    key === null
      ? `UPDATE artifact SET ${assignments} FROM (SELECT ${NOW_US} AS t) AS now WHERE id = $1 RETURNING id`
      : `WITH now AS (SELECT ${NOW_US} AS t),
         upd AS (UPDATE artifact SET ${assignments} FROM now WHERE id = $1 RETURNING id, key),
         col AS (UPDATE artifact_collection SET ${assignments} FROM now, upd
                 WHERE artifact_collection.key = upd.key AND artifact_collection.latest_id = upd.id RETURNING 1)
         SELECT id FROM upd, (SELECT count(*) FROM col) AS done`;
  const rows = await run(runner, text, values);
  return rows.length > 0;
}
