/**
 * Artifact models of Prefect 3.0.0 (`shared/spec/artifacts-api.md` §4–5): the response shapes,
 * the create and update actions, and the sorts.
 */
import type { Static } from '@sinclair/typebox';
import { ARTIFACT_KEY_MAX_LENGTH } from '../store/index-keys.ts';
import { AnyJson, DateTime, Opt, StringEnum, Uuid, t } from './common.ts';

const describe = {
  key: 'An optional key; versions sharing a key form a collection whose newest version is "latest".',
  type: "What shape `data` has, e.g. 'markdown', 'table', 'progress', 'link', 'image', 'result'.",
  description: 'A markdown description of the artifact.',
  data: 'The artifact payload: any JSON, returned exactly as stored.',
  metadata: 'String keys and string values; values over 500 characters are cut to 500 plus "...".',
  flowRunId: 'The flow run the artifact belongs to (not checked for existence).',
  taskRunId: 'The task run the artifact belongs to (not checked for existence).',
};

/**
 * Keys: lower-case letters, digits and dashes, read with Python `re.match` semantics, and at
 * most 1024 characters (they are ordered LMDB index keys; Prefect has no limit).
 */
const Key = () => t.String({ maxLength: ARTIFACT_KEY_MAX_LENGTH, 'x-check': 'artifact-key' });
const Metadata = () => t.Record(t.String(), t.String());

/** The fields every artifact shape shares after `key`, in Prefect's order. */
const artifactFields = {
  type: Opt(t.String(), { title: 'Type', description: describe.type }),
  description: Opt(t.String(), { title: 'Description', description: describe.description }),
  data: t.Optional(AnyJson({ title: 'Data', description: describe.data })),
  metadata_: Opt(Metadata(), { title: 'Metadata', description: describe.metadata }),
  flow_run_id: Opt(Uuid(), { title: 'Flow Run Id', description: describe.flowRunId }),
  task_run_id: Opt(Uuid(), { title: 'Task Run Id', description: describe.taskRunId }),
};

export const ArtifactCreate = t.Object(
  { key: Opt(Key(), { title: 'Key', description: describe.key }), ...artifactFields },
  {
    $id: 'ArtifactCreate',
    title: 'ArtifactCreate',
    description: 'Creates an artifact. Every field is optional.',
    additionalProperties: false,
  },
);

export const ArtifactUpdate = t.Object(
  {
    data: artifactFields.data,
    description: artifactFields.description,
    metadata_: artifactFields.metadata_,
  },
  {
    $id: 'ArtifactUpdate',
    title: 'ArtifactUpdate',
    description: 'Updates an artifact: fields present are written (null included), absent ones kept.',
    additionalProperties: false,
  },
);

export const Artifact = t.Object(
  {
    id: t.Optional(Uuid({ title: 'Id' })),
    created: Opt(DateTime(), { title: 'Created' }),
    updated: Opt(DateTime(), { title: 'Updated' }),
    key: Opt(t.String(), { title: 'Key', description: describe.key }),
    ...artifactFields,
  },
  { $id: 'Artifact', title: 'Artifact' },
);

export const ArtifactCollection = t.Object(
  {
    id: t.Optional(Uuid({ title: 'Id' })),
    created: Opt(DateTime(), { title: 'Created' }),
    updated: Opt(DateTime(), { title: 'Updated' }),
    key: t.String({ title: 'Key', description: 'The key this collection tracks.' }),
    latest_id: Uuid({ title: 'Latest Id', description: 'The id of the latest artifact with this key.' }),
    ...artifactFields,
  },
  { $id: 'ArtifactCollection', title: 'ArtifactCollection' },
);

export const SORTS = ['CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC', 'KEY_ASC'] as const;
export type Sort = (typeof SORTS)[number];

export const ArtifactSort = StringEnum(SORTS, {
  $id: 'ArtifactSort',
  title: 'ArtifactSort',
  description: 'Artifact orders; ties are broken so that paging is stable.',
});
export const ArtifactCollectionSort = StringEnum(SORTS, {
  $id: 'ArtifactCollectionSort',
  title: 'ArtifactCollectionSort',
  description: 'Latest-artifact orders; ties are broken so that paging is stable.',
});

export type ArtifactCreate = Static<typeof ArtifactCreate>;
export type ArtifactUpdate = Static<typeof ArtifactUpdate>;

export const METADATA_VALUE_LIMIT = 500;

/**
 * Cuts metadata values longer than 500 code points to 500 plus "..." (Prefect's rule; Python
 * counts code points, so an emoji is one character). Idempotent: a cut value is 503 long but
 * starts with the same 500.
 */
export function truncateMetadata(metadata: Record<string, string> | null): Record<string, string> | null {
  if (metadata === null) return null;
  for (const [name, value] of Object.entries(metadata)) {
    if (value.length <= METADATA_VALUE_LIMIT) continue; // UTF-16 length ≥ code points
    const points = Array.from(value);
    if (points.length > METADATA_VALUE_LIMIT) metadata[name] = points.slice(0, METADATA_VALUE_LIMIT).join('') + '...';
  }
  return metadata;
}
