/**
 * What the store keeps, and how a stored record becomes the JSON a client reads. `data` is kept
 * as the JSON text the client sent and spliced into replies unchanged: exact for any number,
 * and no parse or stringify of large payloads on reads.
 */
import { formatMicros } from '../time.ts';

export interface ArtifactRecord {
  id: string;
  created: number; // µs since the epoch
  updated: number;
  key: string | null;
  type: string | null;
  description: string | null;
  data: string; // raw JSON text; "null" when absent
  metadata: Record<string, string> | null;
  flowRunId: string | null;
  taskRunId: string | null;
}

/** The "latest" row of a key: its own id and timestamps, the latest version's fields. */
export interface CollectionRecord extends ArtifactRecord {
  key: string;
  latestId: string;
}

/**
 * What queries read of an artifact: the fields filters test and sorts order by, kept apart from
 * the payload (`data`, `description`, `metadata`), so a scan decodes a few short fields per row
 * instead of the whole record (layout version 5).
 */
export type ArtifactView = Pick<ArtifactRecord, 'id' | 'created' | 'updated' | 'key' | 'type' | 'flowRunId' | 'taskRunId'>;

/** What queries read of a collection (its own id and times, its latest version's fields). */
export type CollectionView = ArtifactView & { key: string; latestId: string };

export function artifactView(r: ArtifactRecord): ArtifactView {
  const { id, created, updated, key, type, flowRunId, taskRunId } = r;
  return { id, created, updated, key, type, flowRunId, taskRunId };
}

export function collectionView(c: CollectionRecord): CollectionView {
  const { id, created, updated, key, type, flowRunId, taskRunId, latestId } = c;
  return { id, created, updated, key, type, flowRunId, taskRunId, latestId };
}

/** Fields a new version copies into its collection, and a PATCH of the latest version too. */
export type MirroredFields = Pick<ArtifactRecord, 'type' | 'description' | 'data' | 'metadata' | 'flowRunId' | 'taskRunId'>;

export function mirroredFields(record: ArtifactRecord): MirroredFields {
  const { type, description, data, metadata, flowRunId, taskRunId } = record;
  return { type, description, data, metadata, flowRunId, taskRunId };
}

const str = JSON.stringify;

/** An artifact's fields with `metadata` as its JSON text (what a store may keep instead). */
export type StoredArtifact = Omit<ArtifactRecord, 'metadata'> & { metadataJson: string };

function fieldsJson(r: StoredArtifact): string {
  return (
    `"type":${str(r.type)},"description":${str(r.description)},"data":${r.data},` +
    `"metadata_":${r.metadataJson},"flow_run_id":${str(r.flowRunId)},"task_run_id":${str(r.taskRunId)}}`
  );
}

function headJson(r: Pick<ArtifactRecord, 'id' | 'created' | 'updated' | 'key'>): string {
  return `{"id":"${r.id}","created":"${formatMicros(r.created)}","updated":"${formatMicros(r.updated)}","key":${str(r.key)},`;
}

/** An Artifact, fields in Prefect's order. */
export function artifactJson(r: ArtifactRecord): string {
  return storedArtifactJson({ ...r, metadataJson: str(r.metadata) });
}

/** An ArtifactCollection (`/latest/filter`), fields in Prefect's order. */
export function collectionJson(r: CollectionRecord): string {
  return storedCollectionJson({ ...r, metadataJson: str(r.metadata) });
}

/** `artifactJson` of a stored row, its metadata JSON spliced as kept (no parse, no stringify). */
export function storedArtifactJson(r: StoredArtifact): string {
  return headJson(r) + fieldsJson(r);
}

export function storedCollectionJson(r: StoredArtifact & { latestId: string }): string {
  return headJson(r) + `"latest_id":"${r.latestId}",` + fieldsJson(r);
}

const LATEST_ID_MEMBER = '"latest_id":"';
/** `"latest_id":"` + a 36-character UUID + `",` */
const LATEST_ID_MEMBER_LENGTH = LATEST_ID_MEMBER.length + 36 + 2;

/**
 * `GET /artifacts/{key}/latest`: Prefect serializes the collection row with the Artifact schema,
 * so the body has the collection's id and timestamps and no `latest_id`. Cut from the stored
 * collection JSON, where `latest_id` comes before any client-written field.
 */
export function latestByKeyJson(collection: string): string {
  // The first match is the member: inside a JSON string a quote is escaped, so no client text
  // can contain `"latest_id":"`.
  const at = collection.indexOf(LATEST_ID_MEMBER);
  return collection.slice(0, at) + collection.slice(at + LATEST_ID_MEMBER_LENGTH);
}

export function jsonArray(items: string[]): string {
  return `[${items.join(',')}]`;
}
