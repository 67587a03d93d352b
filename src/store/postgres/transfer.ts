/**
 * Export and import of a whole PostgreSQL store (`artifactd export` / `import --database-url`),
 * behaving as LMDB's (../lmdb/transfer.ts) does: the same lines for the same data, the same
 * outcome per imported line.
 *
 * Export reads one REPEATABLE READ, READ ONLY transaction on a reserved connection, so writers
 * (any number of artifactd instances) may go on meanwhile and the file is still one consistent
 * moment. Logs and events are read and imported by transfer-logs-events.ts.
 * Each table is read in keyset pages in LMDB's order (records by id, collections by key),
 * the next page fetched while the current one is rendered; never a whole table in memory.
 *
 * Import writes each batch in one transaction, set-wise: per run of same-kind lines, one query
 * finds what the store already holds (ids, names, keys), the decisions are taken in line order
 * (as LMDB's Importer takes them, earlier lines of the batch included), and the new rows go in
 * with one multi-row INSERT (rows.ts, `json_to_recordset`). Artifact keys' advisory locks (db.ts) are taken
 * first, all of the batch's keys in one sorted statement, so collections stay right beside a
 * running server. A batch that fails unexpectedly is rolled back and split in halves, down to the
 * one line that fails: a broken record costs only its own line.
 */
import {
  deploymentJson,
  flowJson,
  flowRunJson,
  taskRunJson,
  type DeploymentRecord,
  type FlowRecord,
  type FlowRunRecord,
  type TaskRunRecord,
} from '../companion-records.ts';
import type { ExportSnapshot, ImportSession, Numbered, Outcome, Transfer } from '../contract.ts';
import { StoreUnavailableError } from '../errors.ts';
import { newId } from '../ids.ts';
import { artifactJson, type ArtifactRecord } from '../records.ts';
import { headerLine, recordLine, type Counts, type Item, type Kind } from '../../transfer/format.ts';
import { ARTIFACT_COLUMNS, ARTIFACT_FIELDS, artifactRow, COLLECTION_COLUMNS, collectionRowJson, metadataText, rowJson, type ArtifactRow, type CollectionRow } from './artifact-rows.ts';
import { LOCKS, lockKeys, run, translated, type Db, type Tx } from './db.ts';
import { insertRows, payload, recordset } from './rows.ts';
import { EVENT_SOURCE, importEvents, importLogs, LOG_SOURCE } from './transfer-logs-events.ts';
import { fromPgText, toPgText } from './text.ts';
import {
  codeUnits,
  DEPLOYMENT_COLUMNS,
  deploymentRow,
  FLOW_COLUMNS,
  FLOW_RUN_COLUMNS,
  flowRow,
  flowRunRow,
  TASK_RUN_COLUMNS,
  taskRunRow,
} from './schema-runs.ts';

/** No "now" for run JSON in exports and comparisons: the estimates that depend on it are left out. */
const WITHOUT_ESTIMATES = null;

export function postgresTransfer(db: Db): Transfer {
  return {
    openExport: (now?: Date) => openExport(db, now),
    importer: () => new PostgresImporter(db),
  };
}

// ── export ─────────────────────────────────────────────────────────────────────────────────

/** Rows per page of an export read. */
const PAGE = 2000;

type Row = Record<string, unknown>;

interface Source {
  kind: Kind;
  table: string;
  columns: string;
  /** The column pages are ordered and continued by (unique): LMDB's key of the kind. */
  order: 'id' | 'key';
  render(row: Row): string;
}

const parsed = <T>(row: Row) => JSON.parse(row.record as string) as T;

/** In the order an export writes them (format.ts KINDS). */
const SOURCES: Source[] = [
  { kind: 'flow', table: 'flow', columns: 'id, record', order: 'id', render: (row) => flowJson(parsed<FlowRecord>(row)) },
  { kind: 'deployment', table: 'deployment', columns: 'id, record', order: 'id', render: (row) => deploymentJson(parsed<DeploymentRecord>(row)) },
  { kind: 'flow_run', table: 'flow_run', columns: 'id, record', order: 'id', render: (row) => flowRunJson(parsed<FlowRunRecord>(row), WITHOUT_ESTIMATES) },
  { kind: 'task_run', table: 'task_run', columns: 'id, record', order: 'id', render: (row) => taskRunJson(parsed<TaskRunRecord>(row), WITHOUT_ESTIMATES) },
  { kind: 'collection', table: 'artifact_collection', columns: COLLECTION_COLUMNS, order: 'key', render: (row) => collectionRowJson(row as unknown as CollectionRow) },
  { kind: 'artifact', table: 'artifact', columns: ARTIFACT_COLUMNS, order: 'id', render: (row) => rowJson(row as unknown as ArtifactRow) },
  LOG_SOURCE,
  EVENT_SOURCE,
];

