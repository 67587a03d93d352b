/**
 * The records of an export file (`artifactd export` / `import`), as TypeBox models the request
 * validator walks. Each is the object the API returns for that resource: every field the store
 * keeps is required (an export writes them all), with the types the API accepts; fields the
 * server derives or always answers as constants (`estimated_run_time`, `status`, …) may be present
 * and are ignored. A line that fails these checks is reported and skipped, so nothing malformed
 * ever reaches the store.
 */
import { ArtifactCreate } from './artifacts.ts';
import { DateTime, Nullable, StateType, t, Uuid } from './common.ts';
import { FlowRunPolicy, Name, StateDetailsInput, TaskRunPolicy } from './companions.ts';
import { Event } from './events.ts';
import { LogCreate } from './logs.ts';

const JsonObject = () => t.Record(t.String(), t.Unknown());
const Time = () => Nullable(DateTime());
const Id = () => Uuid();
const OptId = () => Nullable(Uuid());
const OptString = () => Nullable(t.String());
const Tags = () => t.Array(t.String());
const stamped = { id: Id(), created: DateTime(), updated: DateTime() };

/** An Artifact with its own id and timestamps; the other fields as `POST /artifacts/` takes them. */
export const ArtifactRecordLine = t.Object({ ...stamped, ...ArtifactCreate.properties }, { title: 'Artifact', additionalProperties: false });

/** A key's collection: only its id and `created` are read (the rest follows its latest version). */
export const CollectionRecordLine = t.Object(
  { id: Id(), created: DateTime(), updated: DateTime(), key: ArtifactCreate.properties.key, latest_id: Id() },
  { title: 'ArtifactCollection' },
);

export const FlowRecordLine = t.Object({ ...stamped, name: Name(), tags: Tags(), labels: JsonObject() }, { title: 'Flow' });

const State = t.Object(
  {
    id: Id(),
    type: StateType,
    name: t.String(),
    timestamp: DateTime(),
    message: OptString(),
    data: t.Unknown(),
    state_details: StateDetailsInput,
  },
  { title: 'State' },
);

const runFields = {
  state_id: OptId(),
  state_type: Nullable(StateType),
  state_name: OptString(),
  run_count: t.Integer({ minimum: 0 }),
  expected_start_time: Time(),
  next_scheduled_start_time: Time(),
  start_time: Time(),
  end_time: Time(),
  total_run_time: t.Number({ minimum: 0 }),
  state: Nullable(State),
  tags: Tags(),
  labels: JsonObject(),
};

export const FlowRunRecordLine = t.Object(
  {
    ...stamped,
    ...runFields,
    name: t.String(),
    flow_id: Id(),
    deployment_id: OptId(),
    deployment_version: OptString(),
    work_queue_name: OptString(),
    flow_version: OptString(),
    parameters: JsonObject(),
    idempotency_key: OptString(),
    context: JsonObject(),
    empirical_policy: FlowRunPolicy,
    parent_task_run_id: OptId(),
    auto_scheduled: t.Boolean(),
    infrastructure_document_id: t.Null(), // no block documents here
    infrastructure_pid: OptString(),
    work_pool_name: OptString(),
    job_variables: JsonObject(),
  },
  { title: 'FlowRun' },
);

export const TaskRunRecordLine = t.Object(
  {
    ...stamped,
    ...runFields,
    name: t.String(),
    flow_run_id: OptId(),
    task_key: t.String(),
    dynamic_key: t.String(),
    cache_key: OptString(),
    cache_expiration: Time(),
    task_version: OptString(),
    empirical_policy: TaskRunPolicy,
    task_inputs: t.Record(t.String(), t.Array(JsonObject())),
    flow_run_run_count: t.Integer({ minimum: 0 }),
  },
  { title: 'TaskRun' },
);

export const DeploymentRecordLine = t.Object(
  {
    ...stamped,
    name: Name(),
    version: OptString(),
    description: OptString(),
    flow_id: Id(),
    paused: t.Boolean(),
    schedules: t.Array(t.Unknown()),
    concurrency_limit: Nullable(t.Integer({ minimum: 0 })),
    job_variables: JsonObject(),
    parameters: JsonObject(),
    tags: Tags(),
    work_queue_name: OptString(),
    parameter_openapi_schema: Nullable(JsonObject()),
    path: OptString(),
    pull_steps: Nullable(t.Array(JsonObject())),
    entrypoint: OptString(),
    work_pool_name: OptString(),
    enforce_parameter_schema: t.Boolean(),
  },
  { title: 'Deployment' },
);

/** A Log as `POST /logs/filter` returns it: `updated` is read but ignored (it equals `created`). */
export const LogRecordLine = t.Object(
  {
    ...stamped,
    name: LogCreate.properties.name,
    level: LogCreate.properties.level,
    message: LogCreate.properties.message,
    timestamp: DateTime(),
    flow_run_id: OptId(),
    task_run_id: OptId(),
  },
  { title: 'Log' },
);

/** A ReceivedEvent as `POST /events/filter` returns it: the client's Event and when it was received. */
export const EventRecordLine = t.Object({ ...Event.properties, received: DateTime() }, { title: 'ReceivedEvent' });
