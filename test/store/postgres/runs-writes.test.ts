/**
 * The PostgreSQL companion repositories write as LMDB's do: one script of creates, re-creates,
 * refusals, state changes, updates and cascading deletes runs against both stores through the
 * storage contract, and every outcome and the final records (ids numbered by first sight,
 * times blanked) must be equal. Then what only several processes can show: concurrent creates
 * from two pools resolve like one, and a CSRF token one pool issued is valid on the other.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, testDatabaseUrl } from '../../postgres/cluster.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import type { DeploymentRepository, FlowRepository, FlowRunRepository, TaskRunRepository } from '../../../src/store/contract.ts';
import { Refusal } from '../../../src/store/refusal.ts';
import { Db } from '../../../src/store/postgres/db.ts';
import { migrate } from '../../../src/store/postgres/migrations.ts';
import { PostgresCsrfTokens } from '../../../src/store/postgres/csrf-tokens.ts';
import { PostgresDeployments } from '../../../src/store/postgres/deployments.ts';
import { PostgresFlowRuns } from '../../../src/store/postgres/flow-runs.ts';
import { PostgresFlows } from '../../../src/store/postgres/flows.ts';
import { PostgresTaskRuns } from '../../../src/store/postgres/task-runs.ts';
import { flowRunJson } from '../../../src/store/companion-records.ts';

const url = await testDatabaseUrl();

interface Repos {
  flows: FlowRepository;
  flowRuns: FlowRunRepository;
  taskRuns: TaskRunRepository;
  deployments: DeploymentRepository;
}

const TIMES = new Set(['created', 'updated', 'timestamp', 'start_time', 'end_time', 'expected_start_time', 'next_scheduled_start_time', 'total_run_time']);

/** A log of outcomes with ids numbered by first appearance and times blanked. */
function normalizer() {
  const ids = new Map<string, string>();
  const norm = (value: unknown, key = ''): unknown => {
    if (typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) {
      if (!ids.has(value)) ids.set(value, `#${ids.size}`);
      return ids.get(value);
    }
    if (typeof value === 'number' && TIMES.has(key)) return 'T';
    if (key === 'scheduled_time' && value !== null) return 'T';
    if (Array.isArray(value)) return value.map((v) => norm(v));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, norm(v, k)]));
    return value;
  };
  return norm;
}

async function outcome(work: Promise<unknown>): Promise<unknown> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Refusal) return { refused: error.kind, message: error.message };
    throw error;
  }
}

const UNKNOWN = '0190f3a2-0000-7000-8000-000000000000';
const PAGE = { offset: 0, limit: 1000 };

