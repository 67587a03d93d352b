/**
 * The `flow_runs` filter (FlowRunFilter) on the four artifact read routes: every field and
 * operator, evaluated on the artifact's (or collection row's) flow run, plus the newer-Prefect
 * fields `tags.any_`, `end_time`, `created_by`. Sources: shared/spec/filters.md §1, §4, §8, §9,
 * §11; companions.md §1, §3. The world is described in run-filters-world.ts.
 */
import { describe, test } from 'bun:test';
import {
  GHOST_DEPLOYMENT,
  LATE_2020,
  micros,
  naive,
  RUN_NAMES,
  SCHEDULED_2031,
  sharedWorld,
  UNKNOWN,
  utc,
  withOffset,
  type RunName,
} from './run-filters-world.ts';
import { describeBackends } from '../backends.ts';

describeBackends('run filters: flow_runs', (backend) => {
  const { w, expectThat } = sharedWorld('the seeded runs have the states, times and links the filters below rely on', backend);
  /** Every artifact of these runs, on all four routes. */
  const runs = (flow_runs: unknown, names: readonly RunName[]) => expectThat.runs({ flow_runs }, names);
  const ALL: readonly RunName[] = RUN_NAMES;
  const except = (...out: RunName[]) => ALL.filter((r) => !out.includes(r));
  const id = (r: RunName) => w().runs[r].id;
  const us = (r: RunName, field: string) => micros(w().runs[r][field]);

  describe('flow_runs present but without conditions', () => {
    test('{} keeps every artifact whose flow run exists, and nothing else', async () => {
      await runs({}, ALL);
    });

    test('a full client dump (every field null, operator and_) is the same as {}', async () => {
      const dump = {
        operator: 'and_', id: null, name: null, tags: null, deployment_id: null, work_queue_name: null, state: null,
        flow_version: null, start_time: null, expected_start_time: null, next_scheduled_start_time: null,
        parent_flow_run_id: null, parent_task_run_id: null, idempotency_key: null,
      };
      await runs(dump, ALL);
      await runs({ operator: 'or_' }, ALL);
    });

    test('empty sub-objects are TRUE, also under or_ (where they make the whole filter TRUE)', async () => {
      await runs({ id: {}, name: {}, tags: {}, start_time: {} }, ALL);
      await runs({ operator: 'or_', name: {}, id: { any_: [UNKNOWN] } }, ALL);
      await runs({ operator: 'or_', id: { any_: [UNKNOWN] } }, []);
    });
  });

  describe('id', () => {
    test('any_: by value (upper-case input matches); unknown ids and [] match nothing', async () => {
      await runs({ id: { any_: [id('R1'), id('R2')] } }, ['R1', 'R2']);
      await runs({ id: { any_: [id('R4').toUpperCase()] } }, ['R4']);
      await runs({ id: { any_: [UNKNOWN] } }, []);
      await runs({ id: { any_: [] } }, []);
    });

    test('not_any_: every existing run but those; [] keeps all existing runs (orphans stay out)', async () => {
      await runs({ id: { not_any_: [id('R1')] } }, except('R1'));
      await runs({ id: { not_any_: [id('R1'), id('R5'), UNKNOWN] } }, except('R1', 'R5'));
      await runs({ id: { not_any_: [] } }, ALL);
    });

    test('any_ and not_any_ together are ANDed', async () => {
      await runs({ id: { any_: [id('R1'), id('R2')], not_any_: [id('R2')] } }, ['R1']);
    });
  });

  describe('name', () => {
    test('any_ is exact and case-sensitive', async () => {
      await runs({ name: { any_: ['happy-duck'] } }, ['R1']);
      await runs({ name: { any_: ['happy-duck', 'Weekly-Report-Run', 'nope'] } }, ['R1', 'R4']);
      await runs({ name: { any_: ['weekly-report-run'] } }, []);
      await runs({ name: { any_: ['happy'] } }, []);
      await runs({ name: { any_: [] } }, []);
    });

    test('like_ is a case-insensitive substring with _ and % wildcards', async () => {
      await runs({ name: { like_: 'duck' } }, ['R1', 'R2']);
      await runs({ name: { like_: 'DUCK' } }, ['R1', 'R2']);
      await runs({ name: { like_: 'weekly' } }, ['R4']);
      await runs({ name: { like_: 's_d' } }, ['R2']);
      await runs({ name: { like_: 'k%r' } }, ['R4']);
      await runs({ name: { like_: 'dep-run' } }, ['R9']);
      await runs({ name: { like_: '-run' } }, ['R3', 'R4', 'R6', 'R7', 'R8', 'R9', 'R10']);
      await runs({ name: { like_: '' } }, ALL);
      await runs({ name: { like_: 'duck.' } }, []);
    });

    test('any_ and like_ together are ANDed', async () => {
      await runs({ name: { any_: ['happy-duck', 'sad-duck'], like_: 'SAD' } }, ['R2']);
    });
  });

  describe('tags', () => {
    test('all_: every listed tag present, case-sensitive; [] matches every run', async () => {
      await runs({ tags: { all_: ['db'] } }, ['R1', 'R2', 'R10']);
      await runs({ tags: { all_: ['db', 'blue'] } }, ['R1']);
      await runs({ tags: { all_: ['blue', 'db', 'blue'] } }, ['R1']);
      await runs({ tags: { all_: ['prod'] } }, ['R3', 'R6']);
      await runs({ tags: { all_: ['DB'] } }, []);
      await runs({ tags: { all_: ['db', 'nope'] } }, []);
      await runs({ tags: { all_: [] } }, ALL);
    });

    test('is_null_: true ⇔ no tags, false ⇔ at least one', async () => {
      await runs({ tags: { is_null_: true } }, ['R4', 'R8', 'R9']);
      await runs({ tags: { is_null_: false } }, ['R1', 'R2', 'R3', 'R5', 'R6', 'R7', 'R10']);
    });

    test('the tags operator: and_ intersects, or_ unites', async () => {
      await runs({ tags: { all_: ['red'], is_null_: false } }, ['R2', 'R5', 'R7']);
      await runs({ tags: { operator: 'or_', all_: ['db', 'blue'], is_null_: true } }, ['R1', 'R4', 'R8', 'R9']);
      await runs({ tags: { operator: 'and_', all_: ['db'], is_null_: true } }, []);
    });

    test('any_ (newer Prefect): at least one tag in common', async () => {
      await runs({ tags: { any_: ['blue', 'eu'] } }, ['R1', 'R3', 'R7']);
      await runs({ tags: { any_: ['extra', 'nope'] } }, ['R3']);
      await runs({ tags: { any_: ['BLUE'] } }, []);
      await runs({ tags: { any_: ['red'], all_: ['db'] } }, ['R2']);
      await runs({ tags: { operator: 'or_', any_: ['prod'], is_null_: true } }, ['R3', 'R6', 'R4', 'R8', 'R9']);
    });
  });

  describe('deployment_id', () => {
    test('any_ compares the raw stored id: a deleted or never-existing deployment still matches', async () => {
      await runs({ deployment_id: { any_: [w().deployments.D1.id] } }, ['R1', 'R3']);
      await runs({ deployment_id: { any_: [w().deployments.D4.id] } }, ['R7']);
      await runs({ deployment_id: { any_: [GHOST_DEPLOYMENT, w().deployments.D2.id] } }, ['R9', 'R10']);
      await runs({ deployment_id: { any_: [UNKNOWN] } }, []);
      await runs({ deployment_id: { any_: [] } }, []);
    });

    test('is_null_ tests the stored id, dangling or not', async () => {
      await runs({ deployment_id: { is_null_: true } }, ['R2', 'R4', 'R5', 'R8']);
      await runs({ deployment_id: { is_null_: false } }, ['R1', 'R3', 'R6', 'R7', 'R9', 'R10']);
    });

    test('the operator combines any_ and is_null_', async () => {
      await runs({ deployment_id: { any_: [w().deployments.D3.id], is_null_: false } }, ['R6']);
      await runs({ deployment_id: { operator: 'or_', any_: [w().deployments.D3.id], is_null_: true } }, ['R2', 'R4', 'R5', 'R8', 'R6']);
    });
  });

  describe('work_queue_name', () => {
    test('any_ and is_null_ on the queue copied from the deployment by create_flow_run', async () => {
      await runs({ work_queue_name: { any_: ['q-a'] } }, ['R3']);
      await runs({ work_queue_name: { any_: ['q-a', 'q-b'] } }, ['R3', 'R6']);
      await runs({ work_queue_name: { any_: ['Q-A'] } }, []);
      await runs({ work_queue_name: { any_: [] } }, []);
      await runs({ work_queue_name: { is_null_: false } }, ['R3', 'R6']);
      await runs({ work_queue_name: { is_null_: true } }, except('R3', 'R6'));
    });

    test('its operator', async () => {
      await runs({ work_queue_name: { operator: 'or_', any_: ['q-b'], is_null_: true } }, except('R3'));
      await runs({ work_queue_name: { any_: ['q-b'], is_null_: true } }, []);
    });
  });

  describe('state', () => {
    test('type.any_ / type.not_any_', async () => {
      await runs({ state: { type: { any_: ['SCHEDULED'] } } }, ['R3', 'R5']);
      await runs({ state: { type: { any_: ['COMPLETED', 'CANCELLED'] } } }, ['R1', 'R10']);
      await runs({ state: { type: { any_: ['CRASHED'] } } }, []);
      await runs({ state: { type: { any_: [] } } }, []);
      await runs({ state: { type: { not_any_: ['RUNNING', 'PENDING'] } } }, ['R1', 'R2', 'R3', 'R5', 'R10']);
      await runs({ state: { type: { not_any_: [] } } }, ALL);
    });

    test('name.any_ / name.not_any_ (exact, case-sensitive)', async () => {
      await runs({ state: { name: { any_: ['Late'] } } }, ['R5']);
      await runs({ state: { name: { any_: ['late'] } } }, []);
      await runs({ state: { name: { any_: ['Scheduled', 'Failed'] } } }, ['R3', 'R2']);
      await runs({ state: { name: { not_any_: ['Late', 'Running'] } } }, ['R1', 'R2', 'R3', 'R8', 'R9', 'R10']);
      await runs({ state: { name: { not_any_: [] } } }, ALL);
    });

    test('and_ (default) intersects type and name: a SCHEDULED run named "Late" is told apart', async () => {
      await runs({ state: { type: { any_: ['SCHEDULED'] }, name: { any_: ['Scheduled'] } } }, ['R3']);
      await runs({ state: { type: { any_: ['SCHEDULED'] }, name: { not_any_: ['Late'] } } }, ['R3']);
      await runs({ state: { type: { any_: ['SCHEDULED'], not_any_: ['SCHEDULED'] } } }, []);
    });

    test('or_ applies across the type and name leaves', async () => {
      await runs({ state: { operator: 'or_', type: { any_: ['FAILED'] }, name: { any_: ['Late'] } } }, ['R2', 'R5']);
      // Within one sub-object too: the leaves are flattened into one list.
      await runs({ state: { operator: 'or_', type: { any_: ['FAILED'], not_any_: ['RUNNING', 'PENDING'] } } }, [
        'R1', 'R2', 'R3', 'R5', 'R10',
      ]);
      await runs({ state: { operator: 'or_', name: { any_: ['Late'], not_any_: ['Late'] } } }, ALL);
    });

    test('flattening: an empty type/name object contributes no condition, so or_ does not become TRUE', async () => {
      await runs({ state: { operator: 'or_', type: {}, name: { any_: ['Late'] } } }, ['R5']);
      await runs({ state: { operator: 'or_', type: { any_: ['CANCELLED'] }, name: {} } }, ['R10']);
      await runs({ state: { operator: 'or_', type: {}, name: {} } }, ALL);
      await runs({ state: { type: {}, name: {} } }, ALL);
      await runs({ state: {} }, ALL);
      // …whereas an empty object directly in FlowRunFilter is TRUE, and TRUE under or_.
      await runs({ operator: 'or_', name: {}, state: { type: { any_: ['CANCELLED'] } } }, ALL);
    });
  });

  describe('flow_version', () => {
    test('any_ (exact); [] matches nothing; null versions never match', async () => {
      await runs({ flow_version: { any_: ['1.0'] } }, ['R1', 'R5']);
      await runs({ flow_version: { any_: ['1.0', '2.0'] } }, ['R1', 'R2', 'R5']);
      await runs({ flow_version: { any_: ['1'] } }, []);
      await runs({ flow_version: { any_: [] } }, []);
    });
  });

  describe('start_time', () => {
    test('is_null_', async () => {
      await runs({ start_time: { is_null_: true } }, ['R2', 'R3', 'R5', 'R8', 'R9']);
      await runs({ start_time: { is_null_: false } }, ['R1', 'R4', 'R6', 'R7', 'R10']);
    });

    test('before_ / after_ are inclusive; runs without a start never match', async () => {
      await runs({ start_time: { before_: utc(us('R4', 'start_time')) } }, ['R1', 'R4']);
      await runs({ start_time: { before_: utc(us('R4', 'start_time') - 1) } }, ['R1']);
      await runs({ start_time: { after_: utc(us('R7', 'start_time')) } }, ['R7', 'R10']);
      await runs({ start_time: { after_: utc(us('R7', 'start_time') + 1) } }, ['R10']);
      await runs({ start_time: { after_: w().runs.R6.start_time, before_: w().runs.R6.start_time } }, ['R6']);
      await runs({ start_time: { after_: w().runs.R4.start_time, before_: w().runs.R7.start_time } }, ['R4', 'R6', 'R7']);
      await runs({ start_time: { after_: '2000-01-01T00:00:00Z' } }, ['R1', 'R4', 'R6', 'R7', 'R10']);
    });

    test('bounds with an offset are instants; a bound without offset is UTC', async () => {
      const r6 = us('R6', 'start_time');
      await runs({ start_time: { after_: withOffset(r6, 2), before_: withOffset(r6, -5) } }, ['R6']);
      await runs({ start_time: { after_: withOffset(r6 + 1, 2), before_: withOffset(r6, 2) } }, []);
      await runs({ start_time: { after_: naive(r6), before_: naive(r6) } }, ['R6']);
      await runs({ start_time: { before_: withOffset(us('R4', 'start_time'), 9) } }, ['R1', 'R4']);
    });

    test('combined with is_null_', async () => {
      await runs({ start_time: { is_null_: true, after_: '2000-01-01T00:00:00Z' } }, []);
      await runs({ start_time: { is_null_: false, before_: w().runs.R1.start_time } }, ['R1']);
    });
  });

  describe('expected_start_time', () => {
    test('after_ / before_ inclusive on scheduled times', async () => {
      await runs({ expected_start_time: { after_: SCHEDULED_2031 } }, ['R3']);
      await runs({ expected_start_time: { after_: '2031-01-01T00:00:00.000001Z' } }, []);
      await runs({ expected_start_time: { before_: LATE_2020 } }, ['R5']);
      await runs({ expected_start_time: { before_: '2020-06-01T11:59:59.999999Z' } }, []);
      await runs({ expected_start_time: { after_: LATE_2020, before_: '2030-12-31T23:59:59Z' } }, except('R3'));
    });

    test('offsets compare as instants, naive input is UTC', async () => {
      await runs({ expected_start_time: { after_: '2031-01-01T02:00:00+02:00' } }, ['R3']);
      await runs({ expected_start_time: { after_: '2031-01-01T02:00:00.000001+02:00' } }, []);
      await runs({ expected_start_time: { after_: '2030-12-31T19:00:00-05:00' } }, ['R3']);
      await runs({ expected_start_time: { before_: '2020-06-01T14:00:00+02:00' } }, ['R5']);
      await runs({ expected_start_time: { before_: '2020-06-01T13:59:59+02:00' } }, []);
      await runs({ expected_start_time: { after_: '2031-01-01T00:00:00' } }, ['R3']);
      await runs({ expected_start_time: { before_: '2020-06-01T12:00:00' } }, ['R5']);
    });

    test('a window around server-stamped times, with the bounds taken from the runs', async () => {
      const lo = w().runs.R6.expected_start_time;
      const hi = w().runs.R8.expected_start_time;
      await runs({ expected_start_time: { after_: lo, before_: hi } }, ['R6', 'R7', 'R8']);
      await runs({ expected_start_time: { after_: utc(micros(lo) + 1), before_: utc(micros(hi) - 1) } }, ['R7']);
    });
  });

  describe('next_scheduled_start_time', () => {
    test('set only for runs in SCHEDULED; bounds inclusive; nulls never match', async () => {
      await runs({ next_scheduled_start_time: { after_: '2000-01-01T00:00:00Z' } }, ['R3', 'R5']);
      await runs({ next_scheduled_start_time: { before_: '2025-01-01T00:00:00Z' } }, ['R5']);
      await runs({ next_scheduled_start_time: { before_: LATE_2020 } }, ['R5']);
      await runs({ next_scheduled_start_time: { after_: SCHEDULED_2031 } }, ['R3']);
      await runs({ next_scheduled_start_time: { after_: '2031-01-01T01:00:00+01:00', before_: '2030-12-31T19:00:00-05:00' } }, ['R3']);
      await runs({ next_scheduled_start_time: { after_: '2020-06-01T12:00:00.000001Z', before_: '2030-12-31T23:59:59.999999Z' } }, []);
    });
  });

  describe('parent_flow_run_id and parent_task_run_id', () => {
    test('parent_flow_run_id.any_: sub-flow runs of the listed runs (through the parent task run)', async () => {
      await runs({ parent_flow_run_id: { any_: [id('R1')] } }, ['R8']);
      await runs({ parent_flow_run_id: { any_: [id('R2'), id('R8')] } }, []);
      await runs({ parent_flow_run_id: { any_: [w().tasks.T1.id] } }, []); // a task run id is not a flow run id
      await runs({ parent_flow_run_id: { any_: [] } }, []);
      await runs({ parent_flow_run_id: {} }, ALL);
      await runs({ parent_flow_run_id: { operator: 'or_', any_: [id('R1').toUpperCase()] } }, ['R8']);
    });

    test('parent_task_run_id.any_ / is_null_ and its operator', async () => {
      await runs({ parent_task_run_id: { any_: [w().tasks.T1.id] } }, ['R8']);
      await runs({ parent_task_run_id: { any_: [w().tasks.T2.id] } }, []);
      await runs({ parent_task_run_id: { is_null_: false } }, ['R8']);
      await runs({ parent_task_run_id: { is_null_: true } }, except('R8'));
      await runs({ parent_task_run_id: { any_: [w().tasks.T1.id], is_null_: true } }, []);
      await runs({ parent_task_run_id: { operator: 'or_', any_: [w().tasks.T1.id], is_null_: true } }, ALL);
    });
  });

  describe('idempotency_key', () => {
    test('any_', async () => {
      await runs({ idempotency_key: { any_: ['key-1', 'key-3'] } }, ['R1', 'R6']);
      await runs({ idempotency_key: { any_: ['KEY-1'] } }, []);
      await runs({ idempotency_key: { any_: [] } }, []);
    });

    test('not_any_ excludes runs without a key; [] keeps every run', async () => {
      await runs({ idempotency_key: { not_any_: ['key-1'] } }, ['R4', 'R6']);
      await runs({ idempotency_key: { not_any_: ['nope'] } }, ['R1', 'R4', 'R6']);
      await runs({ idempotency_key: { not_any_: [] } }, ALL);
      await runs({ idempotency_key: { any_: ['key-1', 'key-2'], not_any_: ['key-2'] } }, ['R1']);
    });
  });

  describe('end_time (newer Prefect)', () => {
    test('is_null_: set only for runs that started and then reached a terminal state', async () => {
      await runs({ end_time: { is_null_: false } }, ['R1', 'R10']);
      // R2 was created FAILED without ever starting: no end time.
      await runs({ end_time: { is_null_: true } }, except('R1', 'R10'));
    });

    test('before_ / after_ inclusive, offsets as instants; nulls never match', async () => {
      const r1 = us('R1', 'end_time');
      const r10 = us('R10', 'end_time');
      await runs({ end_time: { before_: utc(r1) } }, ['R1']);
      await runs({ end_time: { before_: utc(r1 - 1) } }, []);
      await runs({ end_time: { after_: utc(r10) } }, ['R10']);
      await runs({ end_time: { after_: withOffset(r1, 3), before_: withOffset(r10, -3) } }, ['R1', 'R10']);
      await runs({ end_time: { after_: '2000-01-01T00:00:00Z' } }, ['R1', 'R10']);
      await runs({ end_time: { after_: utc(r1 + 1), before_: utc(r10 - 1) } }, []);
    });
  });

  describe('created_by (newer Prefect; always null here)', () => {
    test('is_null_ true matches every run, false none; id_/type_ never match', async () => {
      await runs({ created_by: { is_null_: true } }, ALL);
      await runs({ created_by: { is_null_: false } }, []);
      await runs({ created_by: { id_: [id('R1')] } }, []);
      await runs({ created_by: { type_: ['DEPLOYMENT'] } }, []);
      await runs({ created_by: {} }, ALL);
      await runs({ created_by: { operator: 'or_', type_: ['AUTOMATION'], is_null_: true } }, ALL);
    });
  });

  describe('the FlowRunFilter operator across fields', () => {
    test('and_ (default) intersects', async () => {
      await runs({ tags: { all_: ['db'] }, state: { type: { any_: ['FAILED', 'CANCELLED'] } } }, ['R2', 'R10']);
      await runs(
        { operator: 'and_', tags: { all_: ['red'] }, start_time: { is_null_: false }, deployment_id: { is_null_: false } },
        ['R7'],
      );
      await runs({ name: { like_: 'duck' }, idempotency_key: { any_: ['key-2'] } }, []);
    });

    test('or_ unites', async () => {
      await runs({ operator: 'or_', name: { like_: 'duck' }, idempotency_key: { any_: ['key-2'] } }, ['R1', 'R2', 'R4']);
      await runs(
        { operator: 'or_', parent_task_run_id: { is_null_: false }, state: { name: { any_: ['Late'] } }, id: { any_: [id('R9')] } },
        ['R8', 'R5', 'R9'],
      );
    });

    test('sub-objects keep their own operators inside an outer or_/and_', async () => {
      await runs(
        {
          operator: 'or_',
          tags: { operator: 'and_', all_: ['db'], is_null_: false },
          state: { operator: 'and_', type: { any_: ['SCHEDULED'] }, name: { any_: ['Late'] } },
        },
        ['R1', 'R2', 'R10', 'R5'],
      );
      await runs(
        {
          operator: 'and_',
          tags: { operator: 'or_', all_: ['prod'], is_null_: true },
          deployment_id: { operator: 'or_', is_null_: true, any_: [w().deployments.D1.id] },
        },
        ['R3', 'R4', 'R8'],
      );
    });
  });
});
