/**
 * Prefect events as a flow run's client emits them over `/api/events/in`, for the events bench
 * (bench/ingest/ws-client.ts). Shapes follow the recordings in the spec's flow-runs reference
 * (3.1.4 and 3.8.3 clients): `prefect.task-run.<State>` events with the state's labels on the
 * resource, the flow run and flow as related resources, and the payload's `intended`,
 * `initial_state`, `validated_state` and `task_run` (name, task_key, dynamic_key,
 * empirical_policy, tags, task_inputs, run counts, times); `id` the new state's id, `follows`
 * the previous event of the same task run. Besides them, as the mix of a real stream:
 * `prefect.flow-run.heartbeat`, `prefect.artifact.created` / `.updated`, and a user event.
 *
 * Each task run goes Pending → Running → Completed; one in eight retries (Running → Retrying →
 * Completed) and one in twenty fails (Running → Failed). About 85% of the events are task-run
 * events, so the server's task-run recorder does real work.
 */
import { formatMicros } from '../../src/time.ts';

export interface RunContext {
  flowRunId: string;
  flowRunName: string;
  flowId: string;
  flowName: string;
}

const TASKS = ['extract', 'transform', 'load', 'validate', 'publish-report', 'fetch-page'];

/** Prefect's `prefect.state-timestamp` label: ISO with `+00:00`. */
const labelTime = (us: number) => formatMicros(us).replace(/Z$/, '+00:00');

const state = (type: string, name: string, extra = '') =>
  `{"type":"${type}","name":"${name}","message":"","state_details":{${extra}}`;

interface TaskRunState {
  id: string;
  name: string;
  key: string;
  dynamicKey: string;
  tags: string;
  expected: number;
  started: number;
  /** the events still to send, in order */
  steps: [type: string, name: string][];
  prev: { type: string; name: string } | null;
  follows: string | null;
  runCount: number;
}

/**
 * Builds `count` event frames (JSON text) for one run, `occurred` starting at `startMicros` and
 * `stepMicros` apart. `uuid` makes ids (crypto.randomUUID; events and task runs need fresh ones
 * each time, since the server skips an id it already stored).
 */