/** The script: every write path, its refusals, and the cascades; returns the normalized log. */
async function script(s: Repos): Promise<unknown[]> {
  const norm = normalizer();
  const log: unknown[] = [];
  const note = async (what: string, work: Promise<unknown>) => {
    const result = await outcome(work);
    log.push([what, norm(result)]);
    return result as any;
  };
  const f1 = (await note('flow', s.flows.create({ name: 'etl', tags: ['a'] }))).record.id;
  await note('flow again', s.flows.create({ name: 'etl', tags: ['other'] }));
  const f2 = (await note('flow ETL', s.flows.create({ name: 'ETL', labels: { b: 1, a: 'ü' } } as never))).record.id;
  const f3 = (await note('flow nul', s.flows.create({ name: 'nul\0name' }))).record.id;
  await note('flow nul again', s.flows.create({ name: 'nul\0name' }));
  await note('flow update', s.flows.update(f2, ['x', 'y']));
  await note('flow update unknown', s.flows.update(UNKNOWN, ['x']));
  await note('byName', Promise.resolve(s.flows.byName('nul\0name')));
  await note('byName \uFFFD', Promise.resolve(s.flows.byName('nul\uFFFDname')));

  await note('run unknown flow', s.flowRuns.create({ flow_id: UNKNOWN, name: 'r' } as never));
  await note('run unknown parent', s.flowRuns.create({ flow_id: f1, name: 'r', parent_task_run_id: UNKNOWN } as never));
  await note('run infra doc', s.flowRuns.create({ flow_id: f1, name: 'r', infrastructure_document_id: UNKNOWN } as never));
  const r1 = (
    await note(
      'run 1',
      s.flowRuns.create({ flow_id: f1, name: 'one', idempotency_key: 'k', parameters: { z: 1, a: [1.5, 'é', null], '10': 2, '2': 3 }, tags: ['t'] } as never),
    )
  ).record.id;
  await note('run 1 again', s.flowRuns.create({ flow_id: f1, name: 'other', idempotency_key: 'k' } as never));
  await note('same key other flow', s.flowRuns.create({ flow_id: f2, name: 'two', idempotency_key: 'k' } as never));
  await note('empty key', s.flowRuns.create({ flow_id: f2, name: 'e', idempotency_key: '' } as never));
  await note('empty key again', s.flowRuns.create({ flow_id: f2, name: 'e', idempotency_key: '' } as never));
  await note('set state', s.flowRuns.setState(r1, { type: 'RUNNING' } as never));
  await note('set state unknown', s.flowRuns.setState(UNKNOWN, { type: 'RUNNING' } as never));
  await note('update run', s.flowRuns.update(r1, { name: 'renamed', tags: ['u'], flow_version: null } as never));
  await note('update unknown run', s.flowRuns.update(UNKNOWN, { name: 'x' } as never));

  await note('task unknown run', s.taskRuns.create({ flow_run_id: UNKNOWN, task_key: 'a', dynamic_key: '0', name: 't' } as never));
  const t1 = (await note('task 1', s.taskRuns.create({ flow_run_id: r1, task_key: 'a', dynamic_key: '0', name: 't1', state: { type: 'RUNNING' } } as never))).record.id;
  await note('task 1 again', s.taskRuns.create({ flow_run_id: r1, task_key: 'a', dynamic_key: '0', name: 'changed', tags: ['n'] } as never));
  await note('task 1 again, other id', s.taskRuns.create({ id: UNKNOWN, flow_run_id: r1, task_key: 'a', dynamic_key: '0', name: 't' } as never));
  const t2 = (await note('task no run', s.taskRuns.create({ task_key: 'a', dynamic_key: '0', name: 't2' } as never))).record.id;
  await note('task no run again', s.taskRuns.create({ task_key: 'a', dynamic_key: '0', name: 't2b' } as never));
  const own = '0190f3a2-1111-7000-8000-000000000001';
  await note('task client id', s.taskRuns.create({ id: own, flow_run_id: r1, task_key: 'b', dynamic_key: '0', name: 't3' } as never));
  await note('task client id taken', s.taskRuns.create({ id: own, flow_run_id: r1, task_key: 'c', dynamic_key: '0', name: 't4' } as never));
  // Sub-flow runs of t1 (in another flow) and of t2.
  const sub1 = (await note('subflow of t1', s.flowRuns.create({ flow_id: f2, name: 'sub1', parent_task_run_id: t1 } as never))).record.id;
  await note('subflow of t2', s.flowRuns.create({ flow_id: f3, name: 'sub2', parent_task_run_id: t2 } as never));
  await note('delete t2', s.taskRuns.delete(t2));
  await note('delete t2 again', s.taskRuns.delete(t2));

  await note('deployment work pool', s.deployments.create({ name: 'd', flow_id: f1, work_pool_name: 'p' } as never));
  await note('deployment unknown flow', s.deployments.create({ name: 'd', flow_id: UNKNOWN } as never));
  await note('deployment block doc', s.deployments.create({ name: 'd', flow_id: f1, storage_document_id: UNKNOWN } as never));
  const d1 = (await note('deployment', s.deployments.create({ name: 'd', flow_id: f1, tags: ['dt'], work_queue_name: 'q', parameters: { x: 1 }, parameter_openapi_schema: { type: 'object', properties: { x: { type: 'integer' } } } } as never))).record.id;
  await note('deployment overwrite', s.deployments.create({ name: 'd', flow_id: f1, version: '2', paused: true, parameter_openapi_schema: { type: 'object', properties: { x: { type: 'integer' } } } } as never));
  await note('deployment other flow', s.deployments.create({ name: 'd', flow_id: f2 } as never));
  await note('deployment run', s.deployments.createFlowRun(d1, { name: 'dr1', tags: ['extra', 'dt'], parameters: { x: 2 } } as never));
  await note('deployment run bad parameters', s.deployments.createFlowRun(d1, { name: 'dr2', parameters: { x: 'no' } } as never));
  await note('deployment run unknown', s.deployments.createFlowRun(UNKNOWN, { name: 'dr3' } as never));
  const dr = (await note('deployment run running', s.deployments.createFlowRun(d1, { name: 'dr4', state: { type: 'RUNNING' } } as never))).record.id;
  await note('deployment run key', s.deployments.createFlowRun(d1, { name: 'dr5', idempotency_key: 'k' } as never));
  await note('delete deployment', s.deployments.delete(d1));
  await note('delete deployment again', s.deployments.delete(d1));
  await note('running run kept', Promise.resolve(s.flowRuns.get(dr)));

  await note('delete run 1', s.flowRuns.delete(r1));
  await note('t1 gone', Promise.resolve(s.taskRuns.get(t1)));
  await note('sub1 detached', Promise.resolve(s.flowRuns.get(sub1)));
  await note('delete flow 2', s.flows.delete(f2));
  await note('delete flow 2 again', s.flows.delete(f2));

  for (const sort of ['NAME_ASC', 'CREATED_DESC']) {
    log.push(['flows', norm(await s.flows.find({}, sort, PAGE))]);
    log.push(['deployments', norm(await s.deployments.find({}, sort, PAGE))]);
  }
  log.push(['flow runs', norm(await s.flowRuns.find({}, 'NAME_ASC', PAGE))]);
  log.push(['task runs', norm(await s.taskRuns.find({}, 'NAME_ASC', PAGE))]);
  return log;
}

