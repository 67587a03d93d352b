/**
 * Filter objects of Prefect 3.0.0 (`shared/spec/filters.md`). Field names, nesting and which
 * objects take an `operator` match the reference OpenAPI; semantics live in `src/filters/`.
 */
import type { Static } from '@sinclair/typebox';
import { DateTime, FilterObject, Opt, OperatorField, StateType, StringList, Sub, UuidList, t } from './common.ts';

// ── Artifacts ────────────────────────────────────────────────────────────────────────────────

export const ArtifactFilterId = FilterObject('ArtifactFilterId', { any_: Opt(UuidList()) }, 'Filter by `Artifact.id`.');
export const ArtifactFilterKey = FilterObject(
  'ArtifactFilterKey',
  { any_: Opt(StringList()), like_: Opt(t.String()), exists_: Opt(t.Boolean()) },
  'Filter by `Artifact.key`: exact keys, a case-insensitive substring with `%`/`_` wildcards, or presence.',
);
export const ArtifactFilterFlowRunId = FilterObject(
  'ArtifactFilterFlowRunId',
  { any_: Opt(UuidList()) },
  'Filter by the stored `Artifact.flow_run_id` (the run need not exist).',
);
export const ArtifactFilterTaskRunId = FilterObject(
  'ArtifactFilterTaskRunId',
  { any_: Opt(UuidList()) },
  'Filter by the stored `Artifact.task_run_id` (the run need not exist).',
);
export const ArtifactFilterType = FilterObject(
  'ArtifactFilterType',
  { any_: Opt(StringList()), not_any_: Opt(StringList()) },
  'Filter by `Artifact.type`; `not_any_` also drops artifacts without a type.',
);
export const ArtifactFilter = FilterObject(
  'ArtifactFilter',
  {
    operator: OperatorField(),
    id: Sub(ArtifactFilterId),
    key: Sub(ArtifactFilterKey),
    flow_run_id: Sub(ArtifactFilterFlowRunId),
    task_run_id: Sub(ArtifactFilterTaskRunId),
    type: Sub(ArtifactFilterType),
  },
  'Filter artifacts. Only artifacts matching all criteria (or any, with `or_`) are returned.',
);

export const ArtifactCollectionFilterLatestId = FilterObject(
  'ArtifactCollectionFilterLatestId',
  { any_: Opt(UuidList()) },
  'Filter by `ArtifactCollection.latest_id`.',
);
export const ArtifactCollectionFilterKey = FilterObject(
  'ArtifactCollectionFilterKey',
  { any_: Opt(StringList()), like_: Opt(t.String()), exists_: Opt(t.Boolean()) },
  'Filter by `ArtifactCollection.key`.',
);
export const ArtifactCollectionFilterFlowRunId = FilterObject(
  'ArtifactCollectionFilterFlowRunId',
  { any_: Opt(UuidList()) },
  'Filter by the latest version\'s `flow_run_id`.',
);
export const ArtifactCollectionFilterTaskRunId = FilterObject(
  'ArtifactCollectionFilterTaskRunId',
  { any_: Opt(UuidList()) },
  'Filter by the latest version\'s `task_run_id`.',
);
export const ArtifactCollectionFilterType = FilterObject(
  'ArtifactCollectionFilterType',
  { any_: Opt(StringList()), not_any_: Opt(StringList()) },
  'Filter by the latest version\'s `type`.',
);
export const ArtifactCollectionFilter = FilterObject(
  'ArtifactCollectionFilter',
  {
    operator: OperatorField(),
    latest_id: Sub(ArtifactCollectionFilterLatestId),
    key: Sub(ArtifactCollectionFilterKey),
    flow_run_id: Sub(ArtifactCollectionFilterFlowRunId),
    task_run_id: Sub(ArtifactCollectionFilterTaskRunId),
    type: Sub(ArtifactCollectionFilterType),
  },
  'Filter the latest version of each key.',
);

// ── Flows ────────────────────────────────────────────────────────────────────────────────────

const tagsDescription = (of: string) =>
  `Filter by \`${of}.tags\`: \`all_\` requires every listed tag; \`is_null_\` tests for no tags.`;
