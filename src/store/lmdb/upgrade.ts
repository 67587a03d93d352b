/**
 * Store versions. A store remembers the version of the layout it was written with (`meta`
 * database, `schema`); opening an older store runs the steps it lacks, each in one synchronous
 * write transaction that builds what the newer layout adds (an index, counters) from the
 * records already there, so a store of any earlier version opens as if written by this one. A
 * store newer than this binary is refused rather than misread. Each step names its owner module
 * and must be idempotent over a partly built state (a crash before its commit leaves nothing).
 */
import { StoreOpenError, type StoreDbs } from './env.ts';

export interface UpgradeStep {
  /** The layout version this step produces; steps run in this order. */
  version: number;
  /** What it adds, for the log line and `check`'s messages. */
  adds: string;
  /** Builds it inside the step's write transaction. */
  build(dbs: StoreDbs): void;
}

/** Version 1 is every store written before versions were recorded. */
const FIRST_VERSION = 1;

export class StoreTooNewError extends StoreOpenError {}

/** The layout version a store was written with. */
export function storeVersion(dbs: StoreDbs): number {
  return dbs.meta.get('schema') ?? FIRST_VERSION;
}

/**
 * Brings the store to the newest version of `steps`; returns what was built (empty when the
 * store was current). A brand-new store is stamped with the newest version without building.
 */
export function upgradeStore(dbs: StoreDbs, steps: readonly UpgradeStep[]): UpgradeStep[] {
  const newest = steps.reduce((v, s) => Math.max(v, s.version), FIRST_VERSION);
  const empty = dbs.meta.get('schema') === undefined && dbs.counters.getKeysCount({}) === 0 && dbs.artifacts.getKeysCount({}) === 0;
  if (empty) {
    // Queued, not a synchronous transaction: lmdb-js keeps the write lock of a synchronous
    // commit until its flush, so a second handle opened right after in the same process (the
    // tests' side handles) would wait on a lock that only this event loop can release. It
    // commits with the store's first batch, before any record.
    void dbs.meta.put('schema', newest);
    return [];
  }
  const at = storeVersion(dbs);
  if (at > newest) {
    throw new StoreTooNewError(`the store was written by a newer artifactd (layout version ${at}; this one reads up to ${newest})`);
  }
  const pending = [...steps].filter((s) => s.version > at).sort((a, b) => a.version - b.version);
  for (const step of pending) {
    dbs.env.transactionSync(() => {
      step.build(dbs);
      dbs.meta.put('schema', step.version);
    });
  }
  return pending;
}
