/**
 * The artifact tables (part of migration 1, migrations.ts).
 *
 * `artifact` holds every version; `artifact_collection` one row per key — its own id and
 * timestamps, the id of the key's newest version by (created, id), and that version's fields
 * mirrored (records.ts `CollectionRecord`), so the latest routes read one row per key.
 *
 * - Times are bigint µs since the epoch, as in the records (records.ts) and LMDB.
 * - `data` is the JSON text exactly as the client sent it, and `metadata_` JSON text or NULL:
 *   TEXT, never jsonb (jsonb would reorder keys and round numbers). A JSON text never holds a
 *   raw NUL (JSON escapes it as `\u0000`), so TEXT holds every payload byte for byte.
 * - Every text column is `COLLATE "C"`: comparisons and ORDER BY are byte order (UTF-8 byte
 *   order = code point order), as LMDB's index keys order them, independent of the server's locale.
 *
 * Indexes, by the route they serve:
 * - `artifact_key_created_id` (key NULLS FIRST, created, id): a key's versions newest first
 *   (latest, fall-back on delete, check), `key.any_`, and KEY_ASC (forwards) / KEY_DESC
 *   (backwards: key DESC NULLS LAST, created DESC, id DESC) — exactly order.ts's orders.
 * - primary key (id): ID_DESC, `id.any_`, get.
 * - (created, id), (updated, id): CREATED_DESC / UPDATED_DESC, retention (`createdBefore`).
 * - (flow_run_id, id), (task_run_id, id): the run filters and `flow_run_id.any_` in id order.
 * - (type, id): `type.any_`.
 * - collections: UNIQUE (key) (by key, KEY_* sorts), (created, id), (updated, id), latest_id,
 *   and their mirrored flow run, task run and type.
 */
export const ARTIFACT_TABLES_SQL = `
CREATE TABLE artifact (
  id          text COLLATE "C" PRIMARY KEY,
  created     bigint NOT NULL,
  updated     bigint NOT NULL,
  key         text COLLATE "C",
  type        text COLLATE "C",
  description text COLLATE "C",
  data        text COLLATE "C" NOT NULL,
  metadata_   text COLLATE "C",
  flow_run_id text COLLATE "C",
  task_run_id text COLLATE "C"
);
CREATE INDEX artifact_key_created_id ON artifact (key NULLS FIRST, created, id);
CREATE INDEX artifact_created_id ON artifact (created, id);
CREATE INDEX artifact_updated_id ON artifact (updated, id);
CREATE INDEX artifact_flow_run_id ON artifact (flow_run_id, id);
CREATE INDEX artifact_task_run_id ON artifact (task_run_id, id);
CREATE INDEX artifact_type_id ON artifact (type, id);

CREATE TABLE artifact_collection (
  id          text COLLATE "C" PRIMARY KEY,
  created     bigint NOT NULL,
  updated     bigint NOT NULL,
  key         text COLLATE "C" NOT NULL UNIQUE,
  latest_id   text COLLATE "C" NOT NULL UNIQUE,
  type        text COLLATE "C",
  description text COLLATE "C",
  data        text COLLATE "C" NOT NULL,
  metadata_   text COLLATE "C",
  flow_run_id text COLLATE "C",
  task_run_id text COLLATE "C"
);
CREATE INDEX artifact_collection_created_id ON artifact_collection (created, id);
CREATE INDEX artifact_collection_updated_id ON artifact_collection (updated, id);
CREATE INDEX artifact_collection_flow_run_id ON artifact_collection (flow_run_id, id);
CREATE INDEX artifact_collection_task_run_id ON artifact_collection (task_run_id, id);
CREATE INDEX artifact_collection_type_id ON artifact_collection (type, id);
`;