export async function openExport(db: Db, now = new Date()): Promise<ExportSnapshot> {
  let connection: Awaited<ReturnType<Db['sql']['reserve']>>;
  try {
    connection = await db.sql.reserve();
  } catch (error) {
    return translated(error);
  }
  const query = async (text: string, values: unknown[] = []): Promise<Row[]> => {
    try {
      return (await connection.unsafe(text, values)) as unknown as Row[];
    } catch (error) {
      return translated(error);
    }
  };
  let open = true;
  const done = async () => {
    if (!open) return;
    open = false;
    try {
      await connection.unsafe('ROLLBACK'); // read only: nothing to commit
    } catch {
      // the connection is gone; releasing it is all that is left
    } finally {
      connection.release();
    }
  };
  let counts: Counts;
  try {
    await query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    // The first statement takes the snapshot every page below reads.
    const [row] = await query(`SELECT ${SOURCES.map((s) => `(SELECT count(*) FROM ${s.table}) AS ${s.kind}`).join(', ')}`);
    counts = Object.fromEntries(SOURCES.map((s) => [s.kind, Number(row[s.kind])])) as Counts;
  } catch (error) {
    await done();
    throw error;
  }

  const page = (source: Source, after: string | null): Promise<Row[]> => {
    const { table, columns, order } = source;
    return after === null
      ? query(`SELECT ${columns} FROM ${table} ORDER BY ${order} LIMIT ${PAGE}`)
      : query(`SELECT ${columns} FROM ${table} WHERE ${order} > $1 ORDER BY ${order} LIMIT ${PAGE}`, [after]);
  };

  async function* lines(): AsyncGenerator<string> {
    yield headerLine(counts, now);
    for (const source of SOURCES) {
      let next: Promise<Row[]> | null = page(source, null);
      while (next !== null) {
        const rows: Row[] = await next;
        // The next page is on its way while this one is rendered (one connection: in order).
        next = rows.length === PAGE ? page(source, rows[rows.length - 1][source.order] as string) : null;
        next?.catch(() => {}); // awaited on the next turn; never an unhandled rejection meanwhile
        for (const row of rows) yield recordLine(source.kind, source.render(row));
      }
    }
  }
  return { counts, lines: lines(), done };
}

// ── import ─────────────────────────────────────────────────────────────────────────────────

interface Identity {
  id: string;
  created: number;
}

interface PendingParent {
  line: number;
  runId: string;
  parentId: string;
}

/** What a batch changes in the importer's memory, applied only once its transaction commits. */
interface Effects {
  usedIdentities: string[];
  newIdentities: Map<string, Identity>;
  pending: PendingParent[];
}

