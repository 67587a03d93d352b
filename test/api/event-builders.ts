/**
 * Events as clients send them, for the event tests: a plain event, and a client's task-run event
 * shaped as Prefect's task engine emits it (resource, flow-run related resource, payload with
 * `validated_state` and `task_run`).
 */

let counter = 0;

/** A plain event `minutesAgo` minutes ago (negative: in the future); a fresh id and resource each call. */
export function plainEvent(minutesAgo: number, extra: Record<string, unknown> = {}) {
  counter++;
  return {
    occurred: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    event: 'test.happened',
    resource: { 'prefect.resource.id': `test.thing.${counter}` } as Record<string, string>,
    id: crypto.randomUUID(),
    ...extra,
  };
}

export interface StateOf {
  type: string;
  name: string;
}

export const PENDING: StateOf = { type: 'PENDING', name: 'Pending' };
export const RUNNING: StateOf = { type: 'RUNNING', name: 'Running' };
export const RETRYING: StateOf = { type: 'RUNNING', name: 'Retrying' };
export const COMPLETED: StateOf = { type: 'COMPLETED', name: 'Completed' };

/** A client's `prefect.task-run.<State>` event for `taskRun` of `flowRun`, at `at` (ms). */
export function taskRunEvent(taskRun: string, flowRun: string, state: StateOf, at: number, run: Record<string, unknown> = {}) {
  return {
    occurred: new Date(at).toISOString(),
    event: `prefect.task-run.${state.name}`,
    resource: { 'prefect.resource.id': `prefect.task-run.${taskRun}`, 'prefect.resource.name': 'work-1', 'prefect.orchestration': 'client' } as Record<string, string>,
    related: [{ 'prefect.resource.id': `prefect.flow-run.${flowRun}`, 'prefect.resource.role': 'flow-run', 'prefect.resource.name': 'run' }],
    payload: {
      validated_state: { ...state, message: '', state_details: {}, data: null },
      task_run: {
        name: 'work-1',
        task_key: 'work-abc',
        dynamic_key: '0',
        tags: ['etl'],
        run_count: state.type === 'PENDING' ? 0 : 1,
        flow_run_run_count: 1,
        expected_start_time: new Date(at).toISOString(),
        total_run_time: 0,
        ...run,
      } as Record<string, unknown>,
    },
    id: crypto.randomUUID(),
    follows: null as string | null,
  };
}
