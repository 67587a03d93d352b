/**
 * Task runs that change without a task-run route, on LMDB: observations made from
 * `prefect.task-run.*` events (applied in the events' transaction, as Prefect's task-run
 * recorder upserts) and a sub-flow run's state reaching its parent task run (set_state). Every
 * index and counter moves with the record (check), and the task-run queries see the result.
 */
import { afterEach, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import type { Event } from '../../../src/schemas/events.ts';
import type { ObservedTaskRunFields, TaskRunObservation } from '../../../src/store/contract.ts';
import { eventRecord } from '../../../src/store/event-records.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import { buildState } from '../../../src/store/states.ts';
import { nowMicros } from '../../../src/time.ts';
import { tempDir } from '../../helpers.ts';
import { seededRandom, testSeed } from '../seeded.ts';

const opened: { store: LmdbStore; dir: string }[] = [];
afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
function fresh(): LmdbStore {
  const dir = tempDir();
  const store = LmdbStore.open(dir);
  opened.push({ store, dir });
  return store;
}

const BASE = 1_767_225_600_000_000;
let serial = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;

async function flowRun(store: LmdbStore, extra: Record<string, unknown> = {}) {
  const flow = (await store.flows.create({ name: `f-${uuid()}`, tags: [] } as never)).record;
  return (await store.flowRuns.create({ flow_id: flow.id, name: 'r', ...extra } as never)).record;
}

/** What the recorder makes of one `prefect.task-run.<name>` event at `at` µs. */
function observed(taskRunId: string, flowRunId: string | null, type: string, name: string, at: number, fields: ObservedTaskRunFields = {}): TaskRunObservation {
  const state = { ...buildState({ type, name } as never, at, { flowRunId, taskRunId }), id: uuid() };
  return { id: taskRunId, flow_run_id: flowRunId, fields: { name: 'work-0', task_key: 'work', dynamic_key: '0', ...fields }, state };
}

const stateCount = (store: LmdbStore, type: string) => store.taskRuns.count({ task_runs: { state: { type: { any_: [type] } } } } as never);

test('events in order build the run: created by the first, moved by each newer one', async () => {
  const store = fresh();
  const run = await flowRun(store);
  const task = uuid();
  await store.events.append([], [observed(task, run.id, 'PENDING', 'Pending', BASE)]);
  expect(store.taskRuns.get(task)).toMatchObject({ flow_run_id: run.id, name: 'work-0', task_key: 'work', state_type: 'PENDING' });
  await store.events.append([], [observed(task, run.id, 'RUNNING', 'Running', BASE + 10, { run_count: 1, start_time: BASE + 10 })]);
  const completed = observed(task, run.id, 'COMPLETED', 'Completed', BASE + 20, { run_count: 1, start_time: BASE + 10, end_time: BASE + 20, total_run_time: 0.00001, tags: ['etl'] });
  await store.events.append([], [completed]);
  const stored = store.taskRuns.get(task)!;
  expect(stored).toMatchObject({ state_type: 'COMPLETED', state_name: 'Completed', state_id: completed.state.id, run_count: 1, end_time: BASE + 20, tags: ['etl'] });
  expect(stored.state).toMatchObject({ id: completed.state.id, timestamp: BASE + 20, state_details: { task_run_id: task, flow_run_id: run.id } });
  expect(store.counts().taskRuns).toBe(1);
  expect(stateCount(store, 'COMPLETED')).toBe(1);
  expect(stateCount(store, 'PENDING')).toBe(0);
  expect(store.check()).toEqual([]);
});

test('events out of order never move a run backwards; a late Pending and a duplicate change nothing', async () => {
  const store = fresh();
  const run = await flowRun(store);
  const task = uuid();
  const pending = observed(task, run.id, 'PENDING', 'Pending', BASE);
  const running = observed(task, run.id, 'RUNNING', 'Running', BASE + 10, { run_count: 1 });
  const completed = observed(task, run.id, 'COMPLETED', 'Completed', BASE + 20, { run_count: 1, end_time: BASE + 20 });
  await store.events.append([], [completed]);
  const after = store.taskRuns.get(task)!;
  await store.events.append([], [running]);
  await store.events.append([], [pending]);
  await store.events.append([], [completed]);
  expect(store.taskRuns.get(task)).toEqual(after);
  expect(after.state_type).toBe('COMPLETED');
  // In one batch, in any order, the newest wins too.
  const other = uuid();
  await store.events.append([], [observed(other, run.id, 'COMPLETED', 'Completed', BASE + 20, { dynamic_key: '1' }), observed(other, run.id, 'RUNNING', 'Running', BASE + 10, { dynamic_key: '1' })]);
  expect(store.taskRuns.get(other)!.state_type).toBe('COMPLETED');
  expect(store.counts().taskRuns).toBe(2);
  expect(store.check()).toEqual([]);
});

test('an observation of an unknown flow run is skipped; one with no flow run is kept', async () => {
  const store = fresh();
  const task = uuid();
  await store.events.append([], [observed(task, uuid(), 'RUNNING', 'Running', BASE)]);
  expect(store.taskRuns.get(task)).toBeUndefined();
  await store.events.append([], [observed(task, null, 'RUNNING', 'Running', BASE)]);
  expect(store.taskRuns.get(task)).toMatchObject({ flow_run_id: null, state_type: 'RUNNING' });
  expect(store.check()).toEqual([]);
});

test("an observation whose keys are another run's is skipped", async () => {
  const store = fresh();
  const run = await flowRun(store);
  const owner = (await store.taskRuns.create({ flow_run_id: run.id, task_key: 'work', dynamic_key: '0', name: 'work-0' } as never)).record;
  const task = uuid();
  await store.events.append([], [observed(task, run.id, 'RUNNING', 'Running', BASE)]);
  expect(store.taskRuns.get(task)).toBeUndefined();
  // The owner's own events go through.
  await store.events.append([], [observed(owner.id, run.id, 'COMPLETED', 'Completed', nowMicros() + 1_000_000)]);
  expect(store.taskRuns.get(owner.id)!.state_type).toBe('COMPLETED');
  expect(store.counts().taskRuns).toBe(1);
  expect(store.check()).toEqual([]);
});

test('a newer event that changes the keys moves the key entries', async () => {
  const store = fresh();
  const [a, b] = [await flowRun(store), await flowRun(store)];
  const task = uuid();
  await store.events.append([], [observed(task, a.id, 'PENDING', 'Pending', BASE, { tags: ['a', 'b'] })]);
  await store.events.append([], [observed(task, b.id, 'RUNNING', 'Running', BASE + 1, { task_key: 'other', dynamic_key: '7', name: 'renamed', tags: ['b', 'c', 'c'] })]);
  expect(store.taskRuns.get(task)).toMatchObject({ flow_run_id: b.id, task_key: 'other', dynamic_key: '7', name: 'renamed' });
  expect(store.check()).toEqual([]);
  const tagged = (tag: string) => store.taskRuns.count({ task_runs: { tags: { all_: [tag] } } } as never);
  expect([tagged('a'), tagged('b'), tagged('c')]).toEqual([0, 1, 1]);
  expect(store.taskRuns.count({ task_runs: { name: { any_: ['renamed'] } } } as never)).toBe(1);
  // The old keys are free again, the new ones taken.
  expect((await store.taskRuns.create({ flow_run_id: a.id, task_key: 'work', dynamic_key: '0' } as never)).created).toBe(true);
  expect((await store.taskRuns.create({ flow_run_id: b.id, task_key: 'other', dynamic_key: '7' } as never)).record.id).toBe(task);
  // Deleting the first flow run leaves the moved task run alone.
  await store.flowRuns.delete(a.id);
  expect(store.taskRuns.get(task)).toBeDefined();
  expect(store.check()).toEqual([]);
});

test('events and their observations are written together; a resent event still applies its observation', async () => {
  const store = fresh();
  const run = await flowRun(store);
  const task = uuid();
  const make = (name: string, at: number) =>
    eventRecord(
      {
        occurred: '',
        event: `prefect.task-run.${name}`,
        resource: { 'prefect.resource.id': `prefect.task-run.${task}` },
        related: [{ 'prefect.resource.id': `prefect.flow-run.${run.id}`, 'prefect.resource.role': 'flow-run' }],
        id: uuid(),
      } as Event,
      at,
      at,
    );
  const running = make('Running', BASE);
  const observation = observed(task, run.id, 'RUNNING', 'Running', BASE);
  observation.state.id = running.id; // as the recorder makes it: the state's id is the event's
  await store.events.append([running], [observation]);
  expect(store.counts()).toMatchObject({ events: 1, taskRuns: 1 });
  const completed = make('Completed', BASE + 5);
  await store.events.append([running, completed], [observed(task, run.id, 'COMPLETED', 'Completed', BASE + 5)]);
  expect(store.counts()).toMatchObject({ events: 2, taskRuns: 1 });
  expect(store.taskRuns.get(task)!.state_type).toBe('COMPLETED');
  const q = { since: 0, until: BASE * 2, order: 'ASC' as const, relatedIds: [`prefect.flow-run.${run.id}`] };
  expect((await store.events.find(q, 10, null)).events).toEqual([running.json, completed.json]);
  expect(store.check()).toEqual([]);
});

test("a sub-flow run's parent task run follows its states", async () => {
  const store = fresh();
  const parent = await flowRun(store);
  const task = (await store.taskRuns.create({ flow_run_id: parent.id, task_key: 'child', dynamic_key: '0', name: 'child-0' } as never)).record;
  const child = await flowRun(store, { parent_task_run_id: task.id });
  const running = (await store.flowRuns.setState(child.id, { type: 'RUNNING' } as never))!;
  let followed = store.taskRuns.get(task.id)!;
  expect(followed).toMatchObject({ state_type: 'RUNNING', state_name: 'Running', run_count: 1 });
  expect(followed.start_time).not.toBeNull();
  // A copy of the state: its own id and time, pointing at the sub-flow run.
  expect(followed.state!.id).not.toBe(running.state!.id);
  expect(followed.state!.state_details).toMatchObject({ flow_run_id: parent.id, task_run_id: task.id, child_flow_run_id: child.id });
  expect(followed.state_id).toBe(followed.state!.id);
  await store.flowRuns.setState(child.id, { type: 'COMPLETED' } as never);
  followed = store.taskRuns.get(task.id)!;
  expect(followed).toMatchObject({ state_type: 'COMPLETED', state_name: 'Completed' });
  expect(followed.end_time).not.toBeNull();
  expect(stateCount(store, 'COMPLETED')).toBe(1);
  expect(store.check()).toEqual([]);
  // The parent run's own state changes touch no task run; a run whose parent task is gone changes alone.
  await store.flowRuns.setState(parent.id, { type: 'FAILED' } as never);
  expect(store.taskRuns.get(task.id)!.state_type).toBe('COMPLETED');
  await store.taskRuns.delete(task.id);
  expect((await store.flowRuns.setState(child.id, { type: 'RUNNING' } as never))!.state_type).toBe('RUNNING');
  expect(store.check()).toEqual([]);
});

/**
 * A batch's observations of one run are written once (ObservedRuns): on random batches — runs
 * observed many times in any order, late and repeated events, tags, names and keys that change,
 * runs contending for one (flow run, task key, dynamic key), unknown flow runs — the store after
 * one append of the whole batch holds exactly what an append per observation leaves: the same
 * records (but for their write times) and the same index entries and counters.
 */
test('one append of a batch leaves what an append per observation leaves (random batches)', async () => {
  const seed = testSeed();
  const rand = seededRandom(seed);
  const STATES = [
    ['PENDING', 'Pending'],
    ['RUNNING', 'Running'],
    ['COMPLETED', 'Completed'],
    ['FAILED', 'Failed'],
    ['SCHEDULED', 'AwaitingRetry'],
    ['RUNNING', 'Retrying'],
  ] as const;
  for (let round = 0; round < 12; round++) {
    const [batched, single] = [fresh(), fresh()];
    const runsOf = async (store: LmdbStore) => [(await flowRun(store)).id, (await flowRun(store)).id];
    const [runsA, runsB] = [await runsOf(batched), await runsOf(single)];
    const tasks = Array.from({ length: 1 + rand.int(5) }, () => uuid());
    // Each observation names a flow run by index (2: one not stored, 3: none).
    const script = Array.from({ length: 1 + rand.int(40) }, () => {
      const [type, name] = rand.pick(STATES);
      return {
        task: rand.pick(tasks),
        run: rand.chance(0.9) ? rand.int(2) : rand.pick([2, 3]),
        type,
        name,
        at: BASE + rand.int(30) * 10,
        stateId: uuid(),
        fields: {
          name: rand.pick(['work-0', 'work-1']),
          task_key: 'work',
          dynamic_key: rand.chance(0.8) ? '0' : rand.pick(['1', '2']),
          tags: rand.some(['etl', 'critical', 'nightly']),
          run_count: rand.int(3),
        },
      };
    });
    const missing = uuid();
    const observations = (runs: string[]) =>
      script.map((o) => {
        const flowRunId = o.run === 3 ? null : o.run === 2 ? missing : runs[o.run];
        const observation = observed(o.task, flowRunId, o.type, o.name, o.at, o.fields);
        return { ...observation, state: { ...observation.state, id: o.stateId } };
      });
    await batched.events.append([], observations(runsA));
    for (const observation of observations(runsB)) await single.events.append([], [observation]);
    const dump = (store: LmdbStore, runs: string[]) => {
      const { dbs } = store;
      const out: Record<string, unknown[]> = { taskRuns: [...dbs.taskRuns.getRange({})].map(({ key, value }) => [key, { ...value, created: 0, updated: 0 }]) };
      for (const index of ['taskRunsByFlowRun', 'taskRunsByKeys', 'taskRunsByState', 'taskRunsByStateName', 'taskRunsByTag', 'taskRunsByName'] as const) {
        out[index] = [...dbs[index].getRange({})].map(({ key, value }) => [key, Buffer.isBuffer(value) ? null : value]);
      }
      // A counter at 0 and no counter are the same count.
      out.counters = [...dbs.counters.getRange({})].filter(({ key, value }) => /^(taskRuns|taskRunsBy)/.test(key) && value !== 0).map(({ key, value }) => [key, value]);
      return JSON.stringify(out).replaceAll(runs[0], 'RUN-0').replaceAll(runs[1], 'RUN-1');
    };
    expect(`seed ${seed}: ${dump(batched, runsA)}`).toBe(`seed ${seed}: ${dump(single, runsB)}`);
    expect(batched.check()).toEqual([]);
  }
});
