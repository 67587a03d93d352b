/**
 * Task runs made from `prefect.task-run.*` events, inside the events' write transaction
 * (events.ts): each TaskRunObservation applied by the shared rule `observedTaskRun`
 * (task-run-events.ts), as Prefect's task-run recorder upserts its rows.
 *
 * Set-wise, a few statements per batch whatever its size:
 *   0. an advisory lock per task run id, all in one sorted statement (db.ts `lockKeys`);
 *   1. the flow runs the observations name, locked FOR KEY SHARE (a concurrent delete waits for
 *      this commit, and a missing one is known before anything is written);
 *   2. the stored task runs they concern, locked FOR UPDATE in id order;
 *   3. the owners of the (flow run, task key, dynamic key) triples the new records would hold;
 *   4. the observations applied in order, in memory (several for one run build on each other);
 *   5. the new runs in one INSERT … ON CONFLICT DO NOTHING, the changed ones in one UPDATE.
 *
 * What Prefect's constraints would refuse is skipped, never an error that aborts the batch: an
 * observation naming a flow run that is not stored (Prefect's foreign key), and one whose keys
 * belong to another task run (Prefect's unique index). The rest of the batch is written.
 *
 * Concurrency (several instances appending the same run's events): two appends of one run queue
 * on its advisory lock, taken first, and the second reads what the first committed — the newer
 * state wins, whichever commits first. Row locks alone would not do: a batch locks its stored
 * runs before it inserts its new ones, so two batches could each hold a run the other waits for
 * (one locked, one inserted uncommitted); the advisory locks, all of a batch's runs in one sorted
 * statement before anything else, leave no such cycle. The row locks stay for the other writers
 * (a delete, a sub-flow's set_state), which take no advisory lock. A new run inserted meanwhile
 * by another writer (`POST /task_runs/` with this id) meets this insert in the primary key: it
 * does nothing, and the run's observations are applied again as an update of the committed row
 * (`ATTEMPTS`). A key change meeting a concurrent claim of the same keys (a run moved to keys
 * another run takes at that moment; Prefect's clients never move a run) is written under a
 * savepoint and skipped if the unique index refuses it.
 */
import type { TaskRunRecord } from '../companion-records.ts';
import type { TaskRunObservation } from '../contract.ts';
import { observedTaskRun } from '../task-run-events.ts';
import { nowMicros } from '../../time.ts';
import { lockKeys, run, type Tx } from './db.ts';
import { parseRecord, sqlState, type RecordRow } from './flow-runs.ts';
import { payload, recordset } from './rows.ts';
import { codeUnits, TASK_RUN_COLUMNS, taskRunRow } from './schema-runs.ts';

/** The advisory lock namespace of task run ids ('TRUN'; beside db.ts's LOCKS, distinct from each). */
const TASK_RUN_LOCK = 0x54_52_55_4e;

/** How many times the observations of runs created concurrently are applied again (then skipped). */
const ATTEMPTS = 4;

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** A task run's unique keys as one string (the unique index's COALESCE(flow_run_id, '') and key bytes). */
const keysOf = (r: Pick<TaskRunRecord, 'flow_run_id' | 'task_key' | 'dynamic_key'>): string =>
  `${r.flow_run_id ?? ''} ${codeUnits(r.task_key).toString('hex')} ${codeUnits(r.dynamic_key).toString('hex')}`;

interface Written {
  record: TaskRunRecord;
  /** Not stored when the batch began: inserted. */
  isNew: boolean;
  /** Its keys differ from the stored row's. */
  keysMoved: boolean;
}

/** Applies `observations` in `tx`; the ids of the task runs written. */
export async function applyObservations(tx: Tx, observations: readonly TaskRunObservation[]): Promise<string[]> {
  const written = new Set<string>();
  await lockKeys(tx, TASK_RUN_LOCK, observations.map((o) => o.id));
  let pending = await knownFlowRuns(tx, observations);
  for (let attempt = 0; attempt < ATTEMPTS && pending.length > 0; attempt++) {
    const { done, raced } = await applyOnce(tx, pending);
    for (const id of done) written.add(id);
    pending = pending.filter((o) => raced.has(o.id));
  }
  return [...written];
}

/** The observations whose flow run is null or stored (locked FOR KEY SHARE until commit). */
async function knownFlowRuns(tx: Tx, observations: readonly TaskRunObservation[]): Promise<TaskRunObservation[]> {
  const wanted = sorted(observations.flatMap((o) => (o.flow_run_id === null ? [] : [o.flow_run_id])));
  if (wanted.length === 0) return [...observations];
  const rows = await run<{ id: string }>(tx, 'SELECT id FROM flow_run WHERE id = ANY($1::text[]) ORDER BY id FOR KEY SHARE', [wanted]);
  const present = new Set(rows.map((r) => r.id));
  return observations.filter((o) => o.flow_run_id === null || present.has(o.flow_run_id));
}

