/**
 * The `prefect.flow-run.<State>` events the server emits when it accepts a flow run's state
 * (Prefect's `flow_run_state_change_event`), read back through `POST /api/events/filter`: one per
 * accepted state, id = the state's id, `follows` chaining close states, the related flow,
 * deployment, parent task run and tags.
 */
import { describe, expect, test } from 'bun:test';
import { describeBackends } from '../backends.ts';
import { freshHarness } from './fresh-harness.ts';

describeBackends('flow-run state-change events', (backend) => {
  const h = freshHarness({}, backend);

  const post = async (path: string, body: unknown, status = 201) => {
    const reply = await h.call('POST', path, body);
    expect(reply.status, reply.text).toBe(status);
    return reply.body as any;
  };
  const eventsOf = async (resourceId: string) =>
    (await post('/api/events/filter', { filter: { resource: { id: [resourceId] }, order: 'ASC' } }, 200)).events as any[];

  test('each accepted state is one event, in order, chained by follows', async () => {
    const flow = await post('/api/flows/', { name: 'events-flow', tags: ['team-a'] });
    const run = await post('/api/flow_runs/', { flow_id: flow.id, name: 'quiet-otter', tags: ['etl', 'team-a'] });
    const running = await post(`/api/flow_runs/${run.id}/set_state`, { state: { type: 'RUNNING' } });
    const done = await post(`/api/flow_runs/${run.id}/set_state`, { state: { type: 'COMPLETED', message: 'all good' } });

    const events = await eventsOf(`prefect.flow-run.${run.id}`);
    expect(events.map((e) => e.event)).toEqual(['prefect.flow-run.Running', 'prefect.flow-run.Completed']);
    const [first, second] = events;
    expect(first.id).toBe(running.state.id);
    expect(second.id).toBe(done.state.id);
    expect(first.occurred).toBe(running.state.timestamp);
    expect(second.follows).toBe(running.state.id);
    // The run was created in PENDING: its first set_state came from that state.
    expect(first.payload.intended).toEqual({ from: 'PENDING', to: 'RUNNING' });
    expect(second.payload).toEqual({
      intended: { from: 'RUNNING', to: 'COMPLETED' },
      initial_state: { type: 'RUNNING', name: 'Running' },
      validated_state: { type: 'COMPLETED', name: 'Completed', message: 'all good' },
    });
    expect(second.resource).toEqual({
      'prefect.resource.id': `prefect.flow-run.${run.id}`,
      'prefect.resource.name': 'quiet-otter',
      'prefect.state-message': 'all good',
      'prefect.state-name': 'Completed',
      'prefect.state-timestamp': done.state.timestamp.replace(/Z$/, '+00:00'),
      'prefect.state-type': 'COMPLETED',
    });
    expect(second.related).toEqual([
      { 'prefect.resource.id': `prefect.flow.${flow.id}`, 'prefect.resource.role': 'flow', 'prefect.resource.name': 'events-flow' },
      { 'prefect.resource.id': 'prefect.tag.etl', 'prefect.resource.role': 'tag' },
      { 'prefect.resource.id': 'prefect.tag.team-a', 'prefect.resource.role': 'tag' },
    ]);
  });

  test("a sub-flow's events name its parent task run; no state change, no event", async () => {
    const flow = await post('/api/flows/', { name: 'events-parent' });
    const parent = await post('/api/flow_runs/', { flow_id: flow.id });
    const task = await post('/api/task_runs/', { flow_run_id: parent.id, task_key: 'child', dynamic_key: '0', name: 'child-0' });
    const child = await post('/api/flow_runs/', { flow_id: flow.id, parent_task_run_id: task.id });
    await post(`/api/flow_runs/${child.id}/set_state`, { state: { type: 'RUNNING' } });
    const [event] = await eventsOf(`prefect.flow-run.${child.id}`);
    expect(event.related).toContainEqual({ 'prefect.resource.id': `prefect.task-run.${task.id}`, 'prefect.resource.role': 'task-run', 'prefect.resource.name': 'child-0' });

    // A refused set_state (no such run) stores nothing.
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await h.call('POST', `/api/flow_runs/${missing}/set_state`, { state: { type: 'RUNNING' } })).status).toBe(404);
    expect(await eventsOf(`prefect.flow-run.${missing}`)).toEqual([]);
  });
});

describe('flow-run state-change events: message truncation', () => {
  test('a state message past 100,000 characters keeps its two ends, as Prefect cuts it (unless that is no shorter)', async () => {
    const { flowRunStateEvent } = await import('../../src/events/flow-run-state-event.ts');
    const messageOf = (message: string) => {
      const state = { id: 'a', type: 'FAILED', name: 'Failed', timestamp: 1_700_000_000_000_000, message, data: null, state_details: {} as any };
      const record = flowRunStateEvent({ id: 'r', name: 'n', tags: [], state } as any, null, {}, 1_700_000_000_000_001);
      const event = JSON.parse(record.json);
      expect(event.follows).toBeNull();
      expect(event.payload.validated_state.message).toBe(event.resource['prefect.state-message']);
      return event.resource['prefect.state-message'] as string;
    };
    expect(messageOf('a'.repeat(100_000) + 'b'.repeat(100_000))).toBe(`${'a'.repeat(50_000)}...100000 additional characters...${'b'.repeat(50_000)}`);
    // Cutting 10 characters would add 31: Prefect keeps the message whole.
    expect(messageOf('c'.repeat(100_010))).toBe('c'.repeat(100_010));
  });
});
