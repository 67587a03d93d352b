/**
 * Layout version 11 (task runs in shared msgpack structures): a store whose task runs were
 * written before, as plain msgpack, opens under 11 with every run read as it was; new and
 * rewritten runs (the task-run recorder, a sub-flow's parent) sit beside the old ones, and
 * everything still reads after another restart.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { open } from 'lmdb';
import type { TaskRunRecord } from '../../../src/store/companion-records.ts';
import { LAYOUT_VERSION, LmdbStore as Store } from '../../../src/store/lmdb/store.ts';
import { storeVersion } from '../../../src/store/lmdb/upgrade.ts';
import { buildState } from '../../../src/store/states.ts';
import { tempDir } from '../../helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test('task runs written before version 11 read as they were, beside new ones, across restarts', async () => {
  const dir = tempDir();
  dirs.push(dir);
  let store = Store.open(dir);
  const flow = (await store.flows.create({ name: 'etl', tags: [] } as never)).record;
  const run = (await store.flowRuns.create({ flow_id: flow.id, name: 'r' } as never)).record;
  const tasks: TaskRunRecord[] = [];
  for (let i = 0; i < 30; i++) {
    const created = await store.taskRuns.create({ flow_run_id: run.id, task_key: `t${i % 7}`, dynamic_key: `${i}`, name: `x-${i}`, tags: i % 2 ? ['etl'] : [], ...(i % 3 ? { state: { type: 'RUNNING' } } : {}) } as never);
    tasks.push(created.record);
  }
  const parent = tasks[0];
  const child = (await store.flowRuns.create({ flow_id: flow.id, name: 'child', parent_task_run_id: parent.id } as never)).record;
  await store.close();

  // What a version-10 build left: the same runs as plain msgpack, the store stamped 10.
  const env = open({ path: dir, noSubdir: false, maxDbs: 64, sharedStructuresKey: Symbol.for('structures') });
  const plain = env.openDB<TaskRunRecord, string>({ name: 'taskRuns' });
  await env.transaction(() => {
    for (const task of tasks) plain.put(task.id, task);
    env.openDB<number, string>({ name: 'meta' }).put('schema', 10);
  });
  await env.close();

  store = Store.open(dir);
  expect(storeVersion(store.dbs)).toBe(LAYOUT_VERSION);
  expect(LAYOUT_VERSION).toBeGreaterThanOrEqual(11);
  for (const task of tasks) expect(store.taskRuns.get(task.id)).toEqual(task);
  expect(store.check()).toEqual([]);
  // New and rewritten runs beside the old ones.
  await store.flowRuns.setState(child.id, { type: 'COMPLETED' } as never);
  const observed = tasks[1];
  const state = { ...buildState({ type: 'COMPLETED' } as never, Date.now() * 1000 + 1e6, { flowRunId: run.id, taskRunId: observed.id }), id: crypto.randomUUID() };
  await store.events.append([], [{ id: observed.id, flow_run_id: run.id, fields: { run_count: 1 }, state }]);
  const fresh = (await store.taskRuns.create({ flow_run_id: run.id, task_key: 'new', dynamic_key: '0', name: 'new' } as never)).record;
  const expected = (s: Store) => [...tasks.map((t) => t.id), fresh.id].map((id) => s.taskRuns.get(id));
  const before = expected(store);
  expect(before[0]!.state_type).toBe('COMPLETED');
  expect(before[1]!.state_type).toBe('COMPLETED');
  expect(before[2]).toEqual(tasks[2]);
  expect(store.check()).toEqual([]);
  expect(store.taskRuns.count({ task_runs: { state: { type: { any_: ['COMPLETED'] } } } } as never)).toBe(2);
  await store.close();

  store = Store.open(dir);
  expect(expected(store)).toEqual(before);
  expect(store.check()).toEqual([]);
  await store.close();
});
