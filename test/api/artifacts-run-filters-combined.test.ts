/**
 * How the artifact routes combine `artifacts`, `flow_runs`, `task_runs`, `flows` and
 * `deployments` (filters.md §8): existence of the referenced runs, dangling deployments, the
 * independence of the task-run condition, the five parts ANDed whatever `artifacts.operator`
 * says, the latest version's run ids on `/latest/*`, sorts and pages over filtered rows, the
 * upstream artifact tests that use run filters (own versions), later writes and deletions
 * changing what matches, and validation of run filters. Sources: shared/spec/filters.md §1, §4–9,
 * §11; artifacts-api.md §6.6–6.8, §7; companions.md §2–5; upstream-tests.md §1, §2.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';
import { LIMIT_MAX, LIMIT_MIN, issues, limitRejected, onlyIssue, type Issue } from './expect.ts';
import {
  ALL_KEYS,
  ALL_ROUTES,
  ARTIFACT_LINKS,
  ARTIFACT_NAMES,
  artifactsOfRuns,
  COUNT,
  deleteOk,
  FILTER,
  getOk,
  keysOfArtifacts,
  keysOfRuns,
  LATEST_COUNT,
  LATEST_FILTER,
  LATEST_OF,
  makeDeployment,
  makeFlow,
  makeRun,
  makeRunFromDeployment,
  makeTask,
  ORPHAN_FR,
  ORPHAN_TR,
  RUN_NAMES,
  rows,
  sharedWorld,
  setFlowRunState,
  sorted,
  UNKNOWN,
} from './run-filters-world.ts';
import { describeBackends } from '../backends.ts';

describeBackends('run filters combined', (backend) => {
  // ── the shared world ─────────────────────────────────────────────────────────────────────────

  describe('combination rules over the shared world', () => {
    const { h, w, expectThat } = sharedWorld(undefined, backend);
    const { both } = expectThat;

    test('no run filter, or all four null: every artifact / every key, orphans and keyless ones included', async () => {
      await both({}, ARTIFACT_NAMES, ALL_KEYS);
      await both({ flows: null, flow_runs: null, task_runs: null, deployments: null }, ARTIFACT_NAMES, ALL_KEYS);
      await both({ artifacts: null, flows: null }, ARTIFACT_NAMES, ALL_KEYS);
    });

    test('flows: {}, flow_runs: {} and deployments-free combinations drop null and orphan flow_run_ids', async () => {
      const withRun = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'nokey', 'multi1', 'back1', 'multi2'];
      // a-back's latest version points at nothing, a-tr-only's at no flow run, a-orphan's at nothing.
      const keys = ['a-r1', 'a-r2', 'a-r3', 'a-r4', 'a-r5', 'a-r6', 'a-r7', 'a-r8', 'a-r9', 'a-r10', 'a-multi'];
      await both({ flows: {} }, withRun, keys);
      await both({ flow_runs: {} }, withRun, keys);
      await both({ flows: {}, flow_runs: {} }, withRun, keys);
      await both({ flow_runs: {}, artifacts: {} }, withRun, keys);
    });

    test('deployments: {} also drops runs without a deployment, with a deleted one, or with an unknown one', async () => {
      // R1, R3 (D1), R6 (D3), R10 (D2); not R7 (D4 deleted), R9 (never stored), nor runs with none.
      await both({ deployments: {} }, ['r1', 'r3', 'r6', 'r10', 'nokey', 'multi1'], ['a-r1', 'a-r3', 'a-r6', 'a-r10']);
      await both({ deployments: {}, flows: {}, flow_runs: {} }, ['r1', 'r3', 'r6', 'r10', 'nokey', 'multi1'], [
        'a-r1', 'a-r3', 'a-r6', 'a-r10',
      ]);
      // The raw deployment id still matches through flow_runs.deployment_id…
      await both({ flow_runs: { deployment_id: { any_: [w().deployments.D4.id] } } }, ['r7'], ['a-r7']);
      // …but not once the deployments filter asks for the deployment itself.
      await both({ flow_runs: { deployment_id: { any_: [w().deployments.D4.id] } }, deployments: {} }, [], []);
    });

    test('task_runs: {} drops null and orphan task_run_ids, and needs no flow run', async () => {
      await both(
        { task_runs: {} },
        ['r1', 'r2', 'r4', 'r6', 'r7', 'nokey', 'tronly', 'multi1', 'multi2'],
        ['a-r1', 'a-r2', 'a-r4', 'a-r6', 'a-r7', 'a-tr-only', 'a-multi'],
      );
    });

    test('the task-run condition is independent of the flow-run one', async () => {
      // r6's task run T3 belongs to no flow run at all, yet r6 matches both conditions.
      await both({ flow_runs: { id: { any_: [w().runs.R6.id] } }, task_runs: { flow_run_id: { is_null_: true } } }, ['r6'], ['a-r6']);
      await both({ flows: { name: { any_: ['ml-train'] } }, task_runs: { name: { any_: ['orphan-task'] } } }, ['r6'], ['a-r6']);
      // Both must hold: no artifact has R1 with T2, and tronly (T3) has no flow run.
      await both({ flow_runs: { id: { any_: [w().runs.R1.id] } }, task_runs: { id: { any_: [w().tasks.T2.id] } } }, [], []);
      await both({ flow_runs: {}, task_runs: { id: { any_: [w().tasks.T3.id] } } }, ['r6'], ['a-r6']);
      await both({ flow_runs: { id: { any_: [w().runs.R2.id] } }, task_runs: { id: { any_: [w().tasks.T2.id] } } }, ['r2', 'multi2'], [
        'a-r2', 'a-multi',
      ]);
    });

    test('flows, flow_runs and deployments are evaluated on the same (the artifact\'s own) flow run', async () => {
      await both({ flows: { name: { any_: ['ml-train'] } }, deployments: {} }, ['r6'], ['a-r6']);
      await both({ flows: { deployment: { is_null_: true } }, deployments: {} }, [], []);
      await both({ flow_runs: { tags: { all_: ['prod'] } }, deployments: { tags: { all_: ['eu'] } } }, ['r3'], ['a-r3']);
      await both({ flows: { tags: { all_: ['blue'] } }, flow_runs: { tags: { all_: ['red'] } } }, ['r2', 'back1', 'multi2'], ['a-r2', 'a-multi']);
      await both({ flows: { id: { any_: [w().flows.F2.id] } }, flow_runs: { id: { any_: [w().runs.R1.id] } } }, [], []);
    });

    test('the five parts are ANDed even when artifacts.operator is or_', async () => {
      // (key = a-orphan OR type = result) AND the flow run exists.
      const orBody = { operator: 'or_', key: { any_: ['a-orphan'] }, type: { any_: ['result'] } };
      await both({ artifacts: orBody }, ['orphan', 'r4', 'r8'], ['a-orphan', 'a-r4', 'a-r8']);
      await both({ artifacts: orBody, flow_runs: {} }, ['r4', 'r8'], ['a-r4', 'a-r8']);
      await both({ artifacts: orBody, flow_runs: { state: { type: { any_: ['PENDING'] } } } }, ['r8'], ['a-r8']);
      // An or_ made TRUE by an empty sub-object does not make the run filters TRUE.
      await both({ artifacts: { operator: 'or_', key: {} }, deployments: { paused: { eq_: true } } }, ['r10'], ['a-r10']);
      await both({ artifacts: { operator: 'or_', type: {} }, task_runs: { name: { any_: ['Load_Data'] } } }, ['r4'], ['a-r4']);
    });

    test('artifacts.flow_run_id / task_run_id compare raw ids; run filters then still need the runs', async () => {
      await both({ artifacts: { flow_run_id: { any_: [ORPHAN_FR] } } }, ['orphan'], ['a-orphan']);
      await both({ artifacts: { flow_run_id: { any_: [ORPHAN_FR] } }, flows: {} }, [], []);
      await both({ artifacts: { task_run_id: { any_: [ORPHAN_TR] } } }, ['orphan'], ['a-orphan']);
      await both({ artifacts: { task_run_id: { any_: [ORPHAN_TR] } }, task_runs: {} }, [], []);
      await both({ artifacts: { flow_run_id: { any_: [w().runs.R1.id] } }, flow_runs: { id: { any_: [w().runs.R1.id] } } }, [
        'r1', 'nokey', 'multi1',
      ], ['a-r1']);
    });

    test('/latest/* use the run ids of the latest version only', async () => {
      // multi1 (R1) is not a-multi's latest; multi2 (R2) is. back1 (R2) is not a-back's latest.
      await both({ flow_runs: { id: { any_: [w().runs.R1.id] } } }, ['r1', 'nokey', 'multi1'], ['a-r1']);
      await both({ flow_runs: { id: { any_: [w().runs.R2.id] } } }, ['r2', 'back1', 'multi2'], ['a-r2', 'a-multi']);
      await both({ task_runs: { id: { any_: [w().tasks.T1.id] } } }, ['r1', 'nokey', 'multi1'], ['a-r1']);
      await both({ deployments: { id: { any_: [w().deployments.D1.id] } } }, ['r1', 'r3', 'nokey', 'multi1'], ['a-r1', 'a-r3']);
      // Latest rows carry the latest version's run ids.
      const latest = rows(await h().call('POST', LATEST_FILTER, { flow_runs: { id: { any_: [w().runs.R2.id] } } }));
      const multi = latest.find((r) => r.key === 'a-multi');
      expect(multi.flow_run_id).toBe(w().runs.R2.id);
      expect(multi.task_run_id).toBe(w().tasks.T2.id);
      expect(multi.latest_id).toBe(w().artifacts.multi2.id);
    });

    test('several filters of every kind at once', async () => {
      const body = {
        artifacts: { type: { any_: ['table'] } },
        flows: { tags: { all_: ['db'] } },
        flow_runs: { state: { type: { not_any_: ['SCHEDULED'] } } },
        deployments: { paused: { eq_: false } },
        task_runs: { tags: { all_: ['io'] } },
      };
      await both(body, ['r1', 'nokey', 'multi1'], ['a-r1']);
      await both({ ...body, artifacts: { type: { any_: ['table'] }, key: { exists_: true } } }, ['r1', 'multi1'], ['a-r1']);
      await both({ ...body, task_runs: { tags: { all_: ['cpu'] } } }, [], []);
      const wide = {
        flows: { operator: 'or_', name: { like_: 'report' }, tags: { is_null_: true } },
        flow_runs: { operator: 'or_', start_time: { is_null_: false }, state: { name: { any_: ['Late'] } } },
      };
      // F2 or F3 runs (R4–R8) that started or are Late: R4, R5, R6, R7.
      await both(wide, artifactsOfRuns(['R4', 'R5', 'R6', 'R7']), keysOfRuns(['R4', 'R5', 'R6', 'R7']));
      await both({ ...wide, task_runs: { state: { type: { any_: ['SCHEDULED', 'PENDING'] } } } }, ['r4', 'r7'], ['a-r4', 'a-r7']);
    });

    test('work_pools / work_pool_queues are not parameters of the artifact routes: ignored like unknown keys', async () => {
      await both({ work_pools: { name: { any_: ['nope'] } }, work_pool_queues: { id: { any_: [UNKNOWN] } } }, ARTIFACT_NAMES, ALL_KEYS);
      await both({ work_pools: {}, flow_runs: { id: { any_: [w().runs.R4.id] } } }, ['r4'], ['a-r4']);
    });

    // ── sorts and pages over filtered rows ──

    const keyOf = (n: string) => ARTIFACT_LINKS[n].key;
    const idOf = (n: string) => w().artifacts[n].id as string;
    const idDesc = (a: string, b: string) => (idOf(a) < idOf(b) ? 1 : idOf(a) > idOf(b) ? -1 : 0);
    const creationRank = (n: string) => ARTIFACT_NAMES.indexOf(n);
    // Versions of one key: KEY_ASC lists them oldest first, KEY_DESC newest first (README, Sorts).
    const keyAsc = (a: string, b: string) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      if (ka === kb) return creationRank(a) - creationRank(b);
      if (ka === null) return -1;
      if (kb === null) return 1;
      return ka < kb ? -1 : 1;
    };
    const keyDesc = (a: string, b: string) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      if (ka === kb) return creationRank(b) - creationRank(a);
      if (ka === null) return 1;
      if (kb === null) return -1;
      return ka < kb ? 1 : -1;
    };
    const createdDesc = (a: string, b: string) => creationRank(b) - creationRank(a);
    // r4 was PATCHed after everything else was created.
    const updatedDesc = (a: string, b: string) => (a === 'r4' ? -1 : b === 'r4' ? 1 : createdDesc(a, b));
    const ORDERS = { ID_DESC: idDesc, KEY_ASC: keyAsc, KEY_DESC: keyDesc, CREATED_DESC: createdDesc, UPDATED_DESC: updatedDesc };
    const names = (reply: any) => rows(reply).map((a) => ARTIFACT_NAMES.find((n) => idOf(n) === a.id) ?? a.id);

    const FILTERS: [string, Record<string, unknown>, string[]][] = [
      ['flow_runs tags ⊇ [db]', { flow_runs: { tags: { all_: ['db'] } } }, ['r1', 'r2', 'r10', 'nokey', 'multi1', 'back1', 'multi2']],
      ['task_runs {}', { task_runs: {} }, ['r1', 'r2', 'r4', 'r6', 'r7', 'nokey', 'tronly', 'multi1', 'multi2']],
    ];

    for (const [label, filter, expected] of FILTERS) {
      for (const [sort, order] of Object.entries(ORDERS)) {
        test(`/filter with ${label}, sort ${sort}: the right rows in the right order, and every page of it`, async () => {
          const want = [...expected].sort(order);
          expect(names(await h().call('POST', FILTER, { ...filter, sort }))).toEqual(want);
          for (const size of [1, 2, 3]) {
            const pages: string[] = [];
            for (let offset = 0; offset < want.length + size; offset += size) {
              pages.push(...names(await h().call('POST', FILTER, { ...filter, sort, limit: size, offset })));
            }
            expect(pages).toEqual(want);
          }
          expect(names(await h().call('POST', FILTER, { ...filter, sort, offset: want.length }))).toEqual([]);
          expect(names(await h().call('POST', FILTER, { ...filter, sort, limit: 0 }))).toEqual([]);
          const counted = await h().call('POST', COUNT, { ...filter, sort, limit: 1, offset: 3 });
          expect(counted.body).toBe(want.length);
        });
      }
    }

    test('/filter without a sort orders filtered rows by id descending', async () => {
      const want = ['r1', 'r2', 'r10', 'nokey', 'multi1', 'back1', 'multi2'].sort(idDesc);
      expect(names(await h().call('POST', FILTER, { flow_runs: { tags: { all_: ['db'] } } }))).toEqual(want);
    });

    test('/latest/filter sorts and pages filtered collection rows', async () => {
      const filter = { task_runs: {} };
      const keys = ['a-r1', 'a-r2', 'a-r4', 'a-r6', 'a-r7', 'a-tr-only', 'a-multi'];
      const got = (reply: any) => rows(reply).map((r) => r.key);
      expect(got(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'KEY_ASC' }))).toEqual([...keys].sort());
      expect(got(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'KEY_DESC' }))).toEqual([...keys].sort().reverse());
      // Collections: created = first time the key was seen; updated = last write to the latest version.
      expect(got(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'CREATED_DESC' }))).toEqual([
        'a-multi', 'a-tr-only', 'a-r7', 'a-r6', 'a-r4', 'a-r2', 'a-r1',
      ]);
      expect(got(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'UPDATED_DESC' }))).toEqual([
        'a-r4', 'a-multi', 'a-tr-only', 'a-r7', 'a-r6', 'a-r2', 'a-r1',
      ]);
      const byId = rows(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'ID_DESC' }));
      expect(sorted(byId.map((r) => r.key))).toEqual(sorted(keys));
      expect(byId.map((r) => r.id)).toEqual(byId.map((r) => r.id).sort().reverse());
      const byDefault = rows(await h().call('POST', LATEST_FILTER, filter));
      expect(byDefault.map((r) => r.id)).toEqual(byId.map((r) => r.id));
      expect(got(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'KEY_ASC', limit: 3, offset: 2 }))).toEqual(
        [...keys].sort().slice(2, 5),
      );
      expect(got(await h().call('POST', LATEST_FILTER, { ...filter, sort: 'KEY_ASC', offset: 7 }))).toEqual([]);
      expect((await h().call('POST', LATEST_COUNT, { ...filter, limit: 2 })).body).toBe(7);
    });

    test('limit rules still apply with run filters', async () => {
      for (const route of [FILTER, LATEST_FILTER]) {
        limitRejected(await h().call('POST', route, { flow_runs: {}, limit: 201 }), LIMIT_MAX);
        limitRejected(await h().call('POST', route, { deployments: {}, limit: -1 }), LIMIT_MIN);
        // The limit check comes before validation of the rest of the body.
        const both = await h().call('POST', route, { flow_runs: { state: { type: { any_: ['NOPE'] } } }, limit: 201 });
        expect(both.body).toEqual(LIMIT_MAX);
      }
    });

    test('a request for every run filter at once still answers quickly and consistently', async () => {
      const body = {
        flows: {}, flow_runs: {}, task_runs: {}, deployments: {},
      };
      await both(body, ['r1', 'r6', 'nokey', 'multi1'], ['a-r1', 'a-r6']);
    });
  });

  describe('ties under a run filter follow the documented tie-break (versions of a key in creation order)', () => {
    let h: Harness;
    let tied: string[];
    let others: any[];
    beforeAll(async () => {
      h = await harness({}, backend);
      const flow = await makeFlow(h, { name: 'tie-flow' });
      const run = await makeRun(h, { flow_id: flow.id });
      tied = [];
      // Eight versions of one key: the chance that creation order happens to be an id order is 2/8!.
      for (let i = 0; i < 8; i++) tied.push((await h.create({ key: 'tie', data: i, flow_run_id: run.id })).id);
      others = [await h.create({ key: 'a-first', flow_run_id: run.id }), await h.create({ key: 'z-last', flow_run_id: run.id })];
      await h.create({ key: 'tie', data: 'no run' });
    });
    afterAll(async () => {
      await h.close();
    });

    const ids = async (body: object) => rows(await h.call('POST', FILTER, body)).map((x) => x.id);
    test('KEY_ASC: versions of a key oldest first', async () => {
      expect(await ids({ flow_runs: {}, sort: 'KEY_ASC' })).toEqual([others[0].id, ...tied, others[1].id]);
    });

    test('KEY_DESC: versions of a key newest first', async () => {
      expect(await ids({ flow_runs: {}, sort: 'KEY_DESC' })).toEqual([others[1].id, ...[...tied].reverse(), others[0].id]);
    });

    test('pages of a tie keep the same order', async () => {
      const pages: string[] = [];
      for (let offset = 0; offset < 10; offset += 3) pages.push(...(await ids({ flow_runs: {}, sort: 'KEY_ASC', limit: 3, offset })));
      expect(pages).toEqual(await ids({ flow_runs: {}, sort: 'KEY_ASC' }));
    });
  });

  // ── upstream artifact tests that use run filters (own versions) ─────────────────────────────

  describe('upstream scenarios: artifacts of one flow run and task run', () => {
    let h: Harness;
    let flowRun: any;
    let taskRun: any;
    const a: any[] = [];
    const randomId = () => crypto.randomUUID();

    beforeAll(async () => {
      h = await harness({}, backend);
      const flow = await makeFlow(h, { name: 'a-flow' });
      flowRun = await makeRun(h, { flow_id: flow.id });
      taskRun = await makeTask(h, { flow_run_id: flowRun.id, task_key: 'a-task' });
      a.push(await h.create({ key: 'artifact-1', data: 1, type: 'table', flow_run_id: flowRun.id, task_run_id: taskRun.id }));
      a.push(await h.create({ key: 'artifact-2', data: 2, type: 'markdown', flow_run_id: flowRun.id, task_run_id: randomId() }));
      a.push(await h.create({ key: 'artifact-3', type: 'result', flow_run_id: randomId(), task_run_id: randomId() }));
      a.push(await h.create({ key: 'artifact-4' }));
      a.push(await h.create({ data: 1 }));
    });
    afterAll(async () => {
      await h.close();
    });

    test('flow_runs.id.any_ → the two artifacts of that run, on /filter, /count, /latest/*', async () => {
      const body = { flow_runs: { id: { any_: [flowRun.id] } } };
      const got = rows(await h.call('POST', FILTER, body));
      expect(sorted(got.map((x) => x.id))).toEqual(sorted([a[0].id, a[1].id]));
      expect(got.every((x) => x.flow_run_id === flowRun.id)).toBe(true);
      expect((await h.call('POST', COUNT, body)).body).toBe(2);
      const latest = rows(await h.call('POST', LATEST_FILTER, body));
      expect(sorted(latest.map((x) => x.key))).toEqual(['artifact-1', 'artifact-2']);
      expect((await h.call('POST', LATEST_COUNT, body)).body).toBe(2);
    });

    test('task_runs.id.any_ → the one artifact of that task run', async () => {
      const body = { task_runs: { id: { any_: [taskRun.id] } } };
      const got = rows(await h.call('POST', FILTER, body));
      expect(got.map((x) => x.id)).toEqual([a[0].id]);
      expect((await h.call('POST', COUNT, body)).body).toBe(1);
      expect(rows(await h.call('POST', LATEST_FILTER, body)).map((x) => x.key)).toEqual(['artifact-1']);
      expect((await h.call('POST', LATEST_COUNT, body)).body).toBe(1);
    });

    test('the Python client\'s full dumps (every field null, operator and_)', async () => {
      const body = {
        artifacts: { operator: 'and_', id: null, key: null, flow_run_id: null, task_run_id: null, type: null },
        flow_runs: {
          operator: 'and_', id: { any_: [flowRun.id], not_any_: null }, name: null, tags: null, deployment_id: null,
          work_queue_name: null, state: null, flow_version: null, start_time: null, expected_start_time: null,
          next_scheduled_start_time: null, parent_flow_run_id: null, parent_task_run_id: null, idempotency_key: null,
        },
        task_runs: null,
        sort: null,
        limit: null,
        offset: 0,
      };
      expect(sorted(rows(await h.call('POST', FILTER, body)).map((x) => x.id))).toEqual(sorted([a[0].id, a[1].id]));
      const tasksDump = {
        task_runs: {
          operator: 'and_', id: { any_: [taskRun.id] }, name: null, tags: null, state: null, start_time: null,
          expected_start_time: null, subflow_runs: null, flow_run_id: null,
        },
      };
      expect(rows(await h.call('POST', FILTER, tasksDump)).map((x) => x.id)).toEqual([a[0].id]);
    });

    test('without run filters all five come back, the orphans included', async () => {
      expect((await h.call('POST', COUNT, {})).body).toBe(5);
      expect((await h.call('POST', COUNT, { flow_runs: {} })).body).toBe(2);
      expect((await h.call('POST', COUNT, { task_runs: {} })).body).toBe(1);
    });
  });

  describe('upstream scenarios: two versions of a key on a flow run created from a deployment', () => {
    let h: Harness;
    let flow: any;
    let deployment: any;
    let v1: any;
    let v2: any;

    beforeAll(async () => {
      h = await harness({}, backend);
      flow = await makeFlow(h, { name: 'my-flow' });
      deployment = await makeDeployment(h, { name: 'my-deployment', flow_id: flow.id });
      const run = await makeRunFromDeployment(h, deployment.id, {});
      v1 = await h.create({ key: 'artifact-1', data: 1, type: 'table', flow_run_id: run.id });
      v2 = await h.create({ key: 'artifact-1', data: 2, type: 'table', flow_run_id: run.id });
      await h.create({ key: 'elsewhere', data: 3 });
    });
    afterAll(async () => {
      await h.close();
    });

    for (const [label, body] of [
      ['flows.name.any_', () => ({ flows: { name: { any_: ['my-flow'] } } })],
      ['deployments.id.any_', () => ({ deployments: { id: { any_: [deployment.id] } } })],
    ] as const) {
      test(`${label}: both versions on /filter and /count, one row (the second version) on /latest/*`, async () => {
        const got = rows(await h.call('POST', FILTER, body()));
        expect(sorted(got.map((x) => x.id))).toEqual(sorted([v1.id, v2.id]));
        expect((await h.call('POST', COUNT, body())).body).toBe(2);
        const latest = rows(await h.call('POST', LATEST_FILTER, body()));
        expect(latest).toHaveLength(1);
        expect(latest[0].key).toBe('artifact-1');
        expect(latest[0].latest_id).toBe(v2.id);
        expect(latest[0].data).toBe(2);
        expect((await h.call('POST', LATEST_COUNT, body())).body).toBe(1);
      });
    }

    test('a different flow name or deployment matches nothing', async () => {
      expect((await h.call('POST', COUNT, { flows: { name: { any_: ['other-flow'] } } })).body).toBe(0);
      expect((await h.call('POST', COUNT, { deployments: { id: { any_: [UNKNOWN] } } })).body).toBe(0);
      expect(rows(await h.call('POST', LATEST_FILTER, { deployments: { name: { any_: ['nope'] } } }))).toEqual([]);
    });
  });

  // ── later writes and deletions change what matches ──────────────────────────────────────────

  describe('matches follow later writes and deletions (artifacts are never deleted with runs)', () => {
    let h: Harness;
    let flowA: any;
    let flowB: any;
    let dep: any;
    let runA: any; // flow A, RUNNING, deployment dep
    let runB: any; // flow A, SCHEDULED via dep
    let runC: any; // flow B, sub-flow of taskA
    let taskA: any; // of runA
    const art: Record<string, any> = {};
    const countOf = async (route: string, body: object) => {
      const reply = await h.call('POST', route, body);
      expect(reply.status).toBe(200);
      return reply.body as number;
    };
    const idsOf = async (body: object) => sorted(rows(await h.call('POST', FILTER, body)).map((x) => x.id));
    const idsNamed = (...names: string[]) => sorted(names.map((n) => art[n].id));

    beforeEach(async () => {
      h = await harness({}, backend);
      flowA = await makeFlow(h, { name: 'flow-a' });
      flowB = await makeFlow(h, { name: 'flow-b' });
      dep = await makeDeployment(h, { name: 'dep', flow_id: flowA.id });
      runA = await makeRun(h, { flow_id: flowA.id, state: { type: 'RUNNING' }, deployment_id: dep.id });
      runB = await makeRunFromDeployment(h, dep.id, {});
      taskA = await makeTask(h, { flow_run_id: runA.id, task_key: 'ta' });
      runC = await makeRun(h, { flow_id: flowB.id, parent_task_run_id: taskA.id });
      art.a = await h.create({ key: 'k-a', flow_run_id: runA.id, task_run_id: taskA.id });
      art.b = await h.create({ key: 'k-b', flow_run_id: runB.id });
      art.c = await h.create({ key: 'k-c', flow_run_id: runC.id });
    });
    afterEach(async () => {
      await h.close();
    });

    test('seed: runB was created SCHEDULED from the deployment', () => {
      expect(runB.state_type).toBe('SCHEDULED');
      expect(runB.deployment_id).toBe(dep.id);
    });

    test('deleting a flow run: its artifacts stay but stop matching flow-run-based filters; its task runs go too', async () => {
      expect(await idsOf({ flow_runs: {} })).toEqual(idsNamed('a', 'b', 'c'));
      expect(await idsOf({ task_runs: {} })).toEqual(idsNamed('a'));
      await deleteOk(h, `/api/flow_runs/${runA.id}`);
      expect(await countOf(COUNT, {})).toBe(3);
      expect(await idsOf({ flow_runs: {} })).toEqual(idsNamed('b', 'c'));
      expect(await idsOf({ flows: {} })).toEqual(idsNamed('b', 'c'));
      expect(await idsOf({ task_runs: {} })).toEqual([]);
      expect(await idsOf({ artifacts: { flow_run_id: { any_: [runA.id] } } })).toEqual(idsNamed('a'));
      expect(await countOf(LATEST_COUNT, { flow_runs: {} })).toBe(2);
      expect(await countOf(LATEST_COUNT, { task_runs: {} })).toBe(0);
    });

    test('deleting the parent task run (via its flow run) unlinks the sub-flow run', async () => {
      const subflowOfA = { flow_runs: { parent_flow_run_id: { any_: [runA.id] } } };
      expect(await idsOf(subflowOfA)).toEqual(idsNamed('c'));
      expect(await idsOf({ flow_runs: { parent_task_run_id: { is_null_: false } } })).toEqual(idsNamed('c'));
      expect(await idsOf({ task_runs: { subflow_runs: { exists_: true } } })).toEqual(idsNamed('a'));
      await deleteOk(h, `/api/task_runs/${taskA.id}`);
      expect(await idsOf(subflowOfA)).toEqual([]);
      expect(await idsOf({ flow_runs: { parent_task_run_id: { is_null_: true } } })).toEqual(idsNamed('a', 'b', 'c'));
      expect(await idsOf({ task_runs: {} })).toEqual([]);
      expect(await idsOf({ flow_runs: {} })).toEqual(idsNamed('a', 'b', 'c'));
    });

    test('deleting a deployment removes its SCHEDULED runs and leaves the others dangling', async () => {
      expect(await idsOf({ deployments: {} })).toEqual(idsNamed('a', 'b'));
      await deleteOk(h, `/api/deployments/${dep.id}`);
      expect((await h.call('GET', `/api/flow_runs/${runB.id}`)).status).toBe(404);
      expect((await getOk(h, `/api/flow_runs/${runA.id}`)).deployment_id).toBe(dep.id);
      expect(await idsOf({ deployments: {} })).toEqual([]);
      expect(await idsOf({ flow_runs: {} })).toEqual(idsNamed('a', 'c'));
      expect(await idsOf({ flow_runs: { deployment_id: { any_: [dep.id] } } })).toEqual(idsNamed('a'));
      expect(await idsOf({ flows: { deployment: { is_null_: false } } })).toEqual([]);
      expect(await idsOf({ flows: { deployment: { is_null_: true } } })).toEqual(idsNamed('a', 'c'));
      expect(await countOf(COUNT, {})).toBe(3);
    });

    test('deleting a flow removes its runs and task runs: flow-based filters stop matching', async () => {
      await deleteOk(h, `/api/flows/${flowA.id}`);
      expect(await idsOf({ flows: {} })).toEqual(idsNamed('c'));
      expect(await idsOf({ task_runs: {} })).toEqual([]);
      expect(await idsOf({ flows: { name: { any_: ['flow-a'] } } })).toEqual([]);
      expect(await countOf(COUNT, {})).toBe(3);
      expect(await countOf(LATEST_COUNT, { flow_runs: {} })).toBe(1);
    });

    test('a state change moves a run in and out of state and time filters', async () => {
      const completed = { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } };
      const ended = { flow_runs: { end_time: { is_null_: false } } };
      expect(await idsOf(completed)).toEqual([]);
      expect(await idsOf(ended)).toEqual([]);
      await setFlowRunState(h, runA.id, 'COMPLETED');
      expect(await idsOf(completed)).toEqual(idsNamed('a'));
      expect(await idsOf(ended)).toEqual(idsNamed('a'));
      expect(await countOf(LATEST_COUNT, completed)).toBe(1);
    });

    test('an artifact whose task run appears later starts matching (references resolve at read time)', async () => {
      const later = crypto.randomUUID();
      art.d = await h.create({ key: 'k-d', task_run_id: later });
      expect(await idsOf({ task_runs: {} })).toEqual(idsNamed('a'));
      const created = await makeTask(h, { id: later, task_key: 'late', name: 'late-task' });
      expect(created.id).toBe(later);
      expect(await idsOf({ task_runs: {} })).toEqual(idsNamed('a', 'd'));
      expect(await idsOf({ task_runs: { name: { any_: ['late-task'] } } })).toEqual(idsNamed('d'));
      expect(await idsOf({ task_runs: { flow_run_id: {} } })).toEqual(idsNamed('a'));
    });

    test('deleting the latest version moves /latest/* to the previous version\'s run ids', async () => {
      const v2 = await h.create({ key: 'k-b', flow_run_id: UNKNOWN });
      const body = { flow_runs: { id: { any_: [runB.id] } } };
      expect(await countOf(LATEST_COUNT, body)).toBe(0);
      expect(await countOf(COUNT, body)).toBe(1);
      await deleteOk(h, `/api/artifacts/${v2.id}`);
      expect(await countOf(LATEST_COUNT, body)).toBe(1);
      const latest = rows(await h.call('POST', LATEST_FILTER, body));
      expect(latest.map((r) => [r.key, r.latest_id, r.flow_run_id])).toEqual([['k-b', art.b.id, runB.id]]);
    });
  });

  // ── validation inside run filters ───────────────────────────────────────────────────────────

  describe('validation of run filters (422 with the location of the fault)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({}, backend);
      await h.create({ key: 'v' });
    });
    afterAll(async () => {
      await h.close();
    });

    const INVALID: [string, Record<string, unknown>, Issue][] = [
      ['flow_runs.id.not_any_ bad uuid', { flow_runs: { id: { not_any_: ['nope'] } } }, { type: 'uuid_parsing', loc: ['body', 'flow_runs', 'id', 'not_any_', 0] }],
      ['flow_runs.state.type.not_any_ bad enum', { flow_runs: { state: { type: { not_any_: ['DONE'] } } } }, { type: 'enum', loc: ['body', 'flow_runs', 'state', 'type', 'not_any_', 0] }],
      ['flow_runs.state operator', { flow_runs: { state: { operator: 'nand' } } }, { type: 'enum', loc: ['body', 'flow_runs', 'state', 'operator'] }],
      ['flow_runs.name.any_ not a list', { flow_runs: { name: { any_: 'x' } } }, { type: 'list_type', loc: ['body', 'flow_runs', 'name', 'any_'] }],
      ['flow_runs.tags.all_ [null]', { flow_runs: { tags: { all_: [null] } } }, { type: 'string_type', loc: ['body', 'flow_runs', 'tags', 'all_', 0] }],
      [
        'flow_runs.expected_start_time.after_ garbage',
        { flow_runs: { expected_start_time: { after_: 'garbage' } } },
        { type: 'value_error', loc: ['body', 'flow_runs', 'expected_start_time', 'after_'], msg: 'Value error, Unable to parse string [garbage]' },
      ],
      [
        'flow_runs.next_scheduled_start_time.before_ garbage',
        { flow_runs: { next_scheduled_start_time: { before_: 'soon' } } },
        { type: 'value_error', loc: ['body', 'flow_runs', 'next_scheduled_start_time', 'before_'], msg: 'Value error, Unable to parse string [soon]' },
      ],
      ['flow_runs.expected_start_time.is_null_ (no such leaf)', { flow_runs: { expected_start_time: { is_null_: true } } }, { type: 'extra_forbidden', loc: ['body', 'flow_runs', 'expected_start_time', 'is_null_'] }],
      ['flow_runs.parent_flow_run_id.is_null_ (no such leaf)', { flow_runs: { parent_flow_run_id: { is_null_: true } } }, { type: 'extra_forbidden', loc: ['body', 'flow_runs', 'parent_flow_run_id', 'is_null_'] }],
      ['flow_runs.flow_version.like_ (no such leaf)', { flow_runs: { flow_version: { like_: '1' } } }, { type: 'extra_forbidden', loc: ['body', 'flow_runs', 'flow_version', 'like_'] }],
      ['flow_runs.idempotency_key operator (not an operator object)', { flow_runs: { idempotency_key: { operator: 'or_' } } }, { type: 'extra_forbidden', loc: ['body', 'flow_runs', 'idempotency_key', 'operator'] }],
      [
        'flow_runs.end_time.before_ garbage (newer field, still validated)',
        { flow_runs: { end_time: { before_: 'garbage' } } },
        { type: 'value_error', loc: ['body', 'flow_runs', 'end_time', 'before_'], msg: 'Value error, Unable to parse string [garbage]' },
      ],
      ['flow_runs.created_by.id_ bad uuid', { flow_runs: { created_by: { id_: ['nope'] } } }, { type: 'uuid_parsing', loc: ['body', 'flow_runs', 'created_by', 'id_', 0] }],
      ['flow_runs.created_by operator', { flow_runs: { created_by: { operator: 'xor' } } }, { type: 'enum', loc: ['body', 'flow_runs', 'created_by', 'operator'] }],
      ['flow_runs.created_by unknown leaf', { flow_runs: { created_by: { name_: ['x'] } } }, { type: 'extra_forbidden', loc: ['body', 'flow_runs', 'created_by', 'name_'] }],
      ['task_runs.flow_run_id.any_ bad uuid', { task_runs: { flow_run_id: { any_: ['nope'] } } }, { type: 'uuid_parsing', loc: ['body', 'task_runs', 'flow_run_id', 'any_', 0] }],
      ['task_runs.flow_run_id.is_null_ not a bool', { task_runs: { flow_run_id: { is_null_: 'maybe' } } }, { type: 'bool_parsing', loc: ['body', 'task_runs', 'flow_run_id', 'is_null_'] }],
      ['task_runs.subflow_runs.exists_ not a bool', { task_runs: { subflow_runs: { exists_: 'maybe' } } }, { type: 'bool_parsing', loc: ['body', 'task_runs', 'subflow_runs', 'exists_'] }],
      ['task_runs.state.type.not_any_ (not in TaskRunFilterStateType)', { task_runs: { state: { type: { not_any_: ['FAILED'] } } } }, { type: 'extra_forbidden', loc: ['body', 'task_runs', 'state', 'type', 'not_any_'] }],
      [
        'task_runs.end_time.after_ garbage',
        { task_runs: { end_time: { after_: 'garbage' } } },
        { type: 'value_error', loc: ['body', 'task_runs', 'end_time', 'after_'], msg: 'Value error, Unable to parse string [garbage]' },
      ],
      ['task_runs.tags.any_ (only flow-run and deployment tags have it)', { task_runs: { tags: { any_: ['x'] } } }, { type: 'extra_forbidden', loc: ['body', 'task_runs', 'tags', 'any_'] }],
      ['flows.id.not_any_ bad uuid', { flows: { id: { not_any_: ['nope'] } } }, { type: 'uuid_parsing', loc: ['body', 'flows', 'id', 'not_any_', 0] }],
      ['flows.deployment.is_null_ not a bool', { flows: { deployment: { is_null_: 'maybe' } } }, { type: 'bool_parsing', loc: ['body', 'flows', 'deployment', 'is_null_'] }],
      ['flows.name.any_ [1]', { flows: { name: { any_: [1] } } }, { type: 'string_type', loc: ['body', 'flows', 'name', 'any_', 0] }],
      ['flows.tags.any_ (only flow-run and deployment tags have it)', { flows: { tags: { any_: ['x'] } } }, { type: 'extra_forbidden', loc: ['body', 'flows', 'tags', 'any_'] }],
      ['deployments.id.not_any_ bad uuid', { deployments: { id: { not_any_: ['nope'] } } }, { type: 'uuid_parsing', loc: ['body', 'deployments', 'id', 'not_any_', 0] }],
      ['deployments.paused.eq_ not a bool', { deployments: { paused: { eq_: 'maybe' } } }, { type: 'bool_parsing', loc: ['body', 'deployments', 'paused', 'eq_'] }],
      ['deployments.concurrency_limit.le_ 1.5', { deployments: { concurrency_limit: { le_: 1.5 } } }, { type: 'int_from_float', loc: ['body', 'deployments', 'concurrency_limit', 'le_'] }],
      ['deployments.tags.any_ [null]', { deployments: { tags: { any_: [null] } } }, { type: 'string_type', loc: ['body', 'deployments', 'tags', 'any_', 0] }],
      ['deployments.flow_or_deployment_name.any_ (no such leaf)', { deployments: { flow_or_deployment_name: { any_: ['x'] } } }, { type: 'extra_forbidden', loc: ['body', 'deployments', 'flow_or_deployment_name', 'any_'] }],
      ['deployments.work_queue_name.like_ (no such leaf)', { deployments: { work_queue_name: { like_: 'q' } } }, { type: 'extra_forbidden', loc: ['body', 'deployments', 'work_queue_name', 'like_'] }],
    ];

    for (const [label, body, expected] of INVALID) {
      test(`${label} → ${expected.type}, on every route`, async () => {
        for (const route of ALL_ROUTES) {
          onlyIssue(await h.call('POST', route, body), body, expected);
        }
      });
    }

    test('faults in several run filters are reported together', async () => {
      const body = { flows: { name: { any_: [1] } }, deployments: { paused: { eq_: 'maybe' } }, task_runs: { id: { any_: ['x'] } } };
      const detail = issues(await h.call('POST', FILTER, body), body);
      expect(sorted(detail.map((d: any) => d.loc.join('.')))).toEqual(
        sorted(['body.flows.name.any_.0', 'body.deployments.paused.eq_', 'body.task_runs.id.any_.0']),
      );
    });

    test('every newer-Prefect field is accepted on every route', async () => {
      const body = {
        flows: { id: { not_any_: [UNKNOWN] } },
        flow_runs: {
          tags: { any_: ['x'] },
          end_time: { before_: '2100-01-01T00:00:00Z', after_: '2000-01-01T00:00:00+02:00', is_null_: null },
          created_by: { operator: 'or_', id_: [UNKNOWN], type_: ['DEPLOYMENT'], is_null_: true },
        },
        task_runs: { end_time: { before_: '2100-01-01T00:00:00Z', after_: null, is_null_: false } },
        deployments: { id: { not_any_: [] }, tags: { any_: ['x'] } },
      };
      for (const route of ALL_ROUTES) {
        const reply = await h.call('POST', route, body);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual(route === COUNT || route === LATEST_COUNT ? 0 : []);
      }
    });

    test('valid run filters over an empty world: [] and 0, never an error', async () => {
      for (const route of ALL_ROUTES) {
        for (const body of [{ flows: {} }, { flow_runs: {} }, { task_runs: {} }, { deployments: {} }]) {
          const reply = await h.call('POST', route, body);
          expect(reply.status).toBe(200);
          expect(reply.body).toEqual(route === COUNT || route === LATEST_COUNT ? 0 : []);
        }
      }
    });
  });

  // Keep the helpers referenced even when a describe above is skipped while debugging.
  void [ARTIFACT_NAMES, LATEST_OF, RUN_NAMES, keysOfArtifacts];
});
