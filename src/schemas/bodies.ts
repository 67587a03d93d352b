/**
 * The embedded bodies of the filter and count routes. Each property is one body parameter; the
 * route reads them with `readEmbeddedBody` (null = default) and the OpenAPI document publishes
 * them under Prefect's component names.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { t } from './common.ts';
import { ArtifactCollectionSort, ArtifactSort } from './artifacts.ts';
import { DeploymentSort, FlowRunSort, FlowSort, TaskRunSort } from './companions.ts';
import { ArtifactCollectionFilter, ArtifactFilter, DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from './filters.ts';

const runFilters = {
  flow_runs: t.Optional(FlowRunFilter),
  task_runs: t.Optional(TaskRunFilter),
  flows: t.Optional(FlowFilter),
  deployments: t.Optional(DeploymentFilter),
};

const paging = {
  offset: t.Optional(t.Integer({ minimum: 0, title: 'Offset', default: 0 })),
};

const limit = {
  limit: t.Optional(t.Integer({ title: 'Limit', description: 'Defaults to the server\'s default limit (200), which is also the maximum.' })),
};

const body = <P extends Record<string, TSchema>>(name: string, properties: P) =>
  t.Object(properties, { $id: name, title: name });

export const ReadArtifactsBody = body('Body_read_artifacts_artifacts_filter_post', {
  sort: t.Optional({ ...ArtifactSort, default: 'ID_DESC' }),
  ...paging,
  artifacts: t.Optional(ArtifactFilter),
  ...runFilters,
  ...limit,
});

export const ReadLatestArtifactsBody = body('Body_read_latest_artifacts_artifacts_latest_filter_post', {
  sort: t.Optional({ ...ArtifactCollectionSort, default: 'ID_DESC' }),
  ...paging,
  artifacts: t.Optional(ArtifactCollectionFilter),
  ...runFilters,
  ...limit,
});

export const CountArtifactsBody = body('Body_count_artifacts_artifacts_count_post', {
  artifacts: t.Optional(ArtifactFilter),
  ...runFilters,
});

export const CountLatestArtifactsBody = body('Body_count_latest_artifacts_artifacts_latest_count_post', {
  artifacts: t.Optional(ArtifactCollectionFilter),
  ...runFilters,
});

/** The body parameters of a body schema, `limit` excepted (it is checked first, on its own). */
export function bodyParams(schema: TObject) {
  return Object.entries(schema.properties)
    .filter(([name]) => name !== 'limit')
    .map(([name, param]) => ({ name, schema: param as TSchema }));
}


// ── companion routes ───────────────────────────────────────────────────────────────────────

/** Work pools are not stored here; their filters are accepted in shape and refused if used. */
const WorkPoolFilters = {
  work_pools: t.Optional(t.Object({}, { title: 'WorkPoolFilter', additionalProperties: true })),
  work_pool_queues: t.Optional(t.Object({}, { title: 'WorkQueueFilter', additionalProperties: true })),
};

const companionFilters = {
  flows: t.Optional(FlowFilter),
  flow_runs: t.Optional(FlowRunFilter),
  task_runs: t.Optional(TaskRunFilter),
  deployments: t.Optional(DeploymentFilter),
};

export const ReadFlowsBody = body('Body_read_flows_flows_filter_post', {
  ...limit,
  ...paging,
  ...companionFilters,
  work_pools: WorkPoolFilters.work_pools,
  sort: t.Optional({ ...FlowSort, default: 'NAME_ASC' }),
});
export const CountFlowsBody = body('Body_count_flows_flows_count_post', {
  ...companionFilters,
  work_pools: WorkPoolFilters.work_pools,
});

export const ReadFlowRunsBody = body('Body_read_flow_runs_flow_runs_filter_post', {
  sort: t.Optional({ ...FlowRunSort, default: 'ID_DESC' }),
  ...limit,
  ...paging,
  ...companionFilters,
  ...WorkPoolFilters,
});
export const CountFlowRunsBody = body('Body_count_flow_runs_flow_runs_count_post', { ...companionFilters, ...WorkPoolFilters });

export const ReadTaskRunsBody = body('Body_read_task_runs_task_runs_filter_post', {
  sort: t.Optional({ ...TaskRunSort, default: 'ID_DESC' }),
  ...limit,
  ...paging,
  ...companionFilters,
});
export const CountTaskRunsBody = body('Body_count_task_runs_task_runs_count_post', companionFilters);

export const ReadDeploymentsBody = body('Body_read_deployments_deployments_filter_post', {
  ...limit,
  ...paging,
  ...companionFilters,
  ...WorkPoolFilters,
  sort: t.Optional({ ...DeploymentSort, default: 'NAME_ASC' }),
});
export const CountDeploymentsBody = body('Body_count_deployments_deployments_count_post', {
  ...companionFilters,
  ...WorkPoolFilters,
});
