/**
 * An artifact's row in PostgreSQL and what it becomes: its columns, the record, and the JSON a
 * client reads — rendered straight from the row, `metadata_` spliced as the JSON text it is
 * stored as. The repository (artifacts.ts), its queries (artifact-queries.ts) and the import
 * (transfer.ts) all read and write rows through these.
 */
import { storedArtifactJson, storedCollectionJson, type ArtifactRecord, type CollectionRecord, type StoredArtifact } from '../records.ts';
import { fromPgText, toPgText } from './text.ts';

/** The artifact table's columns, in the order `artifactRow` gives their values. */
export const ARTIFACT_FIELDS = ['id', 'created', 'updated', 'key', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id'] as const;

/** An artifact's row, as the API writes it. */
export const artifactRow = (r: ArtifactRecord): unknown[] => [
  r.id,
  r.created,
  r.updated,
  // The text columns as the API writes them (text.ts).
  toPgText(r.key),
  toPgText(r.type),
  toPgText(r.description),
  r.data,
  metadataText(r.metadata),
  r.flowRunId,
  r.taskRunId,
];

/** The columns of `artifact`, in the order rows are read (as a select list). */
export const ARTIFACT_COLUMNS = ARTIFACT_FIELDS.join(', ');
/** The columns of `artifact_collection`. */
export const COLLECTION_COLUMNS = `${ARTIFACT_COLUMNS}, latest_id`;
/** ARTIFACT_COLUMNS of `artifact a`, and COLLECTION_COLUMNS of `artifact_collection c`. */
export const ARTIFACT_COLUMNS_A = ARTIFACT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ');
export const COLLECTION_COLUMNS_C = COLLECTION_COLUMNS.split(', ').map((c) => `c.${c}`).join(', ');

/** A row as the driver returns it (bigint columns as strings). */
export interface ArtifactRow {
  id: string;
  created: string | number;
  updated: string | number;
  key: string | null;
  type: string | null;
  description: string | null;
  data: string;
  metadata_: string | null;
  flow_run_id: string | null;
  task_run_id: string | null;
}

export interface CollectionRow extends ArtifactRow {
  key: string;
  latest_id: string;
}

/** The row's fields as records.ts renders them, `metadata_` kept as the JSON text it is stored as. */
function stored(row: ArtifactRow): StoredArtifact {
  return {
    id: row.id,
    created: Number(row.created),
    updated: Number(row.updated),
    key: fromPgText(row.key),
    type: fromPgText(row.type),
    description: fromPgText(row.description),
    data: row.data,
    metadataJson: row.metadata_ ?? 'null',
    flowRunId: row.flow_run_id,
    taskRunId: row.task_run_id,
  };
}

export function toRecord(row: ArtifactRow): ArtifactRecord {
  const { metadataJson, ...fields } = stored(row);
  return { ...fields, metadata: metadataJson === 'null' ? null : (JSON.parse(metadataJson) as Record<string, string>) };
}

/** An Artifact's JSON straight from its row: what `artifactJson(toRecord(row))` gives, without parsing `metadata_`. */
export const rowJson = (row: ArtifactRow): string => storedArtifactJson(stored(row));

/** An ArtifactCollection's JSON straight from its row. */
export const collectionRowJson = (row: CollectionRow): string => storedCollectionJson({ ...stored(row), latestId: row.latest_id });

export function toCollection(row: CollectionRow): CollectionRecord {
  return { ...toRecord(row), key: fromPgText(row.key), latestId: row.latest_id };
}

/** `metadata` as stored: JSON text (key order as the client sent it) or NULL. */
export const metadataText = (metadata: Record<string, string> | null | undefined): string | null =>
  metadata == null ? null : JSON.stringify(metadata);
