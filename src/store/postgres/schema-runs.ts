/**
 * The tables of flows, flow runs, task runs, deployments and CSRF tokens (part of migration 1,
 * migrations.ts), and how a record becomes a row.
 *
 * - `record` is the whole record as `JSON.stringify` text (TEXT, never jsonb, which would reorder
 *   the keys of `parameters` and the like). Records are plain JSON values: strings (a lone
 *   surrogate is made well-formed at validation), finite numbers, booleans, null, arrays and
 *   objects; `-0` prints as `0`, as the replies print it anyway. JSON escapes NUL as `\u0000`,
 *   so the text always fits a PostgreSQL TEXT.
 * - Beside it, the columns filters, sorts and uniqueness read, copied from the record on every
 *   write. Times are bigint µs since the epoch, as in the records.
 * - Text columns are `COLLATE "C"` (byte comparison, ASCII-only `ILIKE` folding, whatever the
 *   server's locale). PostgreSQL text cannot hold NUL: such characters are stored as U+FFFD in
 *   these columns (`pgText`), and filter values are mapped alike — only a NUL and a U+FFFD
 *   compare equal there; the record keeps the exact string.
 * - `*_key` bytea columns are the UTF-16 code units (big-endian) of a name: byte order is then
 *   JavaScript's string order (LMDB's sorts), and equality exact, NUL included. Uniqueness is
 *   enforced on them: flow name, (flow, idempotency key), (flow run, task key, dynamic key) with
 *   a NULL flow run as '' (one per keys, as LMDB), (flow, deployment name). Several processes
 *   creating at once meet in these constraints (INSERT … ON CONFLICT) and resolve as one.
 * - Foreign keys cascade as Prefect's do: a flow's deployments and flow runs, a flow run's task
 *   runs. A sub-flow run's `parent_task_run_id` has no foreign key (imports may link it later);
 *   deleting a task run clears it in the record and the column (flow-runs.ts `detachSubflows`).
 *   A flow run's `deployment_id` is kept when its deployment goes (as LMDB).
 */
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../companion-records.ts';

export const RUN_TABLES_SQL = `
CREATE TABLE flow (
  id       text COLLATE "C" PRIMARY KEY,
  created  bigint NOT NULL,
  updated  bigint NOT NULL,
  name     text COLLATE "C" NOT NULL,
  name_key bytea NOT NULL UNIQUE,
  tags     text[] COLLATE "C" NOT NULL,
  record   text NOT NULL
);
CREATE INDEX flow_created_id ON flow (created, id);
CREATE INDEX flow_updated_id ON flow (updated, id);

CREATE TABLE deployment (
  id                text COLLATE "C" PRIMARY KEY,
  created           bigint NOT NULL,
  updated           bigint NOT NULL,
  flow_id           text COLLATE "C" NOT NULL REFERENCES flow (id) ON DELETE CASCADE,
  name              text COLLATE "C" NOT NULL,
  name_key          bytea NOT NULL,
  paused            boolean NOT NULL,
  tags              text[] COLLATE "C" NOT NULL,
  work_queue_name   text COLLATE "C",
  concurrency_limit double precision,
  record            text NOT NULL,
  UNIQUE (flow_id, name_key)
);
CREATE INDEX deployment_created_id ON deployment (created, id);
CREATE INDEX deployment_updated_id ON deployment (updated, id);

CREATE TABLE flow_run (
  id                        text COLLATE "C" PRIMARY KEY,
  created                   bigint NOT NULL,
  updated                   bigint NOT NULL,
  flow_id                   text COLLATE "C" NOT NULL REFERENCES flow (id) ON DELETE CASCADE,
  deployment_id             text COLLATE "C",
  parent_task_run_id        text COLLATE "C",
  name                      text COLLATE "C" NOT NULL,
  name_key                  bytea NOT NULL,
  tags                      text[] COLLATE "C" NOT NULL,
  work_queue_name           text COLLATE "C",
  flow_version              text COLLATE "C",
  idempotency_key           text COLLATE "C",
  idempotency_key_key       bytea,
  state_type                text COLLATE "C",
  state_name                text COLLATE "C",
  start_time                bigint,
  expected_start_time       bigint,
  next_scheduled_start_time bigint,
  end_time                  bigint,
  record                    text NOT NULL,
  UNIQUE (flow_id, idempotency_key_key)
);
CREATE INDEX flow_run_deployment_id ON flow_run (deployment_id);
CREATE INDEX flow_run_parent_task_run_id ON flow_run (parent_task_run_id);
CREATE INDEX flow_run_state_type ON flow_run (state_type);
CREATE INDEX flow_run_start_time ON flow_run (start_time);
CREATE INDEX flow_run_expected_start_time ON flow_run (expected_start_time);
CREATE INDEX flow_run_end_time ON flow_run (end_time);
CREATE INDEX flow_run_tags ON flow_run USING gin (tags);

CREATE TABLE task_run (
  id                  text COLLATE "C" PRIMARY KEY,
  created             bigint NOT NULL,
  updated             bigint NOT NULL,
  flow_run_id         text COLLATE "C" REFERENCES flow_run (id) ON DELETE CASCADE,
  task_key_key        bytea NOT NULL,
  dynamic_key_key     bytea NOT NULL,
  name                text COLLATE "C" NOT NULL,
  name_key            bytea NOT NULL,
  tags                text[] COLLATE "C" NOT NULL,
  state_type          text COLLATE "C",
  state_name          text COLLATE "C",
  start_time          bigint,
  expected_start_time bigint,
  next_scheduled_start_time bigint,
  end_time            bigint,
  record              text NOT NULL
);
CREATE UNIQUE INDEX task_run_keys ON task_run ((COALESCE(flow_run_id, '')), task_key_key, dynamic_key_key);
CREATE INDEX task_run_flow_run_id ON task_run (flow_run_id);
CREATE INDEX task_run_state_type ON task_run (state_type);
CREATE INDEX task_run_tags ON task_run USING gin (tags);

CREATE TABLE csrf_token (
  client     text COLLATE "C" PRIMARY KEY,
  id         text COLLATE "C" NOT NULL,
  created    bigint NOT NULL,
  updated    bigint NOT NULL,
  token      text COLLATE "C" NOT NULL,
  expiration bigint NOT NULL
);
CREATE INDEX csrf_token_expiration ON csrf_token (expiration);
`;