/** A collection's columns that follow its latest version. */
const MIRRORED = ['updated', 'latest_id', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id'] as const;

const same = (a: string, b: string): Outcome => (a === b ? 'unchanged' : 'kept');
const hex = (s: string) => codeUnits(s).toString('hex');
const ids = (segment: Numbered[]) => segment.map(({ item }) => item.record.id);
const recordsOf = <T>(segment: Numbered[]) => segment.map(({ item }) => item.record as unknown as T);

/** State carried between the batches of one import: collection identities, deferred parents. */
export class PostgresImporter implements ImportSession {
  /** Collection id and `created` per key, from collection lines, until the key's collection is made. */
  private readonly identities = new Map<string, Identity>();
  /** Sub-flow runs written before their parent task run (task runs come after flow runs). */
  private readonly pending: PendingParent[] = [];

  constructor(private readonly db: Db) {}

  /**
   * Writes one batch in one transaction; resolves to one outcome per item. If the batch fails
   * unexpectedly it is rolled back and written again in halves, down to single lines, so one
   * broken record costs only its own line. An unreachable database fails the import instead.
   */
  async write(batch: Numbered[]): Promise<Outcome[]> {
    if (batch.length === 0) return [];
    try {
      const { outcomes, effects } = await this.db.transaction((tx) => this.apply(tx, batch));
      this.commit(effects);
      return outcomes;
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      if (batch.length === 1) return [{ error: `not written: ${(error as Error).message}` }];
      const half = Math.ceil(batch.length / 2);
      const first = await this.write(batch.slice(0, half));
      return [...first, ...(await this.write(batch.slice(half)))];
    }
  }

  /**
   * After the last batch: links each sub-flow run to its parent task run, now imported. A parent
   * that never came is reported against the run's line (the run stays, without the link).
   */
  async finish(): Promise<{ line: number; outcome: Outcome }[]> {
    const results: { line: number; outcome: Outcome }[] = [];
    const pending = this.pending.splice(0);
    for (let i = 0; i < pending.length; i += 1000) {
      const slice = pending.slice(i, i + 1000);
      await this.db.transaction(async (tx) => {
        const runs = await run<{ id: string; record: string }>(tx, 'SELECT id, record FROM flow_run WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [
          slice.map((p) => p.runId),
        ]);
        const tasks = await run<{ id: string }>(tx, 'SELECT id FROM task_run WHERE id = ANY($1::text[]) FOR KEY SHARE', [slice.map((p) => p.parentId)]);
        const records = new Map(runs.map((r) => [r.id, r.record]));
        const present = new Set(tasks.map((t) => t.id));
        const links: { id: string; parent: string; record: string }[] = [];
        for (const p of slice) {
          const record = records.get(p.runId);
          if (record !== undefined && present.has(p.parentId)) {
            const linked: FlowRunRecord = { ...(JSON.parse(record) as FlowRunRecord), parent_task_run_id: p.parentId };
            links.push({ id: p.runId, parent: p.parentId, record: JSON.stringify(linked) });
          } else {
            results.push({ line: p.line, outcome: { error: `flow_run ${p.runId}: parent task run ${p.parentId} is neither in the store nor in the file; imported without it` } });
          }
        }
        if (links.length > 0) {
          await run(
            tx,
            `UPDATE flow_run AS f SET parent_task_run_id = x.parent, record = x."record"
             FROM json_to_recordset($1::text::json) AS x("id" text, "parent" text, "record" text) WHERE f.id = x.id`,
            [JSON.stringify(links)],
          );
        }
      });
    }
    return results;
  }

  private commit(effects: Effects): void {
    for (const key of effects.usedIdentities) this.identities.delete(key);
    for (const [key, identity] of effects.newIdentities) this.identities.set(key, identity);
    this.pending.push(...effects.pending);
  }

  /** Runs inside the batch's transaction; the importer's memory changes only once it commits. */
  private async apply(tx: Tx, batch: Numbered[]): Promise<{ outcomes: Outcome[]; effects: Effects }> {
    const effects: Effects = { usedIdentities: [], newIdentities: new Map(), pending: [] };
    // Every artifact key of the batch, locked first and in one sorted statement (no lock cycles
    // with the API's writers, which take one key, or deleteMany, which sorts too).
    const keys: string[] = [];
    for (const { item } of batch) if (item.kind === 'artifact' && item.record.key !== null) keys.push(item.record.key);
    await lockKeys(tx, LOCKS.artifactKey, keys.map((key) => toPgText(key)));
    const outcomes: Outcome[] = [];
    // Runs of same-kind lines, in order: each sees what the runs before it wrote.
    for (let start = 0; start < batch.length; ) {
      const kind = batch[start].item.kind;
      let end = start + 1;
      while (end < batch.length && batch[end].item.kind === kind) end++;
      outcomes.push(...(await this.applySegment(tx, kind, batch.slice(start, end), effects)));
      start = end;
    }
    return { outcomes, effects };
  }

  private applySegment(tx: Tx, kind: Item['kind'], segment: Numbered[], effects: Effects): Promise<Outcome[]> {
    switch (kind) {
      case 'flow':
        return importFlows(tx, segment);
      case 'deployment':
        return importDeployments(tx, segment);
      case 'flow_run':
        return importFlowRuns(tx, segment, effects);
      case 'task_run':
        return importTaskRuns(tx, segment);
      case 'collection':
        return this.importCollections(tx, segment, effects);
      case 'artifact':
        return this.importArtifacts(tx, segment, effects);
      case 'log':
        return importLogs(tx, segment);
      case 'event':
        return importEvents(tx, segment);
    }
  }

  private async importCollections(tx: Tx, segment: Numbered[], effects: Effects): Promise<Outcome[]> {
    const lines = segment.map(({ item }) => (item as Extract<Item, { kind: 'collection' }>).record);
    const rows = await run<{ key: string; id: string; created: string }>(tx, 'SELECT key, id, created FROM artifact_collection WHERE key = ANY($1::text[])', [
      lines.map((c) => toPgText(c.key)),
    ]);
    const existing = new Map(rows.map((r) => [fromPgText(r.key), r]));
    return lines.map((c) => {
      const have = existing.get(c.key);
      if (have) return have.id === c.id && Number(have.created) === c.created ? 'unchanged' : 'kept';
      effects.newIdentities.set(c.key, { id: c.id, created: c.created });
      return 'added';
    });
  }

  /**
   * Artifacts, under their keys' locks (taken by `apply`). Each key's collection ends as LMDB's
   * `putImported`, applied line by line, leaves it: created with the key's identity from its
   * collection line (or a new id and the first imported version's `created`), then following the
   * newest version by (created, id), its fields and `updated` mirrored.
   */
  private async importArtifacts(tx: Tx, segment: Numbered[], effects: Effects): Promise<Outcome[]> {
    const records = segment.map(({ item }) => (item as Extract<Item, { kind: 'artifact' }>).record);
    const found = await run<ArtifactRow>(tx, `SELECT ${ARTIFACT_COLUMNS} FROM artifact WHERE id = ANY($1::text[])`, [records.map((r) => r.id)]);
    /** Each id already written: its stored JSON, or (written by this segment) its record. */
    const known = new Map<string, string | ArtifactRecord>(found.map((row) => [row.id, rowJson(row)]));
    const keys = [...new Set(records.flatMap((r) => (r.key === null || known.has(r.id) ? [] : [r.key])))];
    const collections =
      keys.length === 0
        ? []
        : await run<{ key: string; id: string; latest_id: string; latest_created: string | null }>(
            tx,
            `SELECT c.key, c.id, c.latest_id, a.created AS latest_created
             FROM artifact_collection c LEFT JOIN artifact a ON a.id = c.latest_id WHERE c.key = ANY($1::text[])`,
            [keys.map(toPgText)],
          );
    interface KeyState {
      isNew: boolean;
      id: string;
      created: number;
      latest: { id: string; created: number } | null;
      /** The version the collection mirrors after this segment, when it changed. */
      mirror: ArtifactRecord | null;
    }
    const states = new Map<string, KeyState>(
      collections.map((c) => [
        fromPgText(c.key),
        { isNew: false, id: c.id, created: 0, latest: c.latest_created === null ? null : { id: c.latest_id, created: Number(c.latest_created) }, mirror: null },
      ]),
    );
    const identityOf = (key: string) => effects.newIdentities.get(key) ?? this.identities.get(key);
    const candidates = keys.flatMap((key) => (states.has(key) ? [] : (identityOf(key)?.id ?? [])));
    const taken = new Set(
      candidates.length === 0
        ? []
        : (await run<{ id: string }>(tx, 'SELECT id FROM artifact_collection WHERE id = ANY($1::text[])', [candidates])).map((r) => r.id),
    );

    const added: ArtifactRecord[] = [];
    const outcomes = records.map((r): Outcome => {
      const have = known.get(r.id);
      if (have !== undefined) return same(typeof have === 'string' ? have : artifactJson(have), artifactJson(r));
      known.set(r.id, r);
      added.push(r);
      if (r.key === null) return 'added';
      const identity = identityOf(r.key);
      const state = states.get(r.key);
      if (!state) {
        const own = identity && !taken.has(identity.id) ? identity : { id: newId(), created: r.created };
        taken.add(own.id);
        states.set(r.key, { isNew: true, id: own.id, created: own.created, latest: r, mirror: r });
      } else if (!state.latest || r.created > state.latest.created || (r.created === state.latest.created && r.id > state.latest.id)) {
        state.latest = r;
        state.mirror = r;
      }
      if (identity) {
        effects.newIdentities.delete(r.key);
        effects.usedIdentities.push(r.key);
      }
      return 'added';
    });

    await insertRows(tx, 'artifact', ARTIFACT_FIELDS, added.map(artifactRow));
    const made: unknown[][] = [];
    const moved: unknown[][] = [];
    for (const [key, state] of states) {
      if (state.mirror === null) continue;
      const m = state.mirror;
      const fields = [m.updated, m.id, toPgText(m.type), toPgText(m.description), m.data, metadataText(m.metadata), m.flowRunId, m.taskRunId];
      if (state.isNew) made.push([toPgText(key), state.id, state.created, ...fields]);
      else moved.push([toPgText(key), ...fields]);
    }
    await insertRows(tx, 'artifact_collection', ['key', 'id', 'created', ...MIRRORED], made);
    if (moved.length > 0) {
      const { columns, select } = recordset(['key', ...MIRRORED]);
      await run(
        tx,
        `UPDATE artifact_collection AS c SET ${MIRRORED.map((column) => `${column} = x.${column}`).join(', ')}
         FROM (SELECT ${select} FROM json_to_recordset($1::text::json) AS x(${columns})) AS x WHERE c.key = x.key`,
        [payload(['key', ...MIRRORED], moved)],
      );
    }
    return outcomes;
  }
}