describe.skipIf(url === null)('PostgreSQL companion writes', () => {
  let dir: string;
  let lmdb: LmdbStore;
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let db: Db;
  let other: Db;
  let pg: Repos;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runs-writes-'));
    lmdb = LmdbStore.open(dir);
    fresh = await freshDatabase('runs_writes');
    db = new Db(fresh.url);
    other = new Db(fresh.url);
    await migrate(db);
    pg = { flows: new PostgresFlows(db), flowRuns: new PostgresFlowRuns(db), taskRuns: new PostgresTaskRuns(db), deployments: new PostgresDeployments(db) };
  });

  afterAll(async () => {
    await db?.close();
    await other?.close();
    await fresh?.drop();
    await lmdb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the same script gives the same outcomes and records as LMDB', async () => {
    const expected = await script(lmdb as unknown as Repos);
    const actual = await script(pg);
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) expect(actual[i]).toEqual(expected[i]);
  });

  test('records come back byte for byte: key order, floats, unicode, NUL', async () => {
    const { record: flow } = await pg.flows.create({ name: 'bytes' });
    const parameters = { z: 1, a: [1.5, 'é\u{1F600}', null, 'a\0b'], '10': 2, '2': 3, big: 1e300 };
    const { record } = await pg.flowRuns.create({ flow_id: flow.id, name: 'n\0', parameters, context: { nested: { y: 1, x: 2 } } } as never);
    const read = (await pg.flowRuns.get(record.id))!;
    expect(flowRunJson(read, null)).toBe(flowRunJson(record, null));
    expect(Object.keys(read.parameters)).toEqual(Object.keys(parameters));
    expect(read.name).toBe('n\0');
    expect((await pg.flowRuns.find({ flow_runs: { name: { any_: ['n\0'] } } } as never, 'ID_DESC', PAGE)).map((r) => r.id)).toEqual([record.id]);
  });

  test('concurrent creates from two pools resolve like one', async () => {
    const a: Repos = pg;
    const b: Repos = { flows: new PostgresFlows(other), flowRuns: new PostgresFlowRuns(other), taskRuns: new PostgresTaskRuns(other), deployments: new PostgresDeployments(other) };
    const both = (i: number) => (i % 2 === 0 ? a : b);
    const N = 32;
    const flows = await Promise.all(Array.from({ length: N }, (_, i) => both(i).flows.create({ name: 'contended' })));
    expect(new Set(flows.map((f) => f.record.id)).size).toBe(1);
    expect(flows.filter((f) => f.created).length).toBe(1);
    const flowId = flows[0].record.id;
    const runs = await Promise.all(Array.from({ length: N }, (_, i) => both(i).flowRuns.create({ flow_id: flowId, name: `r${i}`, idempotency_key: 'same' } as never)));
    expect(new Set(runs.map((r) => r.record.id)).size).toBe(1);
    expect(runs.filter((r) => r.created).length).toBe(1);
    const runId = runs[0].record.id;
    const tasks = await Promise.all(Array.from({ length: N }, (_, i) => both(i).taskRuns.create({ flow_run_id: runId, task_key: 'k', dynamic_key: 'd', name: `t${i}` } as never)));
    expect(new Set(tasks.map((t) => t.record.id)).size).toBe(1);
    expect(tasks.filter((t) => t.created).length).toBe(1);
    const nullTasks = await Promise.all(Array.from({ length: N }, (_, i) => both(i).taskRuns.create({ task_key: 'k', dynamic_key: 'd', name: `t${i}` } as never)));
    expect(new Set(nullTasks.map((t) => t.record.id)).size).toBe(1);
    const deployments = await Promise.all(Array.from({ length: N }, (_, i) => both(i).deployments.create({ name: 'dep', flow_id: flowId, version: `${i}` } as never)));
    expect(new Set(deployments.map((d) => d.record.id)).size).toBe(1);
    expect(deployments.filter((d) => d.created).length).toBe(1);
    expect(await a.deployments.count({ deployments: { name: { any_: ['dep'] } } } as never)).toBe(1);
    // Deletes racing creates under the same flow: every call answers, nothing half-done.
    const mixed = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        outcome(
          i % 8 === 0
            ? both(i).flows.delete(flowId)
            : both(i).flowRuns.create({ flow_id: flowId, name: `late${i}` } as never).then(async (r) => {
                await both(i + 1).taskRuns.create({ flow_run_id: r.record.id, task_key: 'x', dynamic_key: '0', name: 'x' } as never);
                return r;
              }),
        ),
      ),
    );
    for (const m of mixed) {
      if (typeof m === 'object' && m !== null && 'refused' in m) expect(m as unknown).toEqual({ refused: 'conflict', message: expect.any(String) });
    }
    expect(await a.flows.get(flowId)).toBeUndefined();
    const [orphans] = await db.unsafe<{ n: string }>(`SELECT (SELECT count(*) FROM flow_run WHERE flow_id = $1) + (SELECT count(*) FROM deployment WHERE flow_id = $1) AS n`, [flowId]);
    expect(Number(orphans.n)).toBe(0);
  }, 60_000);

  test('CSRF tokens: issued on one pool, valid on the other; a new one replaces the old; expired is invalid', async () => {
    const one = new PostgresCsrfTokens(db);
    const two = new PostgresCsrfTokens(other);
    const first = await one.issue('client-a', 3600);
    expect(await two.isValid('client-a', first.token)).toBe(true);
    expect(await two.isValid('client-b', first.token)).toBe(false);
    const second = await two.issue('client-a', 3600);
    expect(second.id).toBe(first.id);
    expect(second.created).toBe(first.created);
    expect(await one.isValid('client-a', first.token)).toBe(false);
    expect(await one.isValid('client-a', second.token)).toBe(true);
    const short = await one.issue('client-c', 0.001);
    await Bun.sleep(5);
    expect(await two.isValid('client-c', short.token)).toBe(false);
    await one.issue('client-d', 3600); // drops the expired token
    const [left] = await db.unsafe<{ n: string }>(`SELECT count(*) AS n FROM csrf_token WHERE client = 'client-c'`);
    expect(Number(left.n)).toBe(0);
  });
});
