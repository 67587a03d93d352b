/**
 * Values for the matrix's filters, read from the loaded SQLite copy of the seeded store (the
 * same records the server has), so every id, key, name and time a row sends exists. Picks are
 * deterministic: a fixed fraction of the way through each table in id order (ids are
 * time-ordered), preferring runs and keys that have artifacts. Where the seeded world has none
 * of something (a tiny N), the value is `undefined` and the rows that need it are left out.
 */
import type { Database } from 'bun:sqlite';

export interface Facts {
  n: number;
  artifactIds: string[]; // three, from different parts of the table
  latestIds: string[]; // three collections' latest_id
  keys: string[]; // three keys with several versions
  rareKeyFragment: string; // a substring of one key only (its number)
  commonKeyFragment: string; // a topic: an eighth of the keys
  flowRunId: string; // a run with artifacts
  flowRunIds: string[]; // two runs with artifacts
  flowRunNameFragment: string; // the first word of a run's name
  taskRunId: string; // a task run with artifacts
  taskRunIds: string[];
  taskRunNameFragment: string;
  startedAfter?: string; // the median start_time of started runs (ISO)
  expectedBefore: string; // the median expected_start_time (ISO)
  parentTaskRunId?: string; // a task run that started a sub-flow run with artifacts
  flowId: string; // the flow `ml-train`, or the first
  flowName: string;
  flowTag?: string;
  deploymentId?: string;
  deploymentNameFragment?: string;
  /** Sample artifact ids for the no-waiting row's GET /api/artifacts/{id}. */
  getIds: string[];
}

const iso = (sqliteTime: string) => `${sqliteTime.replace(' ', 'T')}Z`;

export function readFacts(db: Database, n: number): Facts {
  const one = <T>(sql: string, ...params: unknown[]) => db.query(sql).get(...(params as never[])) as T | null;
  const all = <T>(sql: string, ...params: unknown[]) => db.query(sql).all(...(params as never[])) as T[];
  const count = (table: string) => one<{ c: number }>(`SELECT count(*) AS c FROM ${table}`)!.c;
  const at = (table: string, column: string, fraction: number, where = '') =>
    one<{ v: string }>(`SELECT ${column} AS v FROM ${table} ${where} ORDER BY id LIMIT 1 OFFSET ?`, Math.floor(count(table) * fraction))?.v;

  const artifacts = count('artifact');
  const artifactIds = [0.25, 0.5, 0.75].map((f) => one<{ id: string }>('SELECT id FROM artifact ORDER BY id LIMIT 1 OFFSET ?', Math.floor(artifacts * f))!.id);
  const latestIds = [0.2, 0.5, 0.8].map((f) => at('artifact_collection', 'latest_id', f)!);
  const keys = [0.3, 0.6, 0.9].map((f) => at('artifact_collection', '"key"', f)!);
  const rareKey = keys[1];
  // Runs with artifacts, a third and two thirds of the way through the runs.
  const runWithArtifacts = (fraction: number) =>
    one<{ id: string }>('SELECT flow_run_id AS id FROM artifact WHERE flow_run_id IS NOT NULL ORDER BY id LIMIT 1 OFFSET ?', Math.floor(artifacts * fraction))!.id;
  const flowRunIds = [runWithArtifacts(0.35), runWithArtifacts(0.7)];
  const taskWithArtifacts = (fraction: number) =>
    one<{ id: string }>(
      'SELECT task_run_id AS id FROM artifact WHERE task_run_id IS NOT NULL ORDER BY id LIMIT 1 OFFSET ?',
      Math.floor(one<{ c: number }>('SELECT count(*) AS c FROM artifact WHERE task_run_id IS NOT NULL')!.c * fraction),
    )!.id;
  const taskRunIds = [taskWithArtifacts(0.4), taskWithArtifacts(0.8)];
  const runName = one<{ name: string }>('SELECT name FROM flow_run WHERE id = ?', flowRunIds[0])!.name;
  const taskName = one<{ name: string }>('SELECT name FROM task_run WHERE id = ?', taskRunIds[0])!.name;
  const median = (sql: string) => {
    const rows = all<{ t: string }>(sql);
    return rows.length ? iso(rows[Math.floor(rows.length / 2)].t) : undefined;
  };
  const parent = one<{ id: string }>(
    `SELECT fr.parent_task_run_id AS id FROM flow_run fr WHERE fr.parent_task_run_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM artifact a WHERE a.flow_run_id = fr.id) ORDER BY fr.id LIMIT 1 OFFSET ?`,
    Math.floor(count('flow_run') / 40),
  );
  const flow = one<{ id: string; name: string; tags: string }>(`SELECT id, name, tags FROM flow ORDER BY name = 'ml-train' DESC, id LIMIT 1`)!;
  const taggedFlow = one<{ tags: string }>(`SELECT tags FROM flow WHERE tags != '[]' ORDER BY id LIMIT 1`);
  const deployment = one<{ id: string; name: string }>('SELECT id, name FROM deployment ORDER BY id LIMIT 1');
  const getIds = all<{ id: string }>('SELECT id FROM artifact WHERE rowid % ? = 0 LIMIT 1000', Math.max(1, Math.floor(artifacts / 1000))).map((r) => r.id);

  return {
    n,
    artifactIds,
    latestIds,
    keys,
    rareKeyFragment: rareKey.slice(rareKey.lastIndexOf('-') + 1),
    commonKeyFragment: keys[0].slice(0, keys[0].indexOf('-')),
    flowRunId: flowRunIds[0],
    flowRunIds,
    flowRunNameFragment: runName.split('-')[0],
    taskRunId: taskRunIds[0],
    taskRunIds,
    taskRunNameFragment: taskName.split('-')[0],
    startedAfter: median('SELECT start_time AS t FROM flow_run WHERE start_time IS NOT NULL ORDER BY start_time'),
    expectedBefore: median('SELECT expected_start_time AS t FROM flow_run ORDER BY expected_start_time')!,
    parentTaskRunId: parent?.id,
    flowId: flow.id,
    flowName: flow.name,
    flowTag: taggedFlow ? (JSON.parse(taggedFlow.tags) as string[])[0] : undefined,
    deploymentId: deployment?.id,
    deploymentNameFragment: deployment ? deployment.name.slice(deployment.name.lastIndexOf('-') + 1) : undefined,
    getIds,
  };
}