// ── runs and their owners ──────────────────────────────────────────────────────────────────

/**
 * The common part of importing flows, deployments, flow runs and task runs: a record whose id is
 * already written (in the store, or earlier in the segment) is 'unchanged' or 'kept' by its JSON;
 * a new one is `decide`d — an error, or the row to insert (the record itself, or a variant of it) —
 * and the segment's new rows go in with one statement at the end.
 */
async function importById<T extends { id: string }>(
  tx: Tx,
  segment: Numbered[],
  table: { name: string; columns: readonly string[]; row: (r: T) => unknown[]; json: (r: T) => string },
  decide: (r: T, index: number) => Outcome | { add: T },
): Promise<Outcome[]> {
  const { json } = table;
  const found = await run<{ id: string; record: string }>(tx, `SELECT id, record FROM ${table.name} WHERE id = ANY($1::text[])`, [ids(segment)]);
  const known = new Map<string, string | T>(found.map((row) => [row.id, json(JSON.parse(row.record))]));
  const added: T[] = [];
  const outcomes = recordsOf<T>(segment).map((r, i): Outcome => {
    const have = known.get(r.id);
    if (have !== undefined) return same(typeof have === 'string' ? have : json(have), json(r));
    const decision = decide(r, i);
    if (typeof decision === 'object' && 'add' in decision) {
      known.set(r.id, r);
      added.push(decision.add);
      return 'added';
    }
    return decision;
  });
  await insertRows(tx, table.name, table.columns, added.map(table.row));
  return outcomes;
}

