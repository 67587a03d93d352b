/**
 * The `task_runs` (TaskRunFilter), `flows` (FlowFilter) and `deployments` (DeploymentFilter)
 * filters on the four artifact read routes: every field and operator, the TaskRunFilterFlowRunId
 * decision table, sub-flow existence, `flow_or_deployment_name`, and the newer-Prefect fields
 * (`TaskRunFilter.end_time`, `FlowFilterId.not_any_`, `DeploymentFilterId.not_any_`,
 * `DeploymentFilterTags.any_`). Sources: shared/spec/filters.md §1, §5–§9, §11; companions.md.
 * The world is described in run-filters-world.ts.
 */
import { describe, test } from 'bun:test';
import {
  GHOST_DEPLOYMENT,
  micros,
  ORPHAN_FR,
  RUN_FLOW,
  RUN_NAMES,
  sharedWorld,
  TASK_2030,
  TASK_NAMES,
  UNKNOWN,
  utc,
  withOffset,
  type RunName,
  type TaskName,
} from './run-filters-world.ts';
import { describeBackends } from '../backends.ts';

describeBackends('run filters: task_runs, flows, deployments', (backend) => {
  const { w, expectThat } = sharedWorld(undefined, backend);
  const tasks = (task_runs: unknown, names: readonly TaskName[]) => expectThat.tasks({ task_runs }, names);
  const ALL_TASKS: readonly TaskName[] = TASK_NAMES;
  const WITH_FLOW_RUN: TaskName[] = ['T1', 'T2', 'T4', 'T5'];
  const tid = (t: TaskName) => w().tasks[t].id;
  const rid = (r: RunName) => w().runs[r].id;
  /** The runs of these flows. */
  const runsOf = (...flows: ('F1' | 'F2' | 'F3')[]) => RUN_NAMES.filter((r) => flows.includes(RUN_FLOW[r]));
  const byFlows = (flowFilter: unknown, flows: ('F1' | 'F2' | 'F3')[]) => expectThat.runs({ flows: flowFilter }, runsOf(...flows));
  /** Runs with a stored deployment: D1 → R1, R3; D2 → R10; D3 → R6 (R7's D4 was deleted, R9's never existed). */
  const DEPLOYMENT_RUNS = { D1: ['R1', 'R3'], D2: ['R10'], D3: ['R6'] } as const;
  const byDeployments = (deploymentFilter: unknown, deps: (keyof typeof DEPLOYMENT_RUNS)[]) =>
    expectThat.runs({ deployments: deploymentFilter }, deps.flatMap((d) => DEPLOYMENT_RUNS[d]));

  // ── task runs ────────────────────────────────────────────────────────────────────────────────

  describe('task_runs: presence', () => {
    test('{} keeps every artifact whose task run exists (the one without a flow run included)', async () => {
      await tasks({}, ALL_TASKS);
    });

    test('a full client dump with flow_run_id: null is no condition either', async () => {
      const dump = {
        operator: 'and_', id: null, name: null, tags: null, state: null, start_time: null, expected_start_time: null,
        subflow_runs: null, flow_run_id: null,
      };
      await tasks(dump, ALL_TASKS);
    });
  });

  describe('task_runs: id, name, tags', () => {
    test('id.any_', async () => {
      await tasks({ id: { any_: [tid('T1')] } }, ['T1']);
      await tasks({ id: { any_: [tid('T3').toUpperCase(), tid('T5')] } }, ['T3', 'T5']);
      await tasks({ id: { any_: [UNKNOWN] } }, []);
      await tasks({ id: { any_: [] } }, []);
    });

    test('name.any_ (exact) and name.like_ (case-insensitive, wildcards)', async () => {
      await tasks({ name: { any_: ['extract', 'Load_Data'] } }, ['T1', 'T4']);
      await tasks({ name: { any_: ['load_data'] } }, []);
      await tasks({ name: { like_: 'load' } }, ['T4']);
      await tasks({ name: { like_: 'LOAD_' } }, ['T4']);
      await tasks({ name: { like_: '_xtract' } }, ['T1']);
      await tasks({ name: { like_: 't%k' } }, ['T3', 'T5']);
      await tasks({ name: { like_: 'task' } }, ['T3', 'T5']);
      await tasks({ name: { like_: 'zzz' } }, []);
      await tasks({ name: { any_: ['extract', 'transform'], like_: 'TRANS' } }, ['T2']);
    });

    test('tags.all_, tags.is_null_ and the tags operator', async () => {
      await tasks({ tags: { all_: ['io'] } }, ['T1', 'T2']);
      await tasks({ tags: { all_: ['io', 'cpu'] } }, ['T2']);
      await tasks({ tags: { all_: ['IO'] } }, []);
      await tasks({ tags: { all_: [] } }, ALL_TASKS);
      await tasks({ tags: { is_null_: true } }, ['T3', 'T4']);
      await tasks({ tags: { is_null_: false } }, ['T1', 'T2', 'T5']);
      await tasks({ tags: { operator: 'or_', all_: ['cpu'], is_null_: true } }, ['T2', 'T5', 'T3', 'T4']);
      await tasks({ tags: { all_: ['cpu'], is_null_: true } }, []);
    });
  });

  describe('task_runs: state', () => {
    test('type.any_ and name.any_', async () => {
      await tasks({ state: { type: { any_: ['RUNNING'] } } }, ['T1', 'T3']);
      await tasks({ state: { type: { any_: ['SCHEDULED', 'PENDING'] } } }, ['T5', 'T4']);
      await tasks({ state: { type: { any_: [] } } }, []);
      await tasks({ state: { name: { any_: ['AwaitingRetry'] } } }, ['T5']);
      await tasks({ state: { name: { any_: ['Scheduled'] } } }, []);
      await tasks({ state: { name: { any_: ['failed'] } } }, []);
    });

    test('and_ intersects, or_ unites across type and name', async () => {
      await tasks({ state: { type: { any_: ['SCHEDULED'] }, name: { any_: ['AwaitingRetry'] } } }, ['T5']);
      await tasks({ state: { type: { any_: ['RUNNING'] }, name: { any_: ['AwaitingRetry'] } } }, []);
      await tasks({ state: { operator: 'or_', type: { any_: ['FAILED'] }, name: { any_: ['AwaitingRetry'] } } }, ['T2', 'T5']);
    });

    test('flattening: an empty type/name contributes nothing under or_', async () => {
      await tasks({ state: { operator: 'or_', type: {}, name: { any_: ['Pending'] } } }, ['T4']);
      await tasks({ state: { operator: 'or_', type: {}, name: {} } }, ALL_TASKS);
      await tasks({ state: {} }, ALL_TASKS);
      await tasks({ operator: 'or_', name: {}, state: { name: { any_: ['Pending'] } } }, ALL_TASKS);
    });
  });

  describe('task_runs: times', () => {
    test('start_time.is_null_ and inclusive bounds', async () => {
      await tasks({ start_time: { is_null_: true } }, ['T2', 'T4', 'T5']);
      await tasks({ start_time: { is_null_: false } }, ['T1', 'T3']);
      const t1 = micros(w().tasks.T1.start_time);
      const t3 = micros(w().tasks.T3.start_time);
      await tasks({ start_time: { before_: utc(t1) } }, ['T1']);
      await tasks({ start_time: { before_: utc(t1 - 1) } }, []);
      await tasks({ start_time: { after_: utc(t1 + 1) } }, ['T3']);
      await tasks({ start_time: { after_: withOffset(t1, 5), before_: withOffset(t3, -7) } }, ['T1', 'T3']);
      await tasks({ start_time: { after_: withOffset(t3, 1), before_: withOffset(t3, 1) } }, ['T3']);
    });

    test('expected_start_time bounds', async () => {
      await tasks({ expected_start_time: { after_: TASK_2030 } }, ['T5']);
      await tasks({ expected_start_time: { after_: '2030-02-02T00:00:00.000001Z' } }, []);
      await tasks({ expected_start_time: { after_: '2030-02-02T01:00:00+01:00' } }, ['T5']);
      await tasks({ expected_start_time: { before_: '2030-02-02T01:00:00+01:00' } }, ALL_TASKS);
      await tasks({ expected_start_time: { before_: '2030-02-01T23:59:59.999999Z' } }, ['T1', 'T2', 'T3', 'T4']);
      await tasks({ expected_start_time: { after_: '2030-02-02T00:00:00' } }, ['T5']);
      await tasks(
        { expected_start_time: { after_: w().tasks.T2.expected_start_time, before_: w().tasks.T3.expected_start_time } },
        ['T2', 'T4', 'T3'],
      );
    });

    test('end_time (newer Prefect): no task run here has one', async () => {
      await tasks({ end_time: { is_null_: true } }, ALL_TASKS);
      await tasks({ end_time: { is_null_: false } }, []);
      await tasks({ end_time: { after_: '2000-01-01T00:00:00Z' } }, []);
      await tasks({ end_time: { before_: '2100-01-01T00:00:00+05:00' } }, []);
      await tasks({ end_time: {} }, ALL_TASKS);
    });
  });

  describe('task_runs: subflow_runs', () => {
    test('exists_: true → task runs that a flow run names as its parent; false → the others', async () => {
      await tasks({ subflow_runs: { exists_: true } }, ['T1']);
      await tasks({ subflow_runs: { exists_: false } }, ['T2', 'T3', 'T4', 'T5']);
      await tasks({ subflow_runs: {} }, ALL_TASKS);
    });
  });

  describe('task_runs: flow_run_id decision table', () => {
    test('{} (is_null_ defaults to false) means "has a flow run"', async () => {
      await tasks({ flow_run_id: {} }, WITH_FLOW_RUN);
      await tasks({ flow_run_id: { any_: null } }, WITH_FLOW_RUN);
      await tasks({ flow_run_id: { is_null_: false } }, WITH_FLOW_RUN);
      await tasks({ flow_run_id: { operator: 'or_' } }, WITH_FLOW_RUN);
    });

    test('is_null_: true → no flow run, whatever any_ says (also under or_)', async () => {
      await tasks({ flow_run_id: { is_null_: true } }, ['T3']);
      await tasks({ flow_run_id: { is_null_: true, any_: [rid('R1')] } }, ['T3']);
      await tasks({ flow_run_id: { operator: 'or_', is_null_: true, any_: [rid('R1')] } }, ['T3']);
      await tasks({ flow_run_id: { is_null_: true, any_: [] } }, ['T3']);
    });

    test('any_ with is_null_ false/absent → in the list', async () => {
      await tasks({ flow_run_id: { any_: [rid('R1')] } }, ['T1']);
      await tasks({ flow_run_id: { is_null_: false, any_: [rid('R1'), rid('R2')] } }, ['T1', 'T2']);
      await tasks({ flow_run_id: { operator: 'or_', any_: [rid('R7')] } }, ['T5']);
      await tasks({ flow_run_id: { any_: [rid('R3'), ORPHAN_FR] } }, []);
      await tasks({ flow_run_id: { any_: [] } }, []);
    });

    test('explicit is_null_: null → no condition, or just the list', async () => {
      await tasks({ flow_run_id: { is_null_: null } }, ALL_TASKS);
      await tasks({ flow_run_id: { is_null_: null, any_: null } }, ALL_TASKS);
      await tasks({ flow_run_id: { is_null_: null, any_: [rid('R2')] } }, ['T2']);
      await tasks({ flow_run_id: { is_null_: null, any_: [] } }, []);
    });

    test('is_null_: true next to other task-run conditions', async () => {
      await tasks({ operator: 'or_', flow_run_id: { is_null_: true, any_: [rid('R1')] }, name: { any_: ['transform'] } }, ['T3', 'T2']);
      await tasks({ flow_run_id: { is_null_: true }, state: { type: { any_: ['RUNNING'] } } }, ['T3']);
    });
  });

  describe('task_runs: the TaskRunFilter operator', () => {
    test('and_ intersects, or_ unites', async () => {
      await tasks({ tags: { all_: ['io'] }, state: { type: { any_: ['FAILED'] } } }, ['T2']);
      await tasks({ operator: 'and_', subflow_runs: { exists_: false }, start_time: { is_null_: false } }, ['T3']);
      await tasks({ operator: 'or_', id: { any_: [tid('T4')] }, tags: { all_: ['cpu'] } }, ['T4', 'T2', 'T5']);
      await tasks({ operator: 'or_', subflow_runs: { exists_: true }, expected_start_time: { after_: TASK_2030 } }, ['T1', 'T5']);
    });
  });

  // ── flows ────────────────────────────────────────────────────────────────────────────────────

  describe('flows', () => {
    test('{} keeps every artifact of an existing flow run', async () => {
      await byFlows({}, ['F1', 'F2', 'F3']);
      await byFlows({ operator: 'and_', id: null, deployment: null, name: null, tags: null }, ['F1', 'F2', 'F3']);
    });

    test('id.any_ and (newer Prefect) id.not_any_', async () => {
      await byFlows({ id: { any_: [w().flows.F2.id] } }, ['F2']);
      await byFlows({ id: { any_: [w().flows.F1.id.toUpperCase(), w().flows.F3.id] } }, ['F1', 'F3']);
      await byFlows({ id: { any_: [] } }, []);
      await byFlows({ id: { not_any_: [w().flows.F1.id] } }, ['F2', 'F3']);
      await byFlows({ id: { not_any_: [w().flows.F1.id, w().flows.F3.id, UNKNOWN] } }, ['F2']);
      await byFlows({ id: { not_any_: [] } }, ['F1', 'F2', 'F3']);
      await byFlows({ id: { any_: [w().flows.F1.id, w().flows.F2.id], not_any_: [w().flows.F2.id] } }, ['F1']);
    });

    test('name.any_ (exact) and name.like_ (case-insensitive, wildcards)', async () => {
      await byFlows({ name: { any_: ['ml-train'] } }, ['F3']);
      await byFlows({ name: { any_: ['ML-TRAIN', 'report_weekly'] } }, []);
      await byFlows({ name: { like_: 'report' } }, ['F2']);
      await byFlows({ name: { like_: 't_-d' } }, ['F1']);
      await byFlows({ name: { like_: 'R%W' } }, ['F2']);
      await byFlows({ name: { like_: '' } }, ['F1', 'F2', 'F3']);
      await byFlows({ name: { like_: 'etl', any_: ['ml-train'] } }, []);
    });

    test('tags.all_, tags.is_null_, tags operator', async () => {
      await byFlows({ tags: { all_: ['db'] } }, ['F1', 'F2']);
      await byFlows({ tags: { all_: ['db', 'blue'] } }, ['F1']);
      await byFlows({ tags: { all_: [] } }, ['F1', 'F2', 'F3']);
      await byFlows({ tags: { is_null_: true } }, ['F3']);
      await byFlows({ tags: { is_null_: false } }, ['F1', 'F2']);
      await byFlows({ tags: { operator: 'or_', all_: ['blue'], is_null_: true } }, ['F1', 'F3']);
    });

    test('deployment.is_null_: flows without / with a deployment', async () => {
      await byFlows({ deployment: { is_null_: true } }, ['F2']);
      await byFlows({ deployment: { is_null_: false } }, ['F1', 'F3']);
      await byFlows({ deployment: {} }, ['F1', 'F2', 'F3']);
      await byFlows({ deployment: { operator: 'or_', is_null_: true } }, ['F2']);
    });

    test('the FlowFilter operator', async () => {
      await byFlows({ name: { like_: 'e' }, tags: { is_null_: false } }, ['F1', 'F2']);
      await byFlows({ operator: 'or_', name: { any_: ['Report_Weekly'] }, tags: { is_null_: true } }, ['F2', 'F3']);
      await byFlows({ operator: 'or_', deployment: { is_null_: true }, id: { any_: [w().flows.F3.id] } }, ['F2', 'F3']);
    });
  });

  // ── deployments ──────────────────────────────────────────────────────────────────────────────

  describe('deployments', () => {
    test('{} keeps artifacts whose run has a stored deployment (not a deleted or unknown one)', async () => {
      await byDeployments({}, ['D1', 'D2', 'D3']);
    });

    test('id.any_: a deleted or never-stored deployment id matches nothing', async () => {
      await byDeployments({ id: { any_: [w().deployments.D1.id] } }, ['D1']);
      await byDeployments({ id: { any_: [w().deployments.D4.id] } }, []);
      await byDeployments({ id: { any_: [GHOST_DEPLOYMENT] } }, []);
      await byDeployments({ id: { any_: [w().deployments.D3.id.toUpperCase(), w().deployments.D4.id] } }, ['D3']);
      await byDeployments({ id: { any_: [] } }, []);
    });

    test('id.not_any_ (newer Prefect)', async () => {
      await byDeployments({ id: { not_any_: [w().deployments.D1.id] } }, ['D2', 'D3']);
      await byDeployments({ id: { not_any_: [w().deployments.D4.id] } }, ['D1', 'D2', 'D3']);
      await byDeployments({ id: { not_any_: [] } }, ['D1', 'D2', 'D3']);
    });

    test('name.any_ and name.like_ ("_" is one character: "d_1" matches "train-d-1")', async () => {
      await byDeployments({ name: { any_: ['nightly-etl'] } }, ['D1']);
      await byDeployments({ name: { any_: ['doomed'] } }, []);
      await byDeployments({ name: { like_: 'ETL' } }, ['D1', 'D2']);
      await byDeployments({ name: { like_: 'd_1' } }, ['D3']);
      await byDeployments({ name: { like_: 'doom' } }, []);
    });

    test('flow_or_deployment_name.like_: the deployment name or its flow name', async () => {
      await byDeployments({ flow_or_deployment_name: { like_: 'nightly' } }, ['D1']);
      await byDeployments({ flow_or_deployment_name: { like_: 'ADHOC' } }, ['D2']);
      await byDeployments({ flow_or_deployment_name: { like_: 'daily' } }, ['D1', 'D2']);
      await byDeployments({ flow_or_deployment_name: { like_: 'ml-tr' } }, ['D3']);
      await byDeployments({ flow_or_deployment_name: { like_: 'etl' } }, ['D1', 'D2']);
      await byDeployments({ flow_or_deployment_name: { like_: 'report' } }, []);
      await byDeployments({ flow_or_deployment_name: { like_: 'ml%1' } }, []);
      await byDeployments({ flow_or_deployment_name: {} }, ['D1', 'D2', 'D3']);
    });

    test('paused.eq_ (lax booleans accepted)', async () => {
      await byDeployments({ paused: { eq_: true } }, ['D2']);
      await byDeployments({ paused: { eq_: false } }, ['D1', 'D3']);
      await byDeployments({ paused: { eq_: 'yes' } }, ['D2']);
      await byDeployments({ paused: {} }, ['D1', 'D2', 'D3']);
    });

    test('tags.all_, is_null_, any_ (newer Prefect) and the tags operator', async () => {
      await byDeployments({ tags: { all_: ['prod'] } }, ['D1', 'D3']);
      await byDeployments({ tags: { all_: ['prod', 'eu'] } }, ['D1']);
      await byDeployments({ tags: { all_: [] } }, ['D1', 'D2', 'D3']);
      await byDeployments({ tags: { is_null_: true } }, ['D2']);
      await byDeployments({ tags: { is_null_: false } }, ['D1', 'D3']);
      await byDeployments({ tags: { any_: ['eu', 'nope'] } }, ['D1']);
      await byDeployments({ tags: { any_: ['prod'] } }, ['D1', 'D3']);
      await byDeployments({ tags: { any_: ['PROD'] } }, []);
      await byDeployments({ tags: { operator: 'or_', all_: ['eu'], is_null_: true } }, ['D1', 'D2']);
      await byDeployments({ tags: { any_: ['prod'], all_: ['eu'] } }, ['D1']);
    });

    test('work_queue_name.any_', async () => {
      await byDeployments({ work_queue_name: { any_: ['q-b'] } }, ['D3']);
      await byDeployments({ work_queue_name: { any_: ['q-a', 'q-b'] } }, ['D1', 'D3']);
      await byDeployments({ work_queue_name: { any_: [] } }, []);
    });

    test('concurrency_limit ge_ / le_ (inclusive) / is_null_; nulls never match a bound', async () => {
      await byDeployments({ concurrency_limit: { ge_: 1 } }, ['D1']);
      await byDeployments({ concurrency_limit: { ge_: 5 } }, ['D1']);
      await byDeployments({ concurrency_limit: { ge_: 6 } }, []);
      await byDeployments({ concurrency_limit: { le_: 0 } }, ['D3']);
      await byDeployments({ concurrency_limit: { ge_: 0 } }, ['D1', 'D3']);
      await byDeployments({ concurrency_limit: { ge_: 0, le_: 4 } }, ['D3']);
      await byDeployments({ concurrency_limit: { le_: 100 } }, ['D1', 'D3']);
      await byDeployments({ concurrency_limit: { is_null_: true } }, ['D2']);
      await byDeployments({ concurrency_limit: { is_null_: false } }, ['D1', 'D3']);
      await byDeployments({ concurrency_limit: { ge_: '2' } }, ['D1']);
    });

    test('the DeploymentFilter operator', async () => {
      await byDeployments({ paused: { eq_: false }, tags: { all_: ['eu'] } }, ['D1']);
      await byDeployments({ operator: 'or_', paused: { eq_: true }, work_queue_name: { any_: ['q-b'] } }, ['D2', 'D3']);
      await byDeployments({ operator: 'or_', name: {}, id: { any_: [UNKNOWN] } }, ['D1', 'D2', 'D3']);
    });
  });
});