const sorted = (ids: Iterable<string>): string[] => [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * One pass: lock and read, apply in memory, write. `done`: the runs written; `raced`: new runs
 * whose insert met a concurrent insert of the same id or keys (applied again on the next pass).
 */
async function applyOnce(tx: Tx, observations: readonly TaskRunObservation[]): Promise<{ done: string[]; raced: Set<string> }> {
  const ids = sorted(observations.map((o) => o.id));
  const rows = await run<RecordRow & { id: string }>(tx, 'SELECT id, record FROM task_run WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [ids]);
  const stored = new Map(rows.map((row) => [row.id, parseRecord<TaskRunRecord>(row)]));

  // Which run holds each keys triple the batch would give a new or moved run (a dry pass gathers
  // them for one query; a stored run keeping its keys needs none).
  const owners = new Map<string, string>();
  const lookUp = async (triples: string[]) => {
    const missing = triples.filter((k) => !owners.has(k));
    if (missing.length === 0) return;
    const found = await ownersOf(tx, missing);
    for (const k of missing) owners.set(k, found.get(k) ?? '');
  };
  const dry = new Map<string, TaskRunRecord>();
  const triples: string[] = [];
  for (const o of observations) {
    const next = observedTaskRun(dry.get(o.id) ?? stored.get(o.id), o, 0);
    if (next === undefined) continue;
    dry.set(o.id, next);
    const old = stored.get(o.id);
    if (old === undefined || keysOf(old) !== keysOf(next)) triples.push(keysOf(next));
  }
  await lookUp(triples);

  // The observations in order; a run's keys claimed by its first record of the batch.
  const writes = new Map<string, Written>();
  for (const o of observations) {
    const current = writes.get(o.id)?.record ?? stored.get(o.id);
    const next = observedTaskRun(current, o, nowMicros());
    if (next === undefined) continue;
    const keys = keysOf(next);
    const old = stored.get(o.id);
    if (old === undefined || keysOf(old) !== keys) {
      await lookUp([keys]);
      const owner = owners.get(keys);
      if (owner !== '' && owner !== o.id) continue; // Prefect's unique index: another run holds these keys
      owners.set(keys, o.id);
    }
    writes.set(o.id, { record: next, isNew: old === undefined, keysMoved: old !== undefined && keysOf(old) !== keys });
  }

  const inserts = [...writes.values()].filter((w) => w.isNew).map((w) => w.record);
  const inserted = new Set(await insertRuns(tx, inserts));
  const raced = new Set(inserts.filter((r) => !inserted.has(r.id)).map((r) => r.id));
  const updates = [...writes.values()].filter((w) => !w.isNew);
  const inPlace = updates.filter((w) => !w.keysMoved).map((w) => w.record);
  await updateRuns(tx, inPlace);
  const moved: string[] = [];
  for (const w of updates.filter((w) => w.keysMoved)) if (await updateMovedRun(tx, w.record)) moved.push(w.record.id);
  return { done: [...inserted, ...inPlace.map((r) => r.id), ...moved], raced };
}

/** The task run holding each keys triple (keysOf), among `triples`. */
async function ownersOf(tx: Tx, triples: string[]): Promise<Map<string, string>> {
  const parts = triples.map((k) => k.split(' '));
  const rows = await run<{ id: string; k: string }>(
    tx,
    `SELECT t.id, COALESCE(t.flow_run_id, '') || ' ' || encode(t.task_key_key, 'hex') || ' ' || encode(t.dynamic_key_key, 'hex') AS k
     FROM task_run t JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(f, a, b)
       ON COALESCE(t.flow_run_id, '') = u.f AND t.task_key_key = decode(u.a, 'hex') AND t.dynamic_key_key = decode(u.b, 'hex')`,
    [parts.map((k) => k[0]), parts.map((k) => k[1]), parts.map((k) => k[2])],
  );
  return new Map(rows.map((r) => [r.k, r.id]));
}

/** Inserts the new runs (sorted by id), skipping any a concurrent transaction inserted first; the ids inserted. */
async function insertRuns(tx: Tx, records: TaskRunRecord[]): Promise<string[]> {
  if (records.length === 0) return [];
  const { columns, select } = recordset(TASK_RUN_COLUMNS);
  const rows = await run<{ id: string }>(
    tx,
    `INSERT INTO task_run (${TASK_RUN_COLUMNS.join(', ')}) SELECT ${select} FROM json_to_recordset($1::text::json) AS x(${columns})
     ON CONFLICT DO NOTHING RETURNING id`,
    [payload(TASK_RUN_COLUMNS, byId(records).map(taskRunRow))],
  );
  return rows.map((r) => r.id);
}

const byId = (records: TaskRunRecord[]) => [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** Rewrites the locked rows of `records`, every column, in one statement. */
async function updateRuns(tx: Tx, records: TaskRunRecord[]): Promise<void> {
  if (records.length === 0) return;
  const { columns, select } = recordset(TASK_RUN_COLUMNS);
  const sets = TASK_RUN_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = x.${c}`);
  await run(
    tx,
    `UPDATE task_run AS t SET ${sets.join(', ')}
     FROM (SELECT ${select} FROM json_to_recordset($1::text::json) AS x(${columns})) AS x WHERE t.id = x.id`,
    [payload(TASK_RUN_COLUMNS, byId(records).map(taskRunRow))],
  );
}

/** A run whose keys change, under a savepoint: false (nothing written) when the unique index refuses its new keys. */
async function updateMovedRun(tx: Tx, record: TaskRunRecord): Promise<boolean> {
  await run(tx, 'SAVEPOINT moved_task_run');
  try {
    await updateRuns(tx, [record]);
    await run(tx, 'RELEASE SAVEPOINT moved_task_run');
    return true;
  } catch (error) {
    if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
    await run(tx, 'ROLLBACK TO SAVEPOINT moved_task_run');
    return false;
  }
}