async function importFlows(tx: Tx, segment: Numbered[]): Promise<Outcome[]> {
  const owners = await run<{ id: string; k: string }>(
    tx,
    `SELECT id, encode(name_key, 'hex') AS k FROM flow WHERE name_key = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h))`,
    [recordsOf<FlowRecord>(segment).map((r) => hex(r.name))],
  );
  const byName = new Map(owners.map((o) => [o.k, o.id]));
  return importById<FlowRecord>(tx, segment, { name: 'flow', columns: FLOW_COLUMNS, row: flowRow, json: flowJson }, (r) => {
    const name = hex(r.name);
    const owner = byName.get(name);
    if (owner) return { error: `flow ${r.id}: the name ${JSON.stringify(r.name)} belongs to flow ${owner} in the store` };
    byName.set(name, r.id);
    return { add: r };
  });
}

/** The ids among `wanted` that `table` holds, locked against a concurrent delete until commit. */
async function present(tx: Tx, table: string, wanted: (string | null)[]): Promise<Set<string>> {
  const list = [...new Set(wanted.filter((id): id is string => id !== null))];
  if (list.length === 0) return new Set();
  const rows = await run<{ id: string }>(tx, `SELECT id FROM ${table} WHERE id = ANY($1::text[]) ORDER BY id FOR KEY SHARE`, [list]);
  return new Set(rows.map((r) => r.id));
}

async function importDeployments(tx: Tx, segment: Numbered[]): Promise<Outcome[]> {
  const records = recordsOf<DeploymentRecord>(segment);
  const flows = await present(tx, 'flow', records.map((r) => r.flow_id));
  const owners = await run<{ id: string; flow_id: string; k: string }>(
    tx,
    `SELECT d.id, d.flow_id, encode(d.name_key, 'hex') AS k FROM deployment d
     JOIN unnest($1::text[], $2::text[]) AS u(f, k) ON d.flow_id = u.f AND d.name_key = decode(u.k, 'hex')`,
    [records.map((r) => r.flow_id), records.map((r) => hex(r.name))],
  );
  const byName = new Map(owners.map((o) => [`${o.flow_id} ${o.k}`, o.id]));
  return importById<DeploymentRecord>(tx, segment, { name: 'deployment', columns: DEPLOYMENT_COLUMNS, row: deploymentRow, json: deploymentJson }, (r) => {
    if (!flows.has(r.flow_id)) return { error: `deployment ${r.id}: flow ${r.flow_id} not found` };
    const name = `${r.flow_id} ${hex(r.name)}`;
    const owner = byName.get(name);
    if (owner) return { error: `deployment ${r.id}: flow ${r.flow_id} already has deployment ${owner} named ${JSON.stringify(r.name)}` };
    byName.set(name, r.id);
    return { add: r };
  });
}

