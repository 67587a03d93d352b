/**
 * The embedded bodies of the filter and count routes. Each property is one body parameter; the
 * route reads them with `readEmbeddedBody` (null = default) and the OpenAPI document publishes
 * them under Prefect's component names.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import { t } from './common.ts';
import { ArtifactCollectionSort, ArtifactSort } from './artifacts.ts';
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

