/**
 * A fixed world of flows, deployments, flow runs, task runs and artifacts, seeded only through
 * the HTTP API, for the run-filter tests of the artifact routes (artifacts-run-filters-*.test.ts).
 * Sources: shared/spec/companions.md §1–5 (how records and their state fields come to be),
 * filters.md §4–9 (what the filters test).
 *
 * Flows                 tags            deployments
 *   F1 "etl-daily"      [db, blue]      D1, D2
 *   F2 "Report_Weekly"  [db]            none
 *   F3 "ml-train"       []              D3 (D4 deleted)
 *
 * Deployments  flow  name         paused  tags        work_queue_name  concurrency_limit
 *   D1         F1    nightly-etl  false   [prod, eu]  q-a              5
 *   D2         F1    adhoc-etl    true    []          null             null
 *   D3         F3    train-d-1    false   [prod]      q-b              0
 *   D4         F3    doomed       false   [prod]      null             5    ← deleted after R7 exists
 *
 * Flow runs (created in this order, so start/expected times increase in it)
 *   R1  F1  happy-duck         [db, blue]        RUNNING→COMPLETED "Completed"  dep D1     ver 1.0  idem key-1  started, ended
 *   R2  F1  sad-duck           [db, red]         FAILED "Failed"                dep null   ver 2.0              not started
 *   R3  F1  sched-run          [prod, eu, extra] SCHEDULED "Scheduled" @2031    dep D1 (via create_flow_run), wq q-a
 *   R4  F2  Weekly-Report-Run  []                RUNNING "Running"              dep null            idem key-2  started
 *   R5  F2  late-one           [red]             SCHEDULED "Late" @2020-06-01T12:00:00Z         ver 1.0
 *   R6  F3  train-run          [prod]            RUNNING "Running"              dep D3 (via create_flow_run), wq q-b, idem key-3, started
 *   R7  F3  dangling-run       [red, blue]       RUNNING "Running"              dep D4 (dangling)   started
 *   R8  F3  child-run          []                PENDING "Pending"              parent task run T1 (a sub-flow of R1)
 *   R9  F1  ghost-dep-run      []                PENDING "Pending"              dep GHOST_DEPLOYMENT (never existed)
 *   R10 F1  cancelled-run      [db]              RUNNING→CANCELLED "Cancelled"  dep D2 (paused)     started, ended
 *
 * Task runs
 *   T1  R1    extract        [io]       RUNNING "Running"                  started; parent of sub-flow R8
 *   T2  R2    transform      [io, cpu]  FAILED "Failed"
 *   T4  R4    Load_Data      []         PENDING "Pending"
 *   T5  R7    dangler-task   [cpu]      SCHEDULED "AwaitingRetry" @2030-02-02T00:00:00Z
 *   T3  null  orphan-task    []         RUNNING "Running"                  started (created last)
 *
 * Artifacts (created in this order; r4 is PATCHed at the end so it is the most recently updated)
 *   name     key          type      flow run      task run
 *   r1       a-r1         table     R1            T1
 *   r2       a-r2         markdown  R2            T2
 *   r3       a-r3         null      R3            -
 *   r4       a-r4         result    R4            T4
 *   r5       a-r5         table     R5            -
 *   r6       a-r6         markdown  R6            T3   ← task run of no flow run: independent of R6
 *   r7       a-r7         table     R7            T5
 *   r8       a-r8         result    R8            -
 *   r9       a-r9         markdown  R9            -
 *   r10      a-r10        table     R10           -
 *   orphan   a-orphan     table     ORPHAN_FR     ORPHAN_TR   (point at nothing)
 *   nokey    null         table     R1            T1
 *   bare     null         null      -             -
 *   tronly   a-tr-only    progress  -             T3
 *   multi1   a-multi      table     R1            T1
 *   back1    a-back       table     R2            -
 *   multi2   a-multi      markdown  R2            T2   ← latest of a-multi
 *   back2    a-back       table     ORPHAN_FR2    -    ← latest of a-back (points at nothing)
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { harness, type Backend, type Harness, type Reply } from '../helpers.ts';
import { ALL_ROUTES, COUNT, FILTER, LATEST_COUNT, LATEST_FILTER, UNKNOWN, sorted } from './artifact-routes.ts';
export { ALL_ROUTES, COUNT, FILTER, LATEST_COUNT, LATEST_FILTER, UNKNOWN, sorted };

export const ORPHAN_FR = '0f0f0f0f-0000-4000-8000-00000000f001';
export const ORPHAN_FR2 = '0f0f0f0f-0000-4000-8000-00000000f002';
export const ORPHAN_TR = '0f0f0f0f-0000-4000-8000-00000000a001';
export const GHOST_DEPLOYMENT = '0f0f0f0f-0000-4000-8000-00000000d001';

export const SCHEDULED_2031 = '2031-01-01T00:00:00Z';
export const LATE_2020 = '2020-06-01T12:00:00Z';
export const TASK_2030 = '2030-02-02T00:00:00Z';

export const RUN_NAMES = ['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9', 'R10'] as const;
export const TASK_NAMES = ['T1', 'T2', 'T3', 'T4', 'T5'] as const;
export type RunName = (typeof RUN_NAMES)[number];
export type TaskName = (typeof TASK_NAMES)[number];

/** Which run each artifact points at ('orphan' = an id of no stored record, null = none). */
export const ARTIFACT_LINKS: Record<string, { key: string | null; fr: RunName | 'orphan' | null; tr: TaskName | 'orphan' | null }> = {
  r1: { key: 'a-r1', fr: 'R1', tr: 'T1' },
  r2: { key: 'a-r2', fr: 'R2', tr: 'T2' },
  r3: { key: 'a-r3', fr: 'R3', tr: null },
  r4: { key: 'a-r4', fr: 'R4', tr: 'T4' },
  r5: { key: 'a-r5', fr: 'R5', tr: null },
  r6: { key: 'a-r6', fr: 'R6', tr: 'T3' },
  r7: { key: 'a-r7', fr: 'R7', tr: 'T5' },
  r8: { key: 'a-r8', fr: 'R8', tr: null },
  r9: { key: 'a-r9', fr: 'R9', tr: null },
  r10: { key: 'a-r10', fr: 'R10', tr: null },
  orphan: { key: 'a-orphan', fr: 'orphan', tr: 'orphan' },
  nokey: { key: null, fr: 'R1', tr: 'T1' },
  bare: { key: null, fr: null, tr: null },
  tronly: { key: 'a-tr-only', fr: null, tr: 'T3' },
  multi1: { key: 'a-multi', fr: 'R1', tr: 'T1' },
  back1: { key: 'a-back', fr: 'R2', tr: null },
  multi2: { key: 'a-multi', fr: 'R2', tr: 'T2' },
  back2: { key: 'a-back', fr: 'orphan', tr: null },
};
export const ARTIFACT_NAMES = Object.keys(ARTIFACT_LINKS);
/** Per key, the artifact that is its latest version. */
export const LATEST_OF: Record<string, string> = {};
for (const name of ARTIFACT_NAMES) {
  const { key } = ARTIFACT_LINKS[name];
  if (key !== null) LATEST_OF[key] = name; // later creations overwrite: the last one is the latest
}
export const ALL_KEYS = Object.keys(LATEST_OF);

