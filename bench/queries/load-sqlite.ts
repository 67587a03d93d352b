/**
 * The SQLite side's data: the seeded LMDB store, exported by the built executable
 * (`artifactd export`, NDJSON, one record per line as the API returns it), inserted into a
 * `bun:sqlite` file created with Prefect 3.0.0's tables and indexes (prefect-3.0.0-sqlite.sql).
 * Values are stored the way Prefect's SQLAlchemy types store them on SQLite, so sizes, ordering
 * and comparisons match: ids as 36-character lower-case text, timestamps as naive UTC text
 * `YYYY-MM-DD HH:MM:SS.ffffff` (Prefect's `Timestamp` on `sqlite.DATETIME`), JSON columns as
 * Python `json.dumps` text (`", "` and `": "` separators, non-ASCII escaped), state types as the
 * enum's name, intervals as a datetime after the epoch, booleans as 0/1. A Python None in one of
 * the plain `sa.JSON` columns (artifact `data`, `metadata_`) is the JSON text `null`, as
 * SQLAlchemy writes it there; Prefect's own JSON type (tags, parameters…) writes SQL NULL.
 *
 * Rows go in in export order (ids are time-ordered, so that is creation order), in transactions
 * of 50,000 prepared inserts, with the pragmas Prefect sets on every connection (WAL,
 * synchronous NORMAL, cache_size 20000) except foreign keys, which are off while loading: the
 * run tables name state, work-queue and block tables this file does not create, and foreign keys
 * play no part in reads. `ANALYZE` runs at the end (Prefect never runs it; it can only help
 * SQLite's planner).
 */
import { Database } from 'bun:sqlite';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const SCHEMA_FILE = join(import.meta.dir, 'prefect-3.0.0-sqlite.sql');

/** The per-connection pragmas of Prefect 3.0.0's `setup_sqlite` (configurations.py), reads only. */
export function applyPrefectPragmas(db: Database): void {
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA cache_size = 20000');
  db.exec('PRAGMA busy_timeout = 60000');
}

