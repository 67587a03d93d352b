/**
 * events/task-run-recorder.ts on its own: which events make task runs (Prefect's recorder: a
 * `prefect.task-run*` name and `prefect.orchestration: client`), the ids it reads from the
 * resources, the state (the event's id and time, the payload's validated_state) and the fields
 * (only those present, times to µs, the policy as Prefect stores it), and null — never a throw —
 * for payloads Prefect's models would refuse. Events of the recordings are read as they are.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { taskRunObservation } from '../../src/events/task-run-recorder.ts';
import type { Event } from '../../src/schemas/events.ts';
import { parseDateTime } from '../../src/validation/datetime.ts';
import { validate } from '../../src/validation/validate.ts';
import { Event as EventSchema } from '../../src/schemas/events.ts';

const TASK = '47da7627-adc5-41fa-80a2-ab82b653b413';
const FLOW_RUN = '8dfa91c0-f9c2-4880-ba19-cda364848c2e';
const EVENT_ID = 'bc556b9e-f329-4416-a487-15b63f694ce8';
const OCCURRED = '2026-12-06T20:41:14.794439Z';

function event(overrides: Partial<Event> = {}, payload: Record<string, unknown> = {}): Event {
  return {
    occurred: OCCURRED,
    event: 'prefect.task-run.Running',
    resource: { 'prefect.resource.id': `prefect.task-run.${TASK}`, 'prefect.resource.name': 'flaky-ac5', 'prefect.orchestration': 'client' },
    related: [
      { 'prefect.resource.id': `prefect.flow-run.${FLOW_RUN}`, 'prefect.resource.role': 'flow-run', 'prefect.resource.name': 'green-quokka' },
      { 'prefect.resource.id': 'prefect.flow.1d15c6ed-ffc2-4528-a2eb-fe679f507556', 'prefect.resource.role': 'flow' },
    ],
    payload: {
      intended: { from: 'PENDING', to: 'RUNNING' },
      validated_state: { type: 'RUNNING', name: 'Running', message: '', state_details: {}, data: null },
      task_run: {
        name: 'flaky-ac5',
        task_key: 'flaky-ed1296b6',
        dynamic_key: 'ac50cb51-a652-41d8-9b7f-1cc6c2150c71',
        empirical_policy: { max_retries: 0, retry_delay_seconds: 0.0, retries: 1, retry_delay: 0 },
        tags: ['etl'],
        task_inputs: { x: [] },
        run_count: 1,
        flow_run_run_count: 1,
        expected_start_time: '2026-12-06T20:41:14.794439Z',
        start_time: '2026-12-06T20:41:14.800000Z',
        total_run_time: 0.0,
      },
      ...payload,
    },
    id: EVENT_ID,
    follows: null,
    ...overrides,
  };
}

const occurred = parseDateTime(OCCURRED)!;
const observe = (e: Event) => taskRunObservation(e, parseDateTime(e.occurred)!);

describe('taskRunObservation', () => {
  test("a client's task-run event: the run, its flow run, the state under the event's id and time, the fields present", () => {
    const o = observe(event())!;
    expect(o.id).toBe(TASK);
    expect(o.flow_run_id).toBe(FLOW_RUN);
    expect(o.state).toMatchObject({ id: EVENT_ID, type: 'RUNNING', name: 'Running', timestamp: occurred, message: '', data: null });
    expect(o.state.state_details).toMatchObject({ task_run_id: TASK, flow_run_id: FLOW_RUN, scheduled_time: null });
    expect(o.fields).toEqual({
      name: 'flaky-ac5',
      task_key: 'flaky-ed1296b6',
      dynamic_key: 'ac50cb51-a652-41d8-9b7f-1cc6c2150c71',
      // retries copied from max_retries only when unset; retry_delay 0 stays 0 (Prefect's validator)
      empirical_policy: { max_retries: 0, retry_delay_seconds: 0, retries: 1, retry_delay: 0, retry_jitter_factor: null },
      tags: ['etl'],
      task_inputs: { x: [] },
      run_count: 1,
      flow_run_run_count: 1,
      expected_start_time: occurred,
      start_time: parseDateTime('2026-12-06T20:41:14.800000Z')!,
      total_run_time: 0,
    });
  });

  test('only fields present are observed; an explicit null time clears it; a null default-bearing field is absent', () => {
    const o = observe(event({}, { task_run: { task_key: 'k', dynamic_key: '0', end_time: null, name: null, labels: { a: 1 } } }))!;
    expect(o.fields).toEqual({ task_key: 'k', dynamic_key: '0', end_time: null, labels: { a: 1 } });
  });

  test('deprecated policy fields are copied as Prefect copies them', () => {
    const o = observe(event({}, { task_run: { task_key: 'k', dynamic_key: '0', empirical_policy: { max_retries: 3, retry_delay_seconds: 5 } } }))!;
    expect(o.fields.empirical_policy).toEqual({ max_retries: 3, retry_delay_seconds: 5, retries: 3, retry_delay: 5, retry_jitter_factor: null });
  });

  test('a state without a name takes its type’s default name; SCHEDULED without a time is scheduled at the event', () => {
    const o = observe(event({ event: 'prefect.task-run.Scheduled' }, { validated_state: { type: 'SCHEDULED' } }))!;
    expect(o.state).toMatchObject({ type: 'SCHEDULED', name: 'Scheduled', message: null });
    expect(o.state.state_details.scheduled_time).toBe(occurred);
    const late = observe(event({}, { validated_state: { type: 'AWAITING_RETRY' as never } }));
    expect(late).toBeNull(); // not a StateType: Prefect's State model refuses it
  });

  test('the state keeps its details, but the run ids are the event’s', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const o = observe(
      event({}, { validated_state: { type: 'COMPLETED', name: 'Completed', state_details: { task_run_id: other, flow_run_id: other, cache_key: 'c', untrackable_result: true } } }),
    )!;
    expect(o.state.state_details).toMatchObject({ task_run_id: TASK, flow_run_id: FLOW_RUN, cache_key: 'c', untrackable_result: true });
  });

  test('keys that would override the event’s own id, time or run are ignored', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const o = observe(
      event({}, {
        validated_state: { type: 'RUNNING', id: other, timestamp: '2000-01-01T00:00:00Z' },
        task_run: { task_key: 'k', dynamic_key: '0', id: other, flow_run_id: other, state: null, state_id: other },
      }),
    )!;
    expect(o.id).toBe(TASK);
    expect(o.flow_run_id).toBe(FLOW_RUN);
    expect(o.state.id).toBe(EVENT_ID);
    expect(o.state.timestamp).toBe(occurred);
    expect(o.fields).toEqual({ task_key: 'k', dynamic_key: '0' });
  });

  test('without a flow-run related resource the run has no flow run; the first flow-run resource counts', () => {
    expect(observe(event({ related: [] }))!.flow_run_id).toBeNull();
    const second = '99999999-2222-4333-8444-555555555555';
    const two = observe(
      event({
        related: [
          { 'prefect.resource.id': `prefect.flow-run.${FLOW_RUN}`, 'prefect.resource.role': 'flow-run' },
          { 'prefect.resource.id': `prefect.flow-run.${second}`, 'prefect.resource.role': 'flow-run' },
        ],
      }),
    )!;
    expect(two.flow_run_id).toBe(FLOW_RUN);
  });

  test('ids in Python UUID forms are read canonical', () => {
    const o = observe(event({ resource: { 'prefect.resource.id': `prefect.task-run.${TASK.toUpperCase().replaceAll('-', '')}`, 'prefect.orchestration': 'client' } }))!;
    expect(o.id).toBe(TASK);
  });

  describe('events the recorder does not take: null', () => {
    const cases: [string, Event][] = [
      ['another name', event({ event: 'prefect.flow-run.Running' })],
      ['a heartbeat', event({ event: 'prefect.flow-run.heartbeat' })],
      ['not from a client', event({ resource: { 'prefect.resource.id': `prefect.task-run.${TASK}`, 'prefect.orchestration': 'server' } })],
      ['no orchestration label', event({ resource: { 'prefect.resource.id': `prefect.task-run.${TASK}` } })],
    ];
    for (const [name, e] of cases) test(name, () => expect(observe(e)).toBeNull());
    test('the name prefix is Prefect’s `prefect.task-run` (no dot required)', () => {
      expect(observe(event({ event: 'prefect.task-runner' }))).not.toBeNull();
    });
  });

  describe('malformed payloads: null, never a throw', () => {
    const cases: [string, Event][] = [
      ['resource id of another kind', event({ resource: { 'prefect.resource.id': `prefect.flow-run.${TASK}`, 'prefect.orchestration': 'client' } })],
      ['resource id not a UUID', event({ resource: { 'prefect.resource.id': 'prefect.task-run.nope', 'prefect.orchestration': 'client' } })],
      ['flow-run resource not a UUID', event({ related: [{ 'prefect.resource.id': 'prefect.flow-run.x', 'prefect.resource.role': 'flow-run' }] })],
      ['no payload', event({ payload: undefined })],
      ['no validated_state', event({}, { validated_state: undefined })],
      ['validated_state not an object', event({}, { validated_state: 'RUNNING' })],
      ['state without a type', event({}, { validated_state: { name: 'Running' } })],
      ['no task_run', event({}, { task_run: undefined })],
      ['task_run not an object', event({}, { task_run: [1] })],
      ['task_run without task_key', event({}, { task_run: { dynamic_key: '0' } })],
      ['a time that does not parse', event({}, { task_run: { task_key: 'k', dynamic_key: '0', start_time: 'soon' } })],
      ['run_count not an integer', event({}, { task_run: { task_key: 'k', dynamic_key: '0', run_count: 1.5 } })],
      ['tags not strings', event({}, { task_run: { task_key: 'k', dynamic_key: '0', tags: [1] } })],
      ['a hostile payload', event({}, { task_run: Object.create({ get task_key(): string { throw new Error('boom'); } }) })],
    ];
    for (const [name, e] of cases) test(name, () => expect(observe(e)).toBeNull());
  });

  test("every task-run event of the recordings is observed, with the recorded run's id, flow run and state name", () => {
    const dir = fileURLToPath(new URL('../reference/flow-runs/', import.meta.url));
    let seen = 0;
    for (const file of ['prefect-3.1.4__prefect-3.0.0-server__f2.jsonl', 'prefect-3.8.3__artifactd-with-stand-ins__f2__client-side-only.jsonl']) {
      for (const line of readFileSync(dir + file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const r = JSON.parse(line);
        if (r.kind !== 'ws' || r.opcode !== 'text' || typeof r.data?.event !== 'string') continue;
        const checked = validate(EventSchema, r.data, []);
        expect(checked.issues).toEqual([]);
        const e = checked.value as Event;
        const o = taskRunObservation(e, parseDateTime(e.occurred)!);
        if (!e.event.startsWith('prefect.task-run.')) {
          expect(o).toBeNull();
          continue;
        }
        seen++;
        expect(o).not.toBeNull();
        expect(`prefect.task-run.${o!.id}`).toBe(e.resource['prefect.resource.id']);
        const flowRun = e.related!.find((r) => r['prefect.resource.role'] === 'flow-run')!; // 3.8.3 lists tags first
        expect(`prefect.flow-run.${o!.flow_run_id}`).toBe(flowRun['prefect.resource.id']);
        expect(o!.state.name).toBe(e.event.slice('prefect.task-run.'.length));
        expect(o!.state.id).toBe(e.id);
        expect(o!.fields.run_count).toBe((e.payload as any).task_run.run_count);
      }
    }
    expect(seen).toBe(14);
  });
});