export const RUN_FLOW: Record<RunName, 'F1' | 'F2' | 'F3'> = {
  R1: 'F1', R2: 'F1', R3: 'F1', R4: 'F2', R5: 'F2', R6: 'F3', R7: 'F3', R8: 'F3', R9: 'F1', R10: 'F1',
};

export interface World {
  flows: Record<string, any>;
  deployments: Record<string, any>;
  runs: Record<RunName, any>;
  tasks: Record<TaskName, any>;
  artifacts: Record<string, any>;
  /** Mismatches between what the seed expected the server to record and what it recorded. */
  problems: string[];
}

// ── creation helpers (status-checked) ────────────────────────────────────────────────────────

async function expectCreated(h: Harness, path: string, body: unknown, allowed = [201]): Promise<any> {
  const reply = await h.call('POST', path, body);
  if (!allowed.includes(reply.status)) {
    throw new Error(`seed: POST ${path} ${JSON.stringify(body)} → ${reply.status} ${reply.text.slice(0, 500)}`);
  }
  return reply.body;
}
export const makeFlow = (h: Harness, body: Record<string, unknown>) => expectCreated(h, '/api/flows/', body);
export const makeDeployment = (h: Harness, body: Record<string, unknown>) =>
  expectCreated(h, '/api/deployments/', { enforce_parameter_schema: false, ...body });
export const makeRun = (h: Harness, body: Record<string, unknown>) => expectCreated(h, '/api/flow_runs/', body);
export const makeRunFromDeployment = (h: Harness, deploymentId: string, body: Record<string, unknown>) =>
  expectCreated(h, `/api/deployments/${deploymentId}/create_flow_run`, { enforce_parameter_schema: false, ...body });