const Tags = (name: string, of: string) =>
  FilterObject(name, { operator: OperatorField(), all_: Opt(StringList()), is_null_: Opt(t.Boolean()) }, tagsDescription(of));
/** Tags with `any_` ("shares a tag"), a newer-Prefect addition accepted here. */
const TagsWithAny = (name: string, of: string) =>
  FilterObject(
    name,
    { operator: OperatorField(), all_: Opt(StringList()), any_: Opt(StringList()), is_null_: Opt(t.Boolean()) },
    tagsDescription(of),
  );
const Name = (name: string, of: string) =>
  FilterObject(name, { any_: Opt(StringList()), like_: Opt(t.String()) }, `Filter by \`${of}.name\`.`);
const Ids = (name: string, of: string) => FilterObject(name, { any_: Opt(UuidList()) }, `Filter by \`${of}.id\`.`);
/** Ids with `not_any_`, a newer-Prefect addition on flows and deployments accepted here. */
const IdsWithNotAny = (name: string, of: string) =>
  FilterObject(name, { any_: Opt(UuidList()), not_any_: Opt(UuidList()) }, `Filter by \`${of}.id\`.`);
const TimeRange = (name: string, of: string, withIsNull: boolean) =>
  FilterObject(
    name,
    withIsNull
      ? { before_: Opt(DateTime()), after_: Opt(DateTime()), is_null_: Opt(t.Boolean()) }
      : { before_: Opt(DateTime()), after_: Opt(DateTime()) },
    `Filter by \`${of}\`; both bounds are inclusive.`,
  );

export const FlowFilterId = IdsWithNotAny('FlowFilterId', 'Flow');
export const FlowFilterDeployment = FilterObject(
  'FlowFilterDeployment',
  { operator: OperatorField(), is_null_: Opt(t.Boolean()) },
  'Filter flows by whether they have deployments.',
);
export const FlowFilterName = Name('FlowFilterName', 'Flow');
export const FlowFilterTags = Tags('FlowFilterTags', 'Flow');
export const FlowFilter = FilterObject(
  'FlowFilter',
  {
    operator: OperatorField(),
    id: Sub(FlowFilterId),
    deployment: Sub(FlowFilterDeployment),
    name: Sub(FlowFilterName),
    tags: Sub(FlowFilterTags),
  },
  'Filter flows.',
);

// ── Flow runs ────────────────────────────────────────────────────────────────────────────────