/** Runs `artifactd export --data-dir DIR FILE`; the store must not be open for writing elsewhere. */
export async function exportStore(binary: string, dataDir: string, file: string): Promise<void> {
  const proc = Bun.spawn([binary, 'export', '--data-dir', dataDir, file], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  if (code !== 0) throw new Error(`artifactd export exited ${code}:\n${(out + err).trim()}`);
}

/** Python's `json.dumps` with default arguments: `", "` / `": "` separators, ASCII only. */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${asciiJson(k)}: ${pyJson(v)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string') return asciiJson(value);
  return JSON.stringify(value);
}

function asciiJson(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** ISO-8601 UTC (`…T12:00:00.123456Z`, fraction optional) → Prefect's SQLite text. */
export function sqliteTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:Z|\+00:00)$/.exec(iso);
  if (!m) throw new Error(`unexpected timestamp ${iso}`);
  return `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

/** An interval (seconds) as SQLAlchemy's `Interval` stores it on SQLite: a datetime after the epoch. */
function sqliteInterval(seconds: number | null | undefined): string {
  const iso = new Date(Math.round((seconds ?? 0) * 1000)).toISOString(); // ms precision is enough for zeros
  return sqliteTime(iso.replace(/\.(\d{3})Z$/, '.$1000Z'))!;
}

const bool = (b: unknown) => (b ? 1 : 0);
const json = (v: unknown) => (v === null || v === undefined ? null : pyJson(v)); // Prefect's JSON type: None → NULL
const saJson = (v: unknown) => pyJson(v ?? null); // plain sa.JSON: None → 'null'

type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Per export kind: the table, its columns, and the record's values in that order. */
const TABLES: Record<string, { table: string; columns: string[]; values: (r: Rec) => unknown[] }> = {
  flow: {
    table: 'flow',
    columns: ['id', 'created', 'updated', 'name', 'tags'],
    values: (r) => [r.id, sqliteTime(r.created), sqliteTime(r.updated), r.name, pyJson(r.tags ?? [])],
  },
  deployment: {
    table: 'deployment',
    columns: [
      'id', 'created', 'updated', 'name', 'tags', 'parameters', 'flow_id', 'description', 'parameter_openapi_schema', 'version',
      'infra_overrides', 'path', 'entrypoint', 'work_queue_name', 'created_by', 'updated_by', 'pull_steps',
      'enforce_parameter_schema', 'last_polled', 'paused', 'status', 'concurrency_limit',
    ],
    values: (r) => [
      r.id, sqliteTime(r.created), sqliteTime(r.updated), r.name, pyJson(r.tags ?? []), pyJson(r.parameters ?? {}), r.flow_id,
      r.description, json(r.parameter_openapi_schema), r.version, pyJson(r.job_variables ?? {}), r.path, r.entrypoint,
      r.work_queue_name, json(r.created_by), json(r.updated_by), json(r.pull_steps), bool(r.enforce_parameter_schema),
      sqliteTime(r.last_polled), bool(r.paused), r.status ?? 'NOT_READY', r.concurrency_limit,
    ],
  },
  flow_run: {
    table: 'flow_run',
    columns: [
      'id', 'created', 'updated', 'name', 'state_type', 'run_count', 'expected_start_time', 'next_scheduled_start_time',
      'start_time', 'end_time', 'total_run_time', 'flow_version', 'parameters', 'idempotency_key', 'context',
      'empirical_policy', 'tags', 'auto_scheduled', 'flow_id', 'deployment_id', 'parent_task_run_id', 'state_id',
      'state_name', 'infrastructure_document_id', 'work_queue_name', 'state_timestamp', 'created_by', 'infrastructure_pid',
      'work_queue_id', 'job_variables', 'deployment_version',
    ],
    values: (r) => [
      r.id, sqliteTime(r.created), sqliteTime(r.updated), r.name, r.state_type, r.run_count ?? 0,
      sqliteTime(r.expected_start_time), sqliteTime(r.next_scheduled_start_time), sqliteTime(r.start_time),
      sqliteTime(r.end_time), sqliteInterval(r.total_run_time), r.flow_version, pyJson(r.parameters ?? {}),
      r.idempotency_key, pyJson(r.context ?? {}), pyJson(r.empirical_policy ?? {}), pyJson(r.tags ?? []),
      bool(r.auto_scheduled), r.flow_id, r.deployment_id, r.parent_task_run_id, r.state_id, r.state_name,
      r.infrastructure_document_id, r.work_queue_name, sqliteTime(r.state?.timestamp), json(r.created_by),
      r.infrastructure_pid, r.work_queue_id, json(r.job_variables), r.deployment_version,
    ],
  },
  task_run: {
    table: 'task_run',
    columns: [
      'id', 'created', 'updated', 'name', 'state_type', 'run_count', 'expected_start_time', 'next_scheduled_start_time',
      'start_time', 'end_time', 'total_run_time', 'task_key', 'dynamic_key', 'cache_key', 'cache_expiration',
      'task_version', 'empirical_policy', 'task_inputs', 'tags', 'flow_run_id', 'state_id', 'state_name',
      'state_timestamp', 'flow_run_run_count',
    ],
    values: (r) => [
      r.id, sqliteTime(r.created), sqliteTime(r.updated), r.name, r.state_type, r.run_count ?? 0,
      sqliteTime(r.expected_start_time), sqliteTime(r.next_scheduled_start_time), sqliteTime(r.start_time),
      sqliteTime(r.end_time), sqliteInterval(r.total_run_time), r.task_key, r.dynamic_key, r.cache_key,
      sqliteTime(r.cache_expiration), r.task_version, pyJson(r.empirical_policy ?? {}), pyJson(r.task_inputs ?? {}),
      pyJson(r.tags ?? []), r.flow_run_id, r.state_id, r.state_name, sqliteTime(r.state?.timestamp), r.flow_run_run_count ?? 0,
    ],
  },
  collection: {
    table: 'artifact_collection',
    columns: ['id', 'created', 'updated', 'key', 'latest_id', 'task_run_id', 'flow_run_id', 'type', 'data', 'description', 'metadata_'],
    values: (r) => [
      r.id, sqliteTime(r.created), sqliteTime(r.updated), r.key, r.latest_id, r.task_run_id, r.flow_run_id, r.type,
      saJson(r.data), r.description, saJson(r.metadata_),
    ],
  },
  artifact: {
    table: 'artifact',
    columns: ['id', 'created', 'updated', 'key', 'type', 'data', 'metadata_', 'task_run_id', 'flow_run_id', 'description'],
    values: (r) => [
      r.id, sqliteTime(r.created), sqliteTime(r.updated), r.key, r.type, saJson(r.data), saJson(r.metadata_),
      r.task_run_id, r.flow_run_id, r.description,
    ],
  },
};

export interface Loaded {
  counts: Record<string, number>;
  seconds: number;
  bytes: number;
}

/** Lines of a (possibly large) text file, streamed. */
async function* lines(file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of Bun.file(file).stream()) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    let start = 0;
    while ((nl = rest.indexOf('\n', start)) !== -1) {
      yield rest.slice(start, nl);
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/** Creates `dbFile` with Prefect's schema and loads every record of the export `ndjson` into it. */
export async function loadSqlite(ndjson: string, dbFile: string): Promise<Loaded> {
  const started = performance.now();
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  const db = new Database(dbFile, { create: true });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA cache_size = 20000');
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec(readFileSync(SCHEMA_FILE, 'utf8'));
    const inserts = new Map(
      Object.entries(TABLES).map(([kind, t]) => [
        kind,
        { t, stmt: db.prepare(`INSERT INTO ${t.table} (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`) },
      ]),
    );
    const counts: Record<string, number> = {};
    let pending = 0;
    db.exec('BEGIN');
    for await (const line of lines(ndjson)) {
      if (!line.trim()) continue;
      const { kind, record } = JSON.parse(line) as { kind: string; record: Rec };
      if (kind === 'header') continue;
      const insert = inserts.get(kind);
      if (!insert) throw new Error(`export has a kind the loader does not know: ${kind}`);
      insert.stmt.run(...(insert.t.values(record) as never[]));
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (++pending === 50_000) {
        db.exec('COMMIT');
        db.exec('BEGIN');
        pending = 0;
      }
    }
    db.exec('COMMIT');
    db.exec('ANALYZE');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = (db.query('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()').get() as { b: number }).b;
    return { counts, seconds: (performance.now() - started) / 1000, bytes };
  } finally {
    db.close();
  }
}