export const makeTask = (h: Harness, body: Record<string, unknown>) =>
  expectCreated(h, '/api/task_runs/', { dynamic_key: '0', ...body });

/** Moves a flow run to a new state and returns the run as stored afterwards. */
export async function setFlowRunState(h: Harness, id: string, type: string): Promise<any> {
  const reply = await h.call('POST', `/api/flow_runs/${id}/set_state`, { state: { type } });
  if (reply.status !== 201 && reply.status !== 200) {
    throw new Error(`seed: set_state ${type} on ${id} → ${reply.status} ${reply.text.slice(0, 300)}`);
  }
  if (reply.body?.status !== 'ACCEPT') throw new Error(`seed: set_state ${type} not accepted: ${reply.text.slice(0, 300)}`);
  return getOk(h, `/api/flow_runs/${id}`);
}

export async function getOk(h: Harness, path: string): Promise<any> {
  const reply = await h.call('GET', path);
  if (reply.status !== 200) throw new Error(`seed: GET ${path} → ${reply.status} ${reply.text.slice(0, 300)}`);
  return reply.body;
}

export async function deleteOk(h: Harness, path: string): Promise<void> {
  const reply = await h.call('DELETE', path);
  if (reply.status !== 204) throw new Error(`DELETE ${path} → ${reply.status} ${reply.text.slice(0, 300)}`);
}

// ── time helpers ─────────────────────────────────────────────────────────────────────────────

