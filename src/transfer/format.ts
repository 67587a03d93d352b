/**
 * The export file: NDJSON, one self-describing line per record.
 *
 *   {"kind":"header","format":"artifactd-export","version":1,"exported_at":"…","exported_by":"artifactd 0.1.0","counts":{…}}
 *   {"kind":"flow","record":{…Flow as the API returns it…}}
 *   … deployments, flow runs, task runs, collections, artifacts, logs, events (each kind in id order)
 *
 * A record is the resource's API object, so other tools can read the file, minus the fields a
 * server derives at read time (a flow run's `estimated_run_time` grows while it runs; leaving it
 * out makes two exports of the same store byte-equal). Parents come before children: flows,
 * deployments, flow runs, task runs; a key's collection line comes before its artifacts so an
 * import can give the collection its original id and `created`. A `log` line holds the Log JSON of
 * `POST /logs/filter`, an `event` line the ReceivedEvent JSON of `POST /events/filter`; both come
 * last, as nothing refers to them.
 *
 * Version 2 added the `log` and `event` kinds. A reader of version 2 reads version 1 files as they
 * are (they simply hold neither kind); the number changed so that a version-1 reader refuses a
 * file holding records it cannot store with one clear line, instead of importing the rest and
 * reporting every log and event line as an unknown kind.
 *
 * `parseLine` turns one line into a store record after validating it with the same validator
 * and TypeBox models as the API; a bad line yields a one-line reason instead.
 */
import pkg from '../../package.json' with { type: 'json' };
import { topLevelMember } from '../http/json-text.ts';
import { truncateMetadata } from '../schemas/artifacts.ts';
import {
  ArtifactRecordLine,
  CollectionRecordLine,
  DeploymentRecordLine,
  EventRecordLine,
  FlowRecordLine,
  FlowRunRecordLine,
  LogRecordLine,
  TaskRunRecordLine,
} from '../schemas/transfer.ts';
import type {
  DeploymentRecord,
  FlowRecord,
  FlowRunRecord,
  StateDetails,
  StateRecord,
  TaskRunRecord,
} from '../store/companion-records.ts';
import { eventRecord, type EventRecord } from '../store/event-records.ts';
import type { LogRecord } from '../store/log-records.ts';
import { flowRunPolicyDefaults, taskRunPolicyDefaults } from '../store/policies.ts';
import type { ArtifactRecord } from '../store/records.ts';
import type { Event } from '../schemas/events.ts';
import { parseDateTime } from '../validation/datetime.ts';
import { validate, isPlainObject, type ValidationIssue } from '../validation/validate.ts';

export const FORMAT = 'artifactd-export';
export const FORMAT_VERSION = 2;

/** Line kinds in the order an export writes them. */
export const KINDS = ['flow', 'deployment', 'flow_run', 'task_run', 'collection', 'artifact', 'log', 'event'] as const;
export type Kind = (typeof KINDS)[number];

export type Counts = Record<Kind, number>;

export function headerLine(counts: Counts, exportedAt: Date): string {
  return JSON.stringify({
    kind: 'header',
    format: FORMAT,
    version: FORMAT_VERSION,
    exported_at: exportedAt.toISOString(),
    exported_by: `artifactd ${pkg.version}`,
    counts,
  });
}

/** A record line from the record's API JSON text (spliced, not re-serialized: `data` stays exact). */
export const recordLine = (kind: Kind, json: string) => `{"kind":"${kind}","record":${json}}`;

export interface CollectionIdentity {
  key: string;
  id: string;
  created: number;
}

export type Item =
  | { kind: 'flow'; record: FlowRecord }
  | { kind: 'deployment'; record: DeploymentRecord }
  | { kind: 'flow_run'; record: FlowRunRecord }
  | { kind: 'task_run'; record: TaskRunRecord }
  | { kind: 'collection'; record: CollectionIdentity }
  | { kind: 'artifact'; record: ArtifactRecord }
  | { kind: 'log'; record: LogRecord }
  | { kind: 'event'; record: EventRecord };