export const FlowRunFilterId = FilterObject(
  'FlowRunFilterId',
  { any_: Opt(UuidList()), not_any_: Opt(UuidList()) },
  'Filter by `FlowRun.id`.',
);
export const FlowRunFilterName = Name('FlowRunFilterName', 'FlowRun');
export const FlowRunFilterTags = TagsWithAny('FlowRunFilterTags', 'FlowRun');
export const FlowRunFilterDeploymentId = FilterObject(
  'FlowRunFilterDeploymentId',
  { operator: OperatorField(), any_: Opt(UuidList()), is_null_: Opt(t.Boolean()) },
  'Filter by `FlowRun.deployment_id`.',
);
export const FlowRunFilterWorkQueueName = FilterObject(
  'FlowRunFilterWorkQueueName',
  { operator: OperatorField(), any_: Opt(StringList()), is_null_: Opt(t.Boolean()) },
  'Filter by `FlowRun.work_queue_name`.',
);
export const FlowRunFilterStateType = FilterObject(
  'FlowRunFilterStateType',
  { any_: Opt(t.Array(StateType)), not_any_: Opt(t.Array(StateType)) },
  'Filter by `FlowRun.state_type`.',
);
export const FlowRunFilterStateName = FilterObject(
  'FlowRunFilterStateName',
  { any_: Opt(StringList()), not_any_: Opt(StringList()) },
  'Filter by `FlowRun.state_name`.',
);
export const FlowRunFilterState = FilterObject(
  'FlowRunFilterState',
  { operator: OperatorField(), type: Sub(FlowRunFilterStateType), name: Sub(FlowRunFilterStateName) },
  'Filter by the current state; the operator applies to the type and name conditions together.',
);
export const FlowRunFilterFlowVersion = FilterObject(
  'FlowRunFilterFlowVersion',
  { any_: Opt(StringList()) },
  'Filter by `FlowRun.flow_version`.',
);
export const FlowRunFilterStartTime = TimeRange('FlowRunFilterStartTime', 'FlowRun.start_time', true);
export const FlowRunFilterExpectedStartTime = TimeRange(
  'FlowRunFilterExpectedStartTime',
  'FlowRun.expected_start_time',
  false,
);
export const FlowRunFilterNextScheduledStartTime = TimeRange(
  'FlowRunFilterNextScheduledStartTime',
  'FlowRun.next_scheduled_start_time',
  false,
);
export const FlowRunFilterParentFlowRunId = FilterObject(
  'FlowRunFilterParentFlowRunId',
  { operator: OperatorField(), any_: Opt(UuidList()) },
  'Filter sub-flow runs by the flow run that started them.',
);
export const FlowRunFilterParentTaskRunId = FilterObject(
  'FlowRunFilterParentTaskRunId',
  { operator: OperatorField(), any_: Opt(UuidList()), is_null_: Opt(t.Boolean()) },
  'Filter by `FlowRun.parent_task_run_id`.',
);
export const FlowRunFilterEndTime = TimeRange('FlowRunFilterEndTime', 'FlowRun.end_time', true);
export const FlowRunFilterCreatedBy = FilterObject(
  'FlowRunFilterCreatedBy',
  { operator: OperatorField(), id_: Opt(UuidList()), type_: Opt(StringList()), is_null_: Opt(t.Boolean()) },
  'Filter by `FlowRun.created_by` (newer Prefect; runs created through this API have none).',
);
export const FlowRunFilterIdempotencyKey = FilterObject(
  'FlowRunFilterIdempotencyKey',
  { any_: Opt(StringList()), not_any_: Opt(StringList()) },
  'Filter by `FlowRun.idempotency_key`.',
);
export const FlowRunFilter = FilterObject(
  'FlowRunFilter',
  {
    operator: OperatorField(),
    id: Sub(FlowRunFilterId),
    name: Sub(FlowRunFilterName),
    tags: Sub(FlowRunFilterTags),
    deployment_id: Sub(FlowRunFilterDeploymentId),
    work_queue_name: Sub(FlowRunFilterWorkQueueName),
    state: Sub(FlowRunFilterState),
    flow_version: Sub(FlowRunFilterFlowVersion),
    start_time: Sub(FlowRunFilterStartTime),
    expected_start_time: Sub(FlowRunFilterExpectedStartTime),
    next_scheduled_start_time: Sub(FlowRunFilterNextScheduledStartTime),
    parent_flow_run_id: Sub(FlowRunFilterParentFlowRunId),
    parent_task_run_id: Sub(FlowRunFilterParentTaskRunId),
    idempotency_key: Sub(FlowRunFilterIdempotencyKey),
    end_time: Sub(FlowRunFilterEndTime),
    created_by: Sub(FlowRunFilterCreatedBy),
  },
  'Filter flow runs.',
);

// ── Task runs ────────────────────────────────────────────────────────────────────────────────