/** A response datetime (`…Z`, fraction omitted when zero) as µs since the epoch. */
export function micros(datetime: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(datetime);
  if (!m) throw new Error(`not a UTC datetime: ${datetime}`);
  return (Date.parse(`${m[1]}Z`) / 1000) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/** µs since the epoch written with the given whole-hour offset (e.g. +2 → `…+02:00`), same instant. */
export function withOffset(us: number, hours: number): string {
  const seconds = Math.floor(us / 1_000_000);
  const fraction = us - seconds * 1_000_000;
  const local = new Date((seconds + hours * 3600) * 1000).toISOString().slice(0, 19);
  const sign = hours < 0 ? '-' : '+';
  const hh = String(Math.abs(hours)).padStart(2, '0');
  return `${local}.${String(fraction).padStart(6, '0')}${sign}${hh}:00`;
}
/** µs since the epoch as `…Z` with six fraction digits. */
export const utc = (us: number) => withOffset(us, 0).replace('+00:00', 'Z');
/** µs since the epoch without any offset (taken as UTC by the server). */
export const naive = (us: number) => withOffset(us, 0).replace('+00:00', '');

// ── seeding ──────────────────────────────────────────────────────────────────────────────────

export async function seedWorld(h: Harness): Promise<World> {
  const problems: string[] = [];
  const check = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
  };

  const flows: Record<string, any> = {};
  flows.F1 = await makeFlow(h, { name: 'etl-daily', tags: ['db', 'blue'] });
  flows.F2 = await makeFlow(h, { name: 'Report_Weekly', tags: ['db'] });
  flows.F3 = await makeFlow(h, { name: 'ml-train' });

  const deployments: Record<string, any> = {};
  deployments.D1 = await makeDeployment(h, {
    name: 'nightly-etl', flow_id: flows.F1.id, paused: false, tags: ['prod', 'eu'], work_queue_name: 'q-a', concurrency_limit: 5,
  });
  deployments.D2 = await makeDeployment(h, { name: 'adhoc-etl', flow_id: flows.F1.id, paused: true, tags: [] });
  deployments.D3 = await makeDeployment(h, {
    name: 'train-d-1', flow_id: flows.F3.id, paused: false, tags: ['prod'], work_queue_name: 'q-b', concurrency_limit: 0,
  });
  deployments.D4 = await makeDeployment(h, { name: 'doomed', flow_id: flows.F3.id, tags: ['prod'], concurrency_limit: 5 });

  const runs = {} as Record<RunName, any>;
  const tasks = {} as Record<TaskName, any>;

  const r1 = await makeRun(h, {
    flow_id: flows.F1.id, name: 'happy-duck', tags: ['db', 'blue'], state: { type: 'RUNNING' },
    deployment_id: deployments.D1.id, flow_version: '1.0', idempotency_key: 'key-1',
  });
  runs.R1 = await setFlowRunState(h, r1.id, 'COMPLETED');
  tasks.T1 = await makeTask(h, { flow_run_id: runs.R1.id, task_key: 'extract', name: 'extract', tags: ['io'], state: { type: 'RUNNING' } });
  runs.R2 = await makeRun(h, {
    flow_id: flows.F1.id, name: 'sad-duck', tags: ['db', 'red'], state: { type: 'FAILED' }, flow_version: '2.0',
  });
  tasks.T2 = await makeTask(h, { flow_run_id: runs.R2.id, task_key: 'transform', name: 'transform', tags: ['io', 'cpu'], state: { type: 'FAILED' } });
  runs.R3 = await makeRunFromDeployment(h, deployments.D1.id, {
    name: 'sched-run', tags: ['extra'], state: { type: 'SCHEDULED', state_details: { scheduled_time: SCHEDULED_2031 } },
  });
  runs.R4 = await makeRun(h, {
    flow_id: flows.F2.id, name: 'Weekly-Report-Run', state: { type: 'RUNNING' }, idempotency_key: 'key-2',
  });
  tasks.T4 = await makeTask(h, { flow_run_id: runs.R4.id, task_key: 'load', name: 'Load_Data', state: { type: 'PENDING' } });
  runs.R5 = await makeRun(h, {
    flow_id: flows.F2.id, name: 'late-one', tags: ['red'], flow_version: '1.0',
    state: { type: 'SCHEDULED', name: 'Late', state_details: { scheduled_time: LATE_2020 } },
  });
  runs.R6 = await makeRunFromDeployment(h, deployments.D3.id, {
    name: 'train-run', state: { type: 'RUNNING' }, idempotency_key: 'key-3',
  });
  runs.R7 = await makeRun(h, {
    flow_id: flows.F3.id, name: 'dangling-run', tags: ['red', 'blue'], state: { type: 'RUNNING' }, deployment_id: deployments.D4.id,
  });
  await deleteOk(h, `/api/deployments/${deployments.D4.id}`);
  tasks.T5 = await makeTask(h, {
    flow_run_id: runs.R7.id, task_key: 'dangler', name: 'dangler-task', tags: ['cpu'],
    state: { type: 'SCHEDULED', name: 'AwaitingRetry', state_details: { scheduled_time: TASK_2030 } },
  });
  runs.R8 = await makeRun(h, { flow_id: flows.F3.id, name: 'child-run', state: { type: 'PENDING' }, parent_task_run_id: tasks.T1.id });
  runs.R9 = await makeRun(h, { flow_id: flows.F1.id, name: 'ghost-dep-run', deployment_id: GHOST_DEPLOYMENT });
  const r10 = await makeRun(h, {
    flow_id: flows.F1.id, name: 'cancelled-run', tags: ['db'], state: { type: 'RUNNING' }, deployment_id: deployments.D2.id,
  });
  runs.R10 = await setFlowRunState(h, r10.id, 'CANCELLED');
  tasks.T3 = await makeTask(h, { task_key: 'orphan', name: 'orphan-task', state: { type: 'RUNNING' } });

  // Re-read every run and task run: later writes (a sub-flow, a deletion) must not have changed them.
  for (const name of RUN_NAMES) runs[name] = await getOk(h, `/api/flow_runs/${runs[name].id}`);
  for (const name of TASK_NAMES) tasks[name] = await getOk(h, `/api/task_runs/${tasks[name].id}`);

  const artifacts: Record<string, any> = {};
  const runId = (r: RunName | 'orphan' | null, orphan: string) => (r === null ? null : r === 'orphan' ? orphan : runs[r].id);
  const taskId = (t: TaskName | 'orphan' | null) => (t === null ? null : t === 'orphan' ? ORPHAN_TR : tasks[t].id);
  const TYPES: Record<string, string | null> = {
    r1: 'table', r2: 'markdown', r3: null, r4: 'result', r5: 'table', r6: 'markdown', r7: 'table', r8: 'result',
    r9: 'markdown', r10: 'table', orphan: 'table', nokey: 'table', bare: null, tronly: 'progress', multi1: 'table',
    back1: 'table', multi2: 'markdown', back2: 'table',
  };
  for (const name of ARTIFACT_NAMES) {
    const link = ARTIFACT_LINKS[name];
    artifacts[name] = await h.create({
      key: link.key,
      type: TYPES[name],
      data: name,
      flow_run_id: runId(link.fr, name === 'back2' ? ORPHAN_FR2 : ORPHAN_FR),
      task_run_id: taskId(link.tr),
    });
  }
  const patched = await h.call('PATCH', `/api/artifacts/${artifacts.r4.id}`, { description: 'touched' });
  if (patched.status !== 204) throw new Error(`seed: PATCH r4 → ${patched.status}`);
  artifacts.r4 = await getOk(h, `/api/artifacts/${artifacts.r4.id}`);

  // What the filters rely on; mismatches are reported by a test rather than thrown here.
  const R = runs;
  for (const [name, state, stateName] of [
    ['R1', 'COMPLETED', 'Completed'], ['R2', 'FAILED', 'Failed'], ['R3', 'SCHEDULED', 'Scheduled'], ['R4', 'RUNNING', 'Running'],
    ['R5', 'SCHEDULED', 'Late'], ['R6', 'RUNNING', 'Running'], ['R7', 'RUNNING', 'Running'], ['R8', 'PENDING', 'Pending'],
    ['R9', 'PENDING', 'Pending'], ['R10', 'CANCELLED', 'Cancelled'],
  ] as const) {
    check(`${name}.state_type`, R[name].state_type, state);
    check(`${name}.state_name`, R[name].state_name, stateName);
  }
  check('R3.tags (deployment tags ∪ given)', [...R.R3.tags].sort(), ['eu', 'extra', 'prod']);
  check('R6.tags (deployment tags)', [...R.R6.tags].sort(), ['prod']);
  check('R3.deployment_id', R.R3.deployment_id, deployments.D1.id);
  check('R6.deployment_id', R.R6.deployment_id, deployments.D3.id);
  check('R7.deployment_id (dangling)', R.R7.deployment_id, deployments.D4.id);
  check('R9.deployment_id', R.R9.deployment_id, GHOST_DEPLOYMENT);
  check('R3.work_queue_name', R.R3.work_queue_name, 'q-a');
  check('R6.work_queue_name', R.R6.work_queue_name, 'q-b');
  check('R3.expected_start_time', R.R3.expected_start_time, SCHEDULED_2031);
  check('R3.next_scheduled_start_time', R.R3.next_scheduled_start_time, SCHEDULED_2031);
  check('R5.expected_start_time', R.R5.expected_start_time, LATE_2020);
  check('R5.next_scheduled_start_time', R.R5.next_scheduled_start_time, LATE_2020);
  check('R8.parent_task_run_id', R.R8.parent_task_run_id, tasks.T1.id);
  check('T5.expected_start_time', tasks.T5.expected_start_time, TASK_2030);
  check('T3.flow_run_id', tasks.T3.flow_run_id, null);
  for (const name of RUN_NAMES) {
    const started = ['R1', 'R4', 'R6', 'R7', 'R10'].includes(name);
    check(`${name}.start_time set`, R[name].start_time !== null, started);
    check(`${name}.end_time set`, R[name].end_time !== null, name === 'R1' || name === 'R10');
    check(`${name}.created_by`, R[name].created_by, null);
    if (!['R3', 'R5'].includes(name)) check(`${name}.next_scheduled_start_time`, R[name].next_scheduled_start_time, null);
  }
  for (const name of TASK_NAMES) {
    check(`${name}.start_time set`, tasks[name].start_time !== null, name === 'T1' || name === 'T3');
    check(`${name}.end_time`, tasks[name].end_time, null);
  }
  // Strictly increasing times in creation order (the bounds tests rely on it).
  const increasing = (what: string, values: (string | null)[]) => {
    const us = values.map((v) => (v === null ? NaN : micros(v)));
    for (let i = 1; i < us.length; i++) if (!(us[i] > us[i - 1])) problems.push(`${what} not strictly increasing: ${values.join(', ')}`);
  };
  increasing('run start_time R1<R4<R6<R7<R10', [R.R1.start_time, R.R4.start_time, R.R6.start_time, R.R7.start_time, R.R10.start_time]);
  increasing('run end_time R1<R10', [R.R1.end_time, R.R10.end_time]);
  increasing('run expected_start_time R5<R1<R2<R4<R6<R7<R8<R9<R10<R3', [
    R.R5.expected_start_time, R.R1.expected_start_time, R.R2.expected_start_time, R.R4.expected_start_time, R.R6.expected_start_time,
    R.R7.expected_start_time, R.R8.expected_start_time, R.R9.expected_start_time, R.R10.expected_start_time, R.R3.expected_start_time,
  ]);
  increasing('task start_time T1<T3', [tasks.T1.start_time, tasks.T3.start_time]);
  increasing('task expected_start_time T1<T2<T4<T3<T5', [
    tasks.T1.expected_start_time, tasks.T2.expected_start_time, tasks.T4.expected_start_time, tasks.T3.expected_start_time,
    tasks.T5.expected_start_time,
  ]);

  return { flows, deployments, runs, tasks, artifacts, problems };
}

