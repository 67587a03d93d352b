/**
 * Retention: deletes artifact versions created before a cutoff, never a key's latest version
 * unless asked. "Older than" is measured on `created` — when the version was published, which a
 * PATCH does not change — so an old report cannot be kept alive by editing it.
 *
 * It walks the artifacts oldest first and deletes in bounded batches, each one durable
 * transaction through the store's own delete (collections and the fallback to the previous
 * version stay exact, on either backend). A crash between batches leaves a consistent
 * store with part of the work done, and a server on the same store keeps serving in between.
 */
import type { ArtifactRecord } from './records.ts';
import type { Store } from './contract.ts';

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
  let after: { created: number; id: string } | undefined;
  for (;;) {
    const batch = await store.artifacts.createdBefore(cutoff, batchSize, after);
    if (batch.length === 0) return result;
    after = batch.at(-1)!;
    if (dryRun) {
      for (const { id } of batch) {
        const record = await store.artifacts.get(id);
        if (record && !spare(record, await store.artifacts.isLatest(record))) {
          result.deleted++;
          result.ids.push(id);
        }
      }
    } else {
      const deleted = await store.artifacts.deleteMany(batch.map((e) => e.id), spare);
      result.deleted += deleted.length;
      options.onBatch?.(result.deleted);
    }
  }
}
