/**
 * Retention: deletes artifact versions created before a cutoff, never a key's latest version
 * unless asked. "Older than" is measured on `created` — when the version was published, which a
 * PATCH does not change — so an old report cannot be kept alive by editing it.
 *
 * It walks the created index oldest first and deletes in bounded batches, each one durable
 * transaction through the artifact store's own delete (indexes, collections, counters and the
 * fallback to the previous version stay exact). A crash between batches leaves a consistent
 * store with part of the work done, and a server on the same store keeps serving in between.
 */
import type { Key } from 'lmdb';
import type { ArtifactRecord } from './records.ts';
import type { Store } from './lmdb/store.ts';

export interface PruneOptions {
  /** Versions with `created` strictly before this time (µs since the epoch) go. */
  cutoff: number;
  /** Also delete a key's latest version when it is older than the cutoff. */
  includeLatest?: boolean;
  /** Count and list what would go; write nothing. */
  dryRun?: boolean;
  /** Versions per transaction. */
  batchSize?: number;
  /** Called after each committed batch (progress, tests). */
  onBatch?: (deletedSoFar: number) => void;
}

export interface PruneResult {
  cutoff: number;
  /** Versions deleted (or, in a dry run, that would be). */
  deleted: number;
  /** Versions older than the cutoff spared because they are their key's latest. */
  keptLatest: number;
  /** Ids of what was (or would be) deleted, oldest first; only collected in a dry run. */
  ids: string[];
}

const DEFAULT_BATCH = 1000;

export async function pruneArtifacts(store: Store, options: PruneOptions): Promise<PruneResult> {
  const { cutoff, includeLatest = false, dryRun = false, batchSize = DEFAULT_BATCH } = options;
  const result: PruneResult = { cutoff, deleted: 0, keptLatest: 0, ids: [] };
  const spare = (record: ArtifactRecord, isLatest: boolean) => {
    if (record.created >= cutoff) return true; // re-checked inside the transaction
    if (isLatest && !includeLatest) {
      result.keptLatest++;
      return true;
    }
    return false;
  };
  let after: Key[] | undefined;
  for (;;) {
    const ids = nextBatch(store, cutoff, after, batchSize);
    if (ids.length === 0) return result;
    after = ids.at(-1)!.key;
    if (dryRun) {
      for (const { id } of ids) {
        const record = store.artifacts.get(id);
        if (record && !spare(record, store.artifacts.isLatest(record))) {
          result.deleted++;
          result.ids.push(id);
        }
      }
    } else {
      const deleted = await store.artifacts.deleteMany(ids.map((e) => e.id), spare);
      result.deleted += deleted.length;
      options.onBatch?.(result.deleted);
    }
  }
}

/** Up to `size` entries of the created index before the cutoff, strictly after `after`. */
function nextBatch(store: Store, cutoff: number, after: Key[] | undefined, size: number): { key: Key[]; id: string }[] {
  const batch: { key: Key[]; id: string }[] = [];
  // `[cutoff]` sorts before every `[cutoff, id]`: the end bound keeps `created < cutoff` only.
  for (const key of store.dbs.artifactsByCreated.getKeys({ start: after ?? [0], end: [cutoff], limit: size + 1 })) {
    const k = key as Key[];
    if (after && k[0] === after[0] && k[1] === after[1]) continue;
    batch.push({ key: k, id: k[1] as string });
    if (batch.length === size) break;
  }
  return batch;
}