// ── expectations ─────────────────────────────────────────────────────────────────────────────

export function rows(reply: Reply): any[] {
  expect(reply.status).toBe(200);
  expect(Array.isArray(reply.body)).toBe(true);
  return reply.body;
}

/** Artifact names whose flow run is one of `runNames` (existing runs only). */
export const artifactsOfRuns = (runNames: readonly string[]) =>
  ARTIFACT_NAMES.filter((n) => runNames.includes(ARTIFACT_LINKS[n].fr as string));
/** Keys whose latest version's flow run is one of `runNames`. */
export const keysOfRuns = (runNames: readonly string[]) =>
  ALL_KEYS.filter((k) => runNames.includes(ARTIFACT_LINKS[LATEST_OF[k]].fr as string));
export const artifactsOfTasks = (taskNames: readonly string[]) =>
  ARTIFACT_NAMES.filter((n) => taskNames.includes(ARTIFACT_LINKS[n].tr as string));
export const keysOfTasks = (taskNames: readonly string[]) =>
  ALL_KEYS.filter((k) => taskNames.includes(ARTIFACT_LINKS[LATEST_OF[k]].tr as string));
export const keysOfArtifacts = (names: readonly string[]) =>
  ALL_KEYS.filter((k) => names.includes(LATEST_OF[k]));