export const TaskRunFilterId = Ids('TaskRunFilterId', 'TaskRun');
export const TaskRunFilterName = Name('TaskRunFilterName', 'TaskRun');
export const TaskRunFilterTags = Tags('TaskRunFilterTags', 'TaskRun');
export const TaskRunFilterStateType = FilterObject(
  'TaskRunFilterStateType',
  { any_: Opt(t.Array(StateType)) },
  'Filter by `TaskRun.state_type`.',
);
export const TaskRunFilterStateName = FilterObject(
  'TaskRunFilterStateName',
  { any_: Opt(StringList()) },
  'Filter by `TaskRun.state_name`.',
);
export const TaskRunFilterState = FilterObject(
  'TaskRunFilterState',
  { operator: OperatorField(), type: Sub(TaskRunFilterStateType), name: Sub(TaskRunFilterStateName) },
  'Filter by the current state; the operator applies to the type and name conditions together.',
);
export const TaskRunFilterStartTime = TimeRange('TaskRunFilterStartTime', 'TaskRun.start_time', true);
export const TaskRunFilterExpectedStartTime = TimeRange(
  'TaskRunFilterExpectedStartTime',
  'TaskRun.expected_start_time',
  false,
);
export const TaskRunFilterEndTime = TimeRange('TaskRunFilterEndTime', 'TaskRun.end_time', true);
export const TaskRunFilterSubFlowRuns = FilterObject(
  'TaskRunFilterSubFlowRuns',
  { exists_: Opt(t.Boolean()) },
  'Filter task runs by whether they started a sub-flow run.',
);
export const TaskRunFilterFlowRunId = FilterObject(
  'TaskRunFilterFlowRunId',
  { operator: OperatorField(), any_: Opt(UuidList()), is_null_: Opt(t.Boolean(), { default: false }) },
  'Filter by `TaskRun.flow_run_id`; `is_null_` defaults to false, so `{}` means "has a flow run".',
);
export const TaskRunFilter = FilterObject(
  'TaskRunFilter',
  {
    operator: OperatorField(),
    id: Sub(TaskRunFilterId),
    name: Sub(TaskRunFilterName),
    tags: Sub(TaskRunFilterTags),
    state: Sub(TaskRunFilterState),
    start_time: Sub(TaskRunFilterStartTime),
    expected_start_time: Sub(TaskRunFilterExpectedStartTime),
    subflow_runs: Sub(TaskRunFilterSubFlowRuns),
    flow_run_id: Sub(TaskRunFilterFlowRunId),
    end_time: Sub(TaskRunFilterEndTime),
  },
  'Filter task runs.',
);

// ── Deployments ──────────────────────────────────────────────────────────────────────────────

export const DeploymentFilterId = IdsWithNotAny('DeploymentFilterId', 'Deployment');
export const DeploymentFilterName = Name('DeploymentFilterName', 'Deployment');
export const DeploymentOrFlowNameFilter = FilterObject(
  'DeploymentOrFlowNameFilter',
  { like_: Opt(t.String()) },
  'Match deployments whose name, or whose flow\'s name, contains the pattern.',
);
export const DeploymentFilterPaused = FilterObject(
  'DeploymentFilterPaused',
  { eq_: Opt(t.Boolean()) },
  'Filter by `Deployment.paused`.',
);
export const DeploymentFilterTags = TagsWithAny('DeploymentFilterTags', 'Deployment');
export const DeploymentFilterWorkQueueName = FilterObject(
  'DeploymentFilterWorkQueueName',
  { any_: Opt(StringList()) },
  'Filter by `Deployment.work_queue_name`.',
);
export const DeploymentFilterConcurrencyLimit = FilterObject(
  'DeploymentFilterConcurrencyLimit',
  { ge_: Opt(t.Integer()), le_: Opt(t.Integer()), is_null_: Opt(t.Boolean()) },
  'Filter by `Deployment.concurrency_limit`.',
);
export const DeploymentFilter = FilterObject(
  'DeploymentFilter',
  {
    operator: OperatorField(),
    id: Sub(DeploymentFilterId),
    name: Sub(DeploymentFilterName),
    flow_or_deployment_name: Sub(DeploymentOrFlowNameFilter),
    paused: Sub(DeploymentFilterPaused),
    tags: Sub(DeploymentFilterTags),
    work_queue_name: Sub(DeploymentFilterWorkQueueName),
    concurrency_limit: Sub(DeploymentFilterConcurrencyLimit),
  },
  'Filter deployments.',
);

export type ArtifactFilter = Static<typeof ArtifactFilter>;
export type ArtifactCollectionFilter = Static<typeof ArtifactCollectionFilter>;
export type FlowRunFilter = Static<typeof FlowRunFilter>;
export type TaskRunFilter = Static<typeof TaskRunFilter>;
export type FlowFilter = Static<typeof FlowFilter>;
export type DeploymentFilter = Static<typeof DeploymentFilter>;