export interface Header {
  kind: 'header';
  version: number;
  counts?: Partial<Counts>;
}

export type Parsed = { ok: true; item: Item } | { ok: true; header: Header } | { ok: false; reason: string };

const SCHEMAS = {
  flow: FlowRecordLine,
  deployment: DeploymentRecordLine,
  flow_run: FlowRunRecordLine,
  task_run: TaskRunRecordLine,
  collection: CollectionRecordLine,
  artifact: ArtifactRecordLine,
  log: LogRecordLine,
  event: EventRecordLine,
} as const;

const fail = (reason: string): Parsed => ({ ok: false, reason });

/** One issue as a short reason: `record.created: Value error, Unable to parse string [x]`. */
function describeIssue(issue: ValidationIssue): string {
  return `${issue.loc.join('.')}: ${issue.msg}`;
}

export function parseLine(line: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return fail(`not JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(value)) return fail('not a JSON object');
  const kind = value.kind;
  if (kind === 'header') {
    if (value.format !== FORMAT) return fail(`header: format is not "${FORMAT}"`);
    if (typeof value.version !== 'number') return fail('header: version is not a number');
    return { ok: true, header: value as unknown as Header };
  }
  if (typeof kind !== 'string' || !Object.hasOwn(SCHEMAS, kind)) {
    return fail(`unknown kind ${JSON.stringify(kind)} (expected one of ${KINDS.join(', ')})`);
  }
  if (!('record' in value)) return fail('record: Field required');
  const { value: record, issues } = validate(SCHEMAS[kind as Kind], value.record, ['record']);
  if (issues.length > 0) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    return fail(`${kind}: ${describeIssue(issues[0])}${more}`);
  }
  const r = record as Record<string, any>;
  switch (kind as Kind) {
    case 'artifact':
      return { ok: true, item: { kind: 'artifact', record: toArtifact(r, line) } };
    case 'collection':
      if (r.key === null || r.key === undefined) return fail('collection: record.key: Field required');
      return { ok: true, item: { kind: 'collection', record: { key: r.key, id: r.id, created: micros(r.created) } } };
    case 'flow':
      return { ok: true, item: { kind: 'flow', record: { ...stamps(r), name: r.name, tags: r.tags, labels: r.labels } } };
    case 'deployment':
      return { ok: true, item: { kind: 'deployment', record: toDeployment(r) } };
    case 'flow_run':
      return { ok: true, item: { kind: 'flow_run', record: toFlowRun(r) } };
    case 'task_run':
      return { ok: true, item: { kind: 'task_run', record: toTaskRun(r) } };
    case 'log':
      return { ok: true, item: { kind: 'log', record: toLog(r) } };
    case 'event':
      return { ok: true, item: { kind: 'event', record: eventRecord(r as Event, micros(r.occurred), micros(r.received)) } };
  }
}

const micros = (text: string) => parseDateTime(text)!;
const maybeMicros = (text: string | null) => (text === null ? null : micros(text));
/** Every record's first three fields: its id and its timestamps. */
const stamps = (r: Record<string, any>) => ({ id: r.id as string, created: micros(r.created), updated: micros(r.updated) });

function toArtifact(r: Record<string, any>, line: string): ArtifactRecord {
  // `data` as written in the file: JSON.parse would round integers beyond 2^53.
  const recordText = topLevelMember(line, 'record')!;
  return {
    ...stamps(r),
    key: r.key ?? null,
    type: r.type ?? null,
    description: r.description ?? null,
    data: 'data' in r ? (topLevelMember(recordText, 'data') ?? 'null') : 'null',
    metadata: truncateMetadata(r.metadata_ ?? null),
    flowRunId: r.flow_run_id ?? null,
    taskRunId: r.task_run_id ?? null,
  };
}

/** A Log's `updated` is its `created` (logs are never edited), so only `created` is read. */
function toLog(r: Record<string, any>): LogRecord {
  return {
    id: r.id,
    created: micros(r.created),
    name: r.name,
    level: r.level,
    message: r.message,
    timestamp: micros(r.timestamp),
    flow_run_id: r.flow_run_id ?? null,
    task_run_id: r.task_run_id ?? null,
  };
}

function toDeployment(r: Record<string, any>): DeploymentRecord {
  return {
    ...stamps(r),
    name: r.name,
    version: r.version,
    description: r.description,
    flow_id: r.flow_id,
    paused: r.paused,
    schedules: r.schedules,
    concurrency_limit: r.concurrency_limit,
    job_variables: r.job_variables,
    parameters: r.parameters,
    tags: r.tags,
    work_queue_name: r.work_queue_name,
    parameter_openapi_schema: r.parameter_openapi_schema,
    path: r.path,
    pull_steps: r.pull_steps,
    entrypoint: r.entrypoint,
    work_pool_name: r.work_pool_name,
    enforce_parameter_schema: r.enforce_parameter_schema,
  };
}

function toState(s: Record<string, any> | null): StateRecord | null {
  if (s === null) return null;
  const d = s.state_details as Record<string, any>;
  const details: StateDetails = {
    flow_run_id: d.flow_run_id ?? null,
    task_run_id: d.task_run_id ?? null,
    child_flow_run_id: d.child_flow_run_id ?? null,
    scheduled_time: maybeMicros(d.scheduled_time ?? null),
    cache_key: d.cache_key ?? null,
    cache_expiration: maybeMicros(d.cache_expiration ?? null),
    deferred: d.deferred ?? false,
    untrackable_result: d.untrackable_result ?? false,
    pause_timeout: maybeMicros(d.pause_timeout ?? null),
    pause_reschedule: d.pause_reschedule ?? false,
    pause_key: d.pause_key ?? null,
    run_input_keyset: d.run_input_keyset ?? null,
    refresh_cache: d.refresh_cache ?? null,
    retriable: d.retriable ?? null,
    transition_id: d.transition_id ?? null,
    task_parameters_id: d.task_parameters_id ?? null,
  };
  return { id: s.id, type: s.type, name: s.name, timestamp: micros(s.timestamp), message: s.message, data: s.data, state_details: details };
}

function runTimes(r: Record<string, any>) {
  return {
    state_id: r.state_id,
    state_type: r.state_type,
    state_name: r.state_name,
    run_count: r.run_count,
    expected_start_time: maybeMicros(r.expected_start_time),
    next_scheduled_start_time: maybeMicros(r.next_scheduled_start_time),
    start_time: maybeMicros(r.start_time),
    end_time: maybeMicros(r.end_time),
    total_run_time: r.total_run_time,
    state: toState(r.state),
  };
}

function toFlowRun(r: Record<string, any>): FlowRunRecord {
  return {
    ...stamps(r),
    ...runTimes(r),
    name: r.name,
    flow_id: r.flow_id,
    deployment_id: r.deployment_id,
    deployment_version: r.deployment_version,
    work_queue_name: r.work_queue_name,
    flow_version: r.flow_version,
    parameters: r.parameters,
    idempotency_key: r.idempotency_key,
    context: r.context,
    empirical_policy: flowRunPolicyDefaults(r.empirical_policy),
    tags: r.tags,
    parent_task_run_id: r.parent_task_run_id,
    auto_scheduled: r.auto_scheduled,
    infrastructure_document_id: null,
    infrastructure_pid: r.infrastructure_pid,
    work_pool_name: r.work_pool_name,
    job_variables: r.job_variables,
    labels: r.labels,
  };
}

function toTaskRun(r: Record<string, any>): TaskRunRecord {
  return {
    ...stamps(r),
    ...runTimes(r),
    name: r.name,
    flow_run_id: r.flow_run_id,
    task_key: r.task_key,
    dynamic_key: r.dynamic_key,
    cache_key: r.cache_key,
    cache_expiration: maybeMicros(r.cache_expiration),
    task_version: r.task_version,
    empirical_policy: taskRunPolicyDefaults(r.empirical_policy),
    tags: r.tags,
    task_inputs: r.task_inputs,
    flow_run_run_count: r.flow_run_run_count,
    labels: r.labels,
  };
}