export function expecter(h: () => Harness, world: () => World) {
  /** /filter returns exactly these artifacts, /count their number. */
  async function artifacts(body: Record<string, unknown>, names: readonly string[]) {
    const w = world();
    const got = rows(await h().call('POST', FILTER, body)).map((a) => a.id);
    const want = names.map((n) => w.artifacts[n].id);
    const label = (ids: string[]) => sorted(ids.map((id) => ARTIFACT_NAMES.find((n) => w.artifacts[n].id === id) ?? id));
    expect(label(got)).toEqual(label(want));
    expect(got).toHaveLength(want.length); // no duplicates
    const counted = await h().call('POST', COUNT, body);
    expect(counted.status).toBe(200);
    expect(counted.body).toBe(names.length);
  }
  /** /latest/filter returns exactly the rows of these keys, /latest/count their number. */
  async function latest(body: Record<string, unknown>, keys: readonly string[]) {
    const w = world();
    const got = rows(await h().call('POST', LATEST_FILTER, body));
    expect(sorted(got.map((r) => r.key))).toEqual(sorted([...keys]));
    for (const row of got) expect(row.latest_id).toBe(w.artifacts[LATEST_OF[row.key]].id);
    const counted = await h().call('POST', LATEST_COUNT, body);
    expect(counted.status).toBe(200);
    expect(counted.body).toBe(keys.length);
  }
  /** The four routes agree with a flow-run-level expectation: exactly the artifacts of these runs. */
  async function runs(body: Record<string, unknown>, runNames: readonly string[]) {
    await artifacts(body, artifactsOfRuns(runNames));
    await latest(body, keysOfRuns(runNames));
  }
  /** Same for a task-run-level expectation. */
  async function tasks(body: Record<string, unknown>, taskNames: readonly string[]) {
    await artifacts(body, artifactsOfTasks(taskNames));
    await latest(body, keysOfTasks(taskNames));
  }
  /** Artifact-level expectation on /filter + /count and its consequence on /latest/*. */
  async function both(body: Record<string, unknown>, names: readonly string[], latestKeys: readonly string[]) {
    await artifacts(body, names);
    await latest(body, latestKeys);
  }
  return { artifacts, latest, runs, tasks, both };
}

/**
 * Seeds the world once for the enclosing file or describe block and closes it afterwards, and
 * registers the test (named `title`) that the seeded world came out as described. Returns getters
 * for the harness and the world, and an expecter over them. The world lives on `backend`.
 */
export function sharedWorld(title = 'the seeded world is as described', backend: Backend = 'lmdb') {
  let h: Harness;
  let w: World;
  beforeAll(async () => {
    h = await harness({}, backend);
    w = await seedWorld(h);
  });
  afterAll(async () => {
    await h.close();
  });
  test(title, () => {
    expect(w.problems).toEqual([]);
  });
  return { h: () => h, w: () => w, expectThat: expecter(() => h, () => w) };
}
