/**
 * OpenAPI operation details of the artifact routes, pointing at the components generated from
 * the TypeBox schemas (`schemas/openapi.ts`). Operation ids and summaries follow Prefect's.
 */
import { ref } from '../schemas/openapi.ts';

const versionHeader = {
  name: 'x-prefect-api-version',
  in: 'header',
  required: false,
  schema: { type: 'string', title: 'X-Prefect-Api-Version' },
};

const idParam = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The ID of the artifact to ${what}.`,
  schema: { type: 'string', format: 'uuid', title: 'Id' },
});

const json = (schema: object) => ({ 'application/json': { schema } });
const invalid = { 422: { description: 'Validation Error', content: json(ref('HTTPValidationError')) } };
const notFound = { 404: { description: 'Artifact not found.' } };

function operation(operationId: string, summary: string, description: string, extra: object) {
  return { tags: ['Artifacts'], summary, description, operationId, parameters: [versionHeader], ...extra } as any;
}

export const docs = {
  createArtifact: operation('create_artifact_artifacts__post', 'Create Artifact', 'Create an artifact; a key adds a version to its collection.', {
    requestBody: { required: true, content: json(ref('ArtifactCreate')) },
    responses: { 201: { description: 'Successful Response', content: json(ref('Artifact')) }, ...invalid },
  }),
  readArtifact: operation('read_artifact_artifacts__id__get', 'Read Artifact', 'Retrieve an artifact by id.', {
    parameters: [idParam('retrieve'), versionHeader],
    responses: { 200: { description: 'Successful Response', content: json(ref('Artifact')) }, ...notFound, ...invalid },
  }),
  readLatestArtifact: operation(
    'read_latest_artifact_artifacts__key__latest_get',
    'Read Latest Artifact',
    'Retrieve the latest version of a key, shaped as an Artifact whose id and timestamps are the collection\'s.',
    {
      parameters: [
        { name: 'key', in: 'path', required: true, description: 'The key of the artifact to retrieve.', schema: { type: 'string', title: 'Key' } },
        versionHeader,
      ],
      responses: { 200: { description: 'Successful Response', content: json(ref('Artifact')) }, ...notFound, ...invalid },
    },
  ),
  readArtifacts: operation('read_artifacts_artifacts_filter_post', 'Read Artifacts', 'Filter, sort and page artifacts.', {
    requestBody: { content: json(ref('Body_read_artifacts_artifacts_filter_post')) },
    responses: {
      200: {
        description: 'Successful Response',
        content: json({ type: 'array', items: ref('Artifact'), title: 'Response Read Artifacts Artifacts Filter Post' }),
      },
      ...invalid,
    },
  }),
  readLatestArtifacts: operation(
    'read_latest_artifacts_artifacts_latest_filter_post',
    'Read Latest Artifacts',
    'Filter, sort and page the latest version of each key.',
    {
      requestBody: { content: json(ref('Body_read_latest_artifacts_artifacts_latest_filter_post')) },
      responses: {
        200: {
          description: 'Successful Response',
          content: json({
            type: 'array',
            items: ref('ArtifactCollection'),
            title: 'Response Read Latest Artifacts Artifacts Latest Filter Post',
          }),
        },
        ...invalid,
      },
    },
  ),
  countArtifacts: operation('count_artifacts_artifacts_count_post', 'Count Artifacts', 'Count the artifacts matching the filters.', {
    requestBody: { content: json(ref('Body_count_artifacts_artifacts_count_post')) },
    responses: {
      200: { description: 'Successful Response', content: json({ type: 'integer', title: 'Response Count Artifacts Artifacts Count Post' }) },
      ...invalid,
    },
  }),
  countLatestArtifacts: operation(
    'count_latest_artifacts_artifacts_latest_count_post',
    'Count Latest Artifacts',
    'Count the keys whose latest version matches the filters.',
    {
      requestBody: { content: json(ref('Body_count_latest_artifacts_artifacts_latest_count_post')) },
      responses: {
        200: {
          description: 'Successful Response',
          content: json({ type: 'integer', title: 'Response Count Latest Artifacts Artifacts Latest Count Post' }),
        },
        ...invalid,
      },
    },
  ),
  updateArtifact: operation('update_artifact_artifacts__id__patch', 'Update Artifact', 'Update data, description or metadata of an artifact.', {
    parameters: [idParam('update'), versionHeader],
    requestBody: { required: true, content: json(ref('ArtifactUpdate')) },
    responses: { 204: { description: 'Successful Response' }, ...notFound, ...invalid },
  }),
  deleteArtifact: operation('delete_artifact_artifacts__id__delete', 'Delete Artifact', 'Delete an artifact; deleting the latest version promotes the previous one.', {
    parameters: [idParam('delete'), versionHeader],
    responses: { 204: { description: 'Successful Response' }, ...notFound, ...invalid },
  }),
};

/** Operations whose route path cannot carry their documented parameter name. */
export const extraPaths = {
  '/api/artifacts/{key}/latest': { get: docs.readLatestArtifact },
};