async function importFlowRuns(tx: Tx, segment: Numbered[], effects: Effects): Promise<Outcome[]> {
  const records = recordsOf<FlowRunRecord>(segment);
  const flows = await present(tx, 'flow', records.map((r) => r.flow_id));
  const keyed = records.filter((r) => r.idempotency_key !== null);
  const owners =
    keyed.length === 0
      ? []
      : await run<{ id: string; flow_id: string; k: string }>(
          tx,
          `SELECT r.id, r.flow_id, encode(r.idempotency_key_key, 'hex') AS k FROM flow_run r
           JOIN unnest($1::text[], $2::text[]) AS u(f, k) ON r.flow_id = u.f AND r.idempotency_key_key = decode(u.k, 'hex')`,
          [keyed.map((r) => r.flow_id), keyed.map((r) => hex(r.idempotency_key!))],
        );
  const byKey = new Map(owners.map((o) => [`${o.flow_id} ${o.k}`, o.id]));
  const parents = await present(tx, 'task_run', records.map((r) => r.parent_task_run_id));
  const json = (r: FlowRunRecord) => flowRunJson(r, WITHOUT_ESTIMATES);
  return importById<FlowRunRecord>(tx, segment, { name: 'flow_run', columns: FLOW_RUN_COLUMNS, row: flowRunRow, json }, (r, i) => {
    if (!flows.has(r.flow_id)) return { error: `flow_run ${r.id}: flow ${r.flow_id} not found` };
    if (r.idempotency_key !== null) {
      const key = `${r.flow_id} ${hex(r.idempotency_key)}`;
      const owner = byKey.get(key);
      if (owner) return { error: `flow_run ${r.id}: idempotency key ${JSON.stringify(r.idempotency_key)} belongs to flow run ${owner}` };
      byKey.set(key, r.id);
    }
    const parent = r.parent_task_run_id;
    if (parent === null || parents.has(parent)) return { add: r };
    effects.pending.push({ line: segment[i].line, runId: r.id, parentId: parent });
    return { add: { ...r, parent_task_run_id: null } };
  });
}

async function importTaskRuns(tx: Tx, segment: Numbered[]): Promise<Outcome[]> {
  const records = recordsOf<TaskRunRecord>(segment);
  const runs = await present(tx, 'flow_run', records.map((r) => r.flow_run_id));
  const keysOf = (r: TaskRunRecord) => `${r.flow_run_id ?? ''} ${hex(r.task_key)} ${hex(r.dynamic_key)}`;
  const owners = await run<{ id: string; k: string }>(
    tx,
    `SELECT t.id, COALESCE(t.flow_run_id, '') || ' ' || encode(t.task_key_key, 'hex') || ' ' || encode(t.dynamic_key_key, 'hex') AS k
     FROM task_run t JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(f, a, b)
       ON COALESCE(t.flow_run_id, '') = u.f AND t.task_key_key = decode(u.a, 'hex') AND t.dynamic_key_key = decode(u.b, 'hex')`,
    [records.map((r) => r.flow_run_id ?? ''), records.map((r) => hex(r.task_key)), records.map((r) => hex(r.dynamic_key))],
  );
  const byKeys = new Map(owners.map((o) => [o.k, o.id]));
  const json = (r: TaskRunRecord) => taskRunJson(r, WITHOUT_ESTIMATES);
  return importById<TaskRunRecord>(tx, segment, { name: 'task_run', columns: TASK_RUN_COLUMNS, row: taskRunRow, json }, (r) => {
    if (r.flow_run_id !== null && !runs.has(r.flow_run_id)) return { error: `task_run ${r.id}: flow run ${r.flow_run_id} not found` };
    const keys = keysOf(r);
    const owner = byKeys.get(keys);
    if (owner) return { error: `task_run ${r.id}: task run ${owner} has the same flow run, task_key and dynamic_key` };
    byKeys.set(keys, r.id);
    return { add: r };
  });
}