export function eventFrames(ctx: RunContext, count: number, startMicros: number, stepMicros: number, rand: () => number, uuid: () => string): string[] {
  const frames: string[] = [];
  const related =
    `[{"prefect.resource.id":"prefect.flow-run.${ctx.flowRunId}","prefect.resource.role":"flow-run","prefect.resource.name":"${ctx.flowRunName}"},` +
    `{"prefect.resource.id":"prefect.flow.${ctx.flowId}","prefect.resource.role":"flow","prefect.resource.name":"${ctx.flowName}"}`;
  const flowOnly = `[{"prefect.resource.id":"prefect.flow.${ctx.flowId}","prefect.resource.role":"flow","prefect.resource.name":"${ctx.flowName}"}]`;
  const active: TaskRunState[] = [];
  let serial = 0;
  let t = startMicros;
  const newTask = (): TaskRunState => {
    const k = serial++;
    const task = TASKS[k % TASKS.length];
    const x = rand();
    const steps: [string, string][] =
      x < 0.125
        ? [['PENDING', 'Pending'], ['RUNNING', 'Running'], ['RUNNING', 'Retrying'], ['COMPLETED', 'Completed']]
        : x < 0.175
          ? [['PENDING', 'Pending'], ['RUNNING', 'Running'], ['FAILED', 'Failed']]
          : [['PENDING', 'Pending'], ['RUNNING', 'Running'], ['COMPLETED', 'Completed']];
    return {
      id: uuid(),
      name: `${task}-${k.toString(16).padStart(3, '0').slice(-3)}`,
      key: `${task}-${(0x1f2e3d4c + k * 7919).toString(16).slice(-8)}`,
      dynamicKey: String(k),
      tags: k % 4 === 0 ? '["etl","critical"]' : '[]',
      expected: t,
      started: 0,
      steps,
      prev: null,
      follows: null,
      runCount: 0,
    };
  };
  while (frames.length < count) {
    t += stepMicros;
    const occurred = formatMicros(t);
    const id = uuid();
    const x = rand();
    if (x < 0.04) {
      frames.push(
        `{"occurred":"${occurred}","event":"prefect.flow-run.heartbeat","resource":{"prefect.resource.id":"prefect.flow-run.${ctx.flowRunId}","prefect.resource.name":"${ctx.flowRunName}","prefect.version":"3.8.3"},` +
          `"related":${flowOnly},"payload":{},"id":"${id}","follows":null}`,
      );
      continue;
    }
    if (x < 0.1) {
      const artifact = uuid();
      const created = x < 0.08;
      frames.push(
        `{"occurred":"${occurred}","event":"prefect.artifact.${created ? 'created' : 'updated'}","resource":{"prefect.resource.id":"prefect.artifact.${artifact}","prefect.resource.name":"report-${serial}"},` +
          `"related":${related}],"payload":${created ? `{"key":"report-${serial}","type":"markdown","description":"nightly summary"}` : `{"data":${(rand() * 100).toFixed(1)}}`},"id":"${id}","follows":null}`,
      );
      continue;
    }
    if (x < 0.15) {
      frames.push(
        `{"occurred":"${occurred}","event":"acme.warehouse.partition.loaded","resource":{"prefect.resource.id":"acme.warehouse.orders.${serial % 31}","prefect.resource.name":"orders"},` +
          `"related":${related}],"payload":{"rows":${Math.floor(rand() * 100000)},"bytes":${Math.floor(rand() * 1e8)},"partition":"dt=2026-12-0${1 + (serial % 9)}"},"id":"${id}","follows":null}`,
      );
      continue;
    }
    // A task-run state change: start a task run when few are active, else advance one.
    if (active.length < 4 || rand() < 0.2) active.push(newTask());
    const i = Math.floor(rand() * active.length);
    const tr = active[i];
    const [type, name] = tr.steps.shift()!;
    if (type === 'RUNNING' && name === 'Running') {
      tr.started = t;
      tr.runCount = 1;
    } else if (name === 'Retrying') tr.runCount = 2;
    const ended = type === 'COMPLETED' || type === 'FAILED';
    const taskRun =
      `{"name":"${tr.name}","task_key":"${tr.key}","dynamic_key":"${tr.dynamicKey}","empirical_policy":{"max_retries":0,"retry_delay_seconds":0.0,"retries":1,"retry_delay":0},` +
      `"tags":${tr.tags},"labels":{},"task_inputs":{"x":[]},"run_count":${tr.runCount},"flow_run_run_count":${tr.runCount > 0 ? 1 : 0},"expected_start_time":"${formatMicros(tr.expected)}"` +
      (tr.started ? `,"start_time":"${formatMicros(tr.started)}"` : '') +
      (ended ? `,"end_time":"${occurred}"` : '') +
      `,"total_run_time":${tr.started ? ((t - tr.started) / 1e6).toFixed(6) : '0.0'}}`;
    const initial = tr.prev ? `${state(tr.prev.type, tr.prev.name)}}` : 'null';
    const message = type === 'FAILED' ? 'Task run encountered an exception ReadTimeout: timed out' : '';
    const validated =
      type === 'COMPLETED'
        ? `${state(type, name, '"untrackable_result":true')},"data":null}`
        : `{"type":"${type}","name":"${name}","message":"${message}","state_details":{},"data":null}`;
    frames.push(
      `{"occurred":"${occurred}","event":"prefect.task-run.${name}","resource":{"prefect.resource.id":"prefect.task-run.${tr.id}","prefect.resource.name":"${tr.name}",` +
        `"prefect.run-count":"${tr.runCount}","prefect.state-message":"${message}","prefect.state-name":"${name}","prefect.state-timestamp":"${labelTime(t)}","prefect.state-type":"${type}","prefect.orchestration":"client"},` +
        `"related":${related}${tr.tags === '[]' ? '' : ',{"prefect.resource.id":"prefect.tag.etl","prefect.resource.role":"tag"},{"prefect.resource.id":"prefect.tag.critical","prefect.resource.role":"tag"}'}],` +
        `"payload":{"intended":{"from":${tr.prev ? `"${tr.prev.type}"` : 'null'},"to":"${type}"},"initial_state":${initial},"validated_state":${validated},"task_run":${taskRun}},` +
        `"id":"${id}","follows":${tr.follows ? `"${tr.follows}"` : 'null'}}`,
    );
    tr.prev = { type, name };
    tr.follows = id;
    if (tr.steps.length === 0) active.splice(i, 1);
  }
  return frames;
}