/** A string as the text columns hold it: NUL, which PostgreSQL text cannot hold, as U+FFFD. */
export const pgText = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);
const pgTextOrNull = (s: string | null): string | null => (s === null ? null : pgText(s));
export const pgTexts = (list: readonly string[]): string[] => list.map(pgText);

/** The UTF-16 code units of `s`, big-endian: byte order is JavaScript's string order. */
export function codeUnits(s: string): Buffer {
  const buffer = Buffer.from(s, 'utf16le');
  return buffer.swap16();
}

/** A bigint column's value (µs); null stays null. */
const micros = (t: number | null) => (t === null ? null : String(t));

/** The columns of each table, in insert order, and the values a record gives them. */
export const FLOW_COLUMNS = ['id', 'created', 'updated', 'name', 'name_key', 'tags', 'record'] as const;
export const flowRow = (f: FlowRecord): unknown[] => [f.id, micros(f.created), micros(f.updated), pgText(f.name), codeUnits(f.name), pgTexts(f.tags), JSON.stringify(f)];

export const DEPLOYMENT_COLUMNS = [
  'id', 'created', 'updated', 'flow_id', 'name', 'name_key', 'paused', 'tags', 'work_queue_name', 'concurrency_limit', 'record',
] as const;
export const deploymentRow = (d: DeploymentRecord): unknown[] => [
  d.id,
  micros(d.created),
  micros(d.updated),
  d.flow_id,
  pgText(d.name),
  codeUnits(d.name),
  d.paused,
  pgTexts(d.tags),
  pgTextOrNull(d.work_queue_name),
  d.concurrency_limit,
  JSON.stringify(d),
];

export const FLOW_RUN_COLUMNS = [
  'id', 'created', 'updated', 'flow_id', 'deployment_id', 'parent_task_run_id', 'name', 'name_key', 'tags', 'work_queue_name',
  'flow_version', 'idempotency_key', 'idempotency_key_key', 'state_type', 'state_name', 'start_time', 'expected_start_time',
  'next_scheduled_start_time', 'end_time', 'record',
] as const;
export const flowRunRow = (r: FlowRunRecord): unknown[] => [
  r.id,
  micros(r.created),
  micros(r.updated),
  r.flow_id,
  r.deployment_id,
  r.parent_task_run_id,
  pgText(r.name),
  codeUnits(r.name),
  pgTexts(r.tags),
  pgTextOrNull(r.work_queue_name),
  pgTextOrNull(r.flow_version),
  pgTextOrNull(r.idempotency_key),
  r.idempotency_key === null ? null : codeUnits(r.idempotency_key),
  r.state_type,
  pgTextOrNull(r.state_name),
  micros(r.start_time),
  micros(r.expected_start_time),
  micros(r.next_scheduled_start_time),
  micros(r.end_time),
  JSON.stringify(r),
];

export const TASK_RUN_COLUMNS = [
  'id', 'created', 'updated', 'flow_run_id', 'task_key_key', 'dynamic_key_key', 'name', 'name_key', 'tags', 'state_type',
  'state_name', 'start_time', 'expected_start_time', 'next_scheduled_start_time', 'end_time', 'record',
] as const;
export const taskRunRow = (t: TaskRunRecord): unknown[] => [
  t.id,
  micros(t.created),
  micros(t.updated),
  t.flow_run_id,
  codeUnits(t.task_key),
  codeUnits(t.dynamic_key),
  pgText(t.name),
  codeUnits(t.name),
  pgTexts(t.tags),
  t.state_type,
  pgTextOrNull(t.state_name),
  micros(t.start_time),
  micros(t.expected_start_time),
  micros(t.next_scheduled_start_time),
  micros(t.end_time),
  JSON.stringify(t),
];

/**
 * Each column's type where it is not text, by column name (any table): the casts of the
 * parameters that need one (bigint, arrays, bytea, …), here and in rows.ts's multi-row writes.
 */
export const COLUMN_TYPES: Record<string, string> = {
  created: 'bigint',
  updated: 'bigint',
  start_time: 'bigint',
  expected_start_time: 'bigint',
  next_scheduled_start_time: 'bigint',
  end_time: 'bigint',
  tags: 'text[]',
  name_key: 'bytea',
  idempotency_key_key: 'bytea',
  task_key_key: 'bytea',
  dynamic_key_key: 'bytea',
  concurrency_limit: 'float8',
  paused: 'boolean',
};

/** `INSERT INTO table (columns) VALUES ($1, …)` for one row. */
export function insertSql(table: string, columns: readonly string[]): string {
  const values = columns.map((c, i) => (COLUMN_TYPES[c] ? `$${i + 1}::${COLUMN_TYPES[c]}` : `$${i + 1}`));
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')})`;
}

/** `UPDATE table SET column = $n, … WHERE id = $1` for one row (its id first in `columns`). */
export function updateSql(table: string, columns: readonly string[]): string {
  const sets = columns.slice(1).map((c, i) => `${c} = $${i + 2}${COLUMN_TYPES[c] ? `::${COLUMN_TYPES[c]}` : ''}`);
  return `UPDATE ${table} SET ${sets.join(', ')} WHERE id = $1`;
}
