/**
 * The artifact store: every write path keeps the record, its indexes, its key's collection
 * ("latest") row and the counters consistent in one LMDB transaction, and resolves only once that
 * transaction is durable on disk. Concurrent writes queue into lmdb-js's batched transactions,
 * so they share commits and disk syncs without blocking the event loop.
 */
import { newId } from '../ids.ts';
import { compileArtifactFilter, compileCollectionFilter } from '../../filters/artifacts.ts';
import { always, never, type Predicate } from '../../filters/leaf.ts';
import {
  artifactIdsByIndexSliced,
  countArtifacts,
  countArtifactsByIndexSliced,
  countCollections,
  countCollectionsByIndexSliced,
  countVersions,
  findArtifacts,
  findCollections,
  walkArtifacts,
  walkCollections,
  keysLike,
  soleKeyLike,
  unfilteredArtifactIds,
  unfilteredCollectionKeys,
  type Page,
} from './query/execute.ts';
import { filterNarrows, planArtifacts, planCollections, type AccessPath, type PlanContext } from './query/plan.ts';
import { snapshot, toEnd, type At, type Sliced } from './query/slices.ts';
import type { RunSets } from './query/runs.ts';
import { builtForProbes, buildingWhenProbed, probed } from './query/id-sets.ts';
import type { Sort } from '../../schemas/artifacts.ts';
import type { ArtifactCollectionFilter, ArtifactFilter } from '../../schemas/filters.ts';
import { nowMicros } from '../../time.ts';
import { durably } from './durable.ts';
import { storableKey } from '../index-keys.ts';
import type { StoreDbs } from './env.ts';
import { bump, countFirstElements } from './rows.ts';
import { byKeyKey, byRunKey, byTimeKey, byTypeKey, prefixRange, runRange, typeCounter, typeCounterPrefix, typeKey, versionsRange } from './keys.ts';
import type { UpgradeStep } from './upgrade.ts';
import type { Key } from 'lmdb';
import {
  artifactJson,
  artifactView,
  collectionJson,
  collectionView,
  latestByKeyJson,
  mirroredFields,
  type ArtifactRecord,
  type ArtifactView,
  type CollectionRecord,
  type CollectionView,
  type MirroredFields,
} from '../records.ts';

/** A new artifact as validated by the API; `data` is raw JSON text. */
export type NewArtifact = Omit<ArtifactRecord, 'id' | 'created' | 'updated'>;

/** Fields a PATCH may set; absent ones are left alone. */
export type ArtifactPatch = Partial<Pick<ArtifactRecord, 'data' | 'description' | 'metadata'>>;

const EMPTY = Buffer.alloc(0);
const ARTIFACTS = 'artifacts';
const COLLECTIONS = 'collections';

/**
 * The run sets to probe for each of `probes` rows: each lazy one built into a Set first when
 * that costs less (`builtForProbes`).
 */
function* probedRuns(runs: RunSets | undefined, probes: number): Sliced<RunSets | undefined> {
  if (!runs || (!runs.flowRunIds && !runs.taskRunIds)) return runs;
  const out: RunSets = {};
  if (runs.flowRunIds) out.flowRunIds = yield* builtForProbes(runs.flowRunIds, probes);
  if (runs.taskRunIds) out.taskRunIds = yield* builtForProbes(runs.taskRunIds, probes);
  return out;
}

/**
 * The run sets of a page's query, each lazy one wrapped to be built once the query has probed
 * it enough (id-sets.ts `ProbedSet`), and the work run so that the builds happen between slices.
 */
function* probedWhilePaging<T>(runs: RunSets | undefined, work: (runs: RunSets | undefined) => Sliced<T>): Sliced<T> {
  if (!runs || (!runs.flowRunIds && !runs.taskRunIds)) return yield* work(runs);
  const wrapped: RunSets = {};
  if (runs.flowRunIds) wrapped.flowRunIds = probed(runs.flowRunIds);
  if (runs.taskRunIds) wrapped.taskRunIds = probed(runs.taskRunIds);
  return yield* buildingWhenProbed(work(wrapped), [wrapped.flowRunIds, wrapped.taskRunIds].filter((set) => set !== undefined));
}

/**
 * The run sets left to test on a narrow path's candidates: a path that reads a run set's own
 * index yields only rows of those runs, so probing that set again would be wasted work.
 */
function runsBeyond(path: AccessPath, runs: RunSets | undefined): RunSets | undefined {
  if (!runs) return runs;
  if (path.kind === 'flowRuns' && path.ids === runs.flowRunIds) return { taskRunIds: runs.taskRunIds };
  if (path.kind === 'taskRuns' && path.ids === runs.taskRunIds) return { flowRunIds: runs.flowRunIds };
  return runs;
}

/** Adds the run conditions: the artifact's (or latest version's) run ids must be in the sets. */
function withRuns<T extends ArtifactView>(test: Predicate<T>, runs: RunSets | undefined): Predicate<T> {
  if (test === never) return test;
  const flowRunIds = runs?.flowRunIds;
  const taskRunIds = runs?.taskRunIds;
  if (!flowRunIds && !taskRunIds) return test;
  return (r) =>
    (!flowRunIds || (r.flowRunId !== null && flowRunIds.has(r.flowRunId))) &&
    (!taskRunIds || (r.taskRunId !== null && taskRunIds.has(r.taskRunId))) &&
    test(r);
}

const COLLECTION_FIELD_INDEXES = ['collectionsByType', 'collectionsByFlowRun', 'collectionsByTaskRun'] as const;

/** A collection's entries in the indexes of the fields it mirrors from its latest version. */
function collectionFieldEntries(c: CollectionRecord): [db: (typeof COLLECTION_FIELD_INDEXES)[number], key: unknown[]][] {
  const out: [(typeof COLLECTION_FIELD_INDEXES)[number], unknown[]][] = [['collectionsByType', [typeKey(c.type), c.key]]];
  if (c.flowRunId !== null) out.push(['collectionsByFlowRun', [c.flowRunId, c.key]]);
  if (c.taskRunId !== null) out.push(['collectionsByTaskRun', [c.taskRunId, c.key]]);
  return out;
}

/** Removes `old`'s type and run entries (those `next`, if given, does not also have), and its type count. */
function unindexCollectionFields(dbs: StoreDbs, old: CollectionRecord, next?: CollectionRecord): void {
  const kept = new Set(next ? collectionFieldEntries(next).map(([db, key]) => `${db}\0${JSON.stringify(key)}`) : []);
  for (const [db, key] of collectionFieldEntries(old)) {
    if (kept.has(`${db}\0${JSON.stringify(key)}`)) continue;
    dbs[db].remove(key as Key[]);
    if (db === 'collectionsByType') bump(dbs, typeCounter(COLLECTIONS, old.type), -1);
  }
}

/** Adds `next`'s type and run entries (those `old`, if given, did not already have), and its type count. */
function indexCollectionFields(dbs: StoreDbs, next: CollectionRecord, old?: CollectionRecord): void {
  const had = new Set(old ? collectionFieldEntries(old).map(([db, key]) => `${db}\0${JSON.stringify(key)}`) : []);
  for (const [db, key] of collectionFieldEntries(next)) {
    if (had.has(`${db}\0${JSON.stringify(key)}`)) continue;
    dbs[db].put(key as Key[], EMPTY);
    if (db === 'collectionsByType') bump(dbs, typeCounter(COLLECTIONS, next.type), 1);
  }
}

/**
 * Layout version 3: artifacts by type, and collections by their latest version's type, flow run
 * and task run — what lets counts by type and the latest routes' run filters read index
 * ranges instead of every record. Built from the records of an older store.
 */
export const TYPE_AND_COLLECTION_RUN_INDEXES: UpgradeStep = {
  version: 3,
  adds: 'artifacts by type; collections by type, flow run and task run',
  build(dbs) {
    // Idempotent over whatever an interrupted development build left: start from empty.
    for (const db of ['artifactsByType', ...COLLECTION_FIELD_INDEXES] as const) for (const key of [...dbs[db].getKeys({})]) dbs[db].remove(key);
    for (const { value } of dbs.artifacts.getRange({})) dbs.artifactsByType.put(byTypeKey(value.type, value.id), EMPTY);
    for (const { value } of dbs.collections.getRange({})) indexCollectionFields(dbs, value);
  },
};

/**
 * Layout version 5: the views queries scan (records.ts `ArtifactView`, `CollectionView`), built
 * from the records of an older store.
 */
export const QUERY_VIEWS: UpgradeStep = {
  version: 5,
  adds: 'artifact and collection views for queries',
  build(dbs) {
    for (const { value } of dbs.artifacts.getRange({})) dbs.artifactViews.put(value.id, artifactView(value));
    for (const { value } of dbs.collections.getRange({})) dbs.collectionViews.put(value.key, collectionView(value));
  },
};

/**
 * Layout version 9: the counters of artifacts and of collections per type, counted from the type
 * indexes (keys only; any counter left by a partial build dropped first).
 */
export const TYPE_COUNTERS: UpgradeStep = {
  version: 9,
  adds: 'counters of artifacts and collections per type',
  build(dbs) {
    countFirstElements(dbs, dbs.artifactsByType, typeCounterPrefix(ARTIFACTS));
    countFirstElements(dbs, dbs.collectionsByType, typeCounterPrefix(COLLECTIONS));
  },
};

export class ArtifactStore {
  constructor(private readonly dbs: StoreDbs) {}

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  /** Waits for the commit, then for the disk sync: only then is a write acknowledged. */
  private durably<T>(work: () => T): Promise<T> {
    return durably(this.dbs.env, work);
  }

  create(input: NewArtifact): Promise<ArtifactRecord> {
    return this.durably(() => {
      const now = nowMicros(); // taken inside the transaction: created order = commit order
      const record: ArtifactRecord = { id: newId(), created: now, updated: now, ...input };
      this.putArtifact(record);
      this.bump(ARTIFACTS, 1);
      if (record.key !== null) this.upsertCollection(record as ArtifactRecord & { key: string }, now);
      return record;
    });
  }

  /** Returns false when no artifact has this id. */
  update(id: string, patch: ArtifactPatch): Promise<boolean> {
    return this.durably(() => {
      const old = this.dbs.artifacts.get(id);
      if (!old) return false;
      const now = nowMicros();
      const record: ArtifactRecord = { ...old, ...patch, updated: now };
      this.dbs.artifactsByUpdated.remove(byTimeKey(old.updated, id));
      this.dbs.artifactsByUpdated.put(byTimeKey(now, id), EMPTY);
      this.dbs.artifacts.put(id, record);
      this.dbs.artifactViews.put(id, artifactView(record));
      this.dbs.artifactJson.put(id, artifactJson(record));
      const collection = record.key === null ? undefined : this.dbs.collections.get(record.key);
      if (collection && collection.latestId === id) {
        this.putCollection(collection, { ...collection, ...patch, updated: now });
      }
      return true;
    });
  }

  /** Returns false when no artifact has this id. */
  delete(id: string): Promise<boolean> {
    return this.durably(() => {
      const record = this.dbs.artifacts.get(id);
      if (!record) return false;
      this.deleteRecord(record);
      return true;
    });
  }

  /**
   * Deletes many artifacts in one durable transaction (bulk deletes and retention), each exactly
   * as `delete` does. `spare` is asked inside the transaction, so its view of a record and of
   * whether it is its key's latest version cannot be overtaken by a concurrent write. Ids that
   * no longer exist are skipped. Resolves to the deleted records.
   */
  deleteMany(ids: readonly string[], spare?: (record: ArtifactRecord, isLatest: boolean) => boolean): Promise<ArtifactRecord[]> {
    return this.durably(() => {
      const deleted: ArtifactRecord[] = [];
      for (const id of ids) {
        const record = this.dbs.artifacts.get(id);
        if (!record) continue;
        if (spare && spare(record, this.isLatest(record))) continue;
        this.deleteRecord(record);
        deleted.push(record);
      }
      return deleted;
    });
  }

  /** Whether `record` is the version its key's collection names (false for keyless ones). */
  isLatest(record: ArtifactRecord): boolean {
    return record.key !== null && this.dbs.collections.get(record.key)?.latestId === record.id;
  }

  /** Removes a record with its indexes; the latest version hands its collection to the next. */
  private deleteRecord(record: ArtifactRecord): void {
    this.removeArtifact(record);
    this.bump(ARTIFACTS, -1);
    const collection = record.key === null ? undefined : this.dbs.collections.get(record.key);
    if (collection && collection.latestId === record.id) this.fallBack(collection);
  }

  /**
   * Writes an artifact that keeps its own id and timestamps (`artifactd import`); call inside a
   * write transaction, for an id the store does not hold. Indexes and counter as `create`; it
   * becomes its key's latest only if it is the newest version by `created` (then id), as the
   * index orders them, so versions may arrive in any order. A collection it creates takes
   * `identity` (the exported collection's id and `created`) when given and still free.
   */
  putImported(record: ArtifactRecord, identity?: { id: string; created: number }): void {
    this.putArtifact(record);
    this.bump(ARTIFACTS, 1);
    if (record.key === null) return;
    const existing = this.dbs.collections.get(record.key);
    const latest = existing && this.dbs.artifacts.get(existing.latestId);
    const newer = !latest || record.created > latest.created || (record.created === latest.created && record.id > latest.id);
    if (existing && !newer) return;
    const fields = { ...mirroredFields(record), key: record.key, latestId: record.id, updated: record.updated };
    if (existing) return this.putCollection(existing, { ...existing, ...fields });
    const own = identity && !this.dbs.collectionsById.get(identity.id) ? identity : { id: newId(), created: record.created };
    this.putCollection(undefined, { ...fields, id: own.id, created: own.created });
    this.bump(COLLECTIONS, 1);
  }

  private putArtifact(r: ArtifactRecord): void {
    const { dbs } = this;
    dbs.artifacts.put(r.id, r);
    dbs.artifactViews.put(r.id, artifactView(r));
    dbs.artifactJson.put(r.id, artifactJson(r));
    dbs.artifactsByKey.put(byKeyKey(r.key, r.created, r.id), EMPTY);
    dbs.artifactsByCreated.put(byTimeKey(r.created, r.id), EMPTY);
    dbs.artifactsByUpdated.put(byTimeKey(r.updated, r.id), EMPTY);
    if (r.flowRunId !== null) dbs.artifactsByFlowRun.put(byRunKey(r.flowRunId, r.id), EMPTY);
    if (r.taskRunId !== null) dbs.artifactsByTaskRun.put(byRunKey(r.taskRunId, r.id), EMPTY);
    dbs.artifactsByType.put(byTypeKey(r.type, r.id), EMPTY);
    this.bump(typeCounter(ARTIFACTS, r.type), 1);
  }

  private removeArtifact(r: ArtifactRecord): void {
    const { dbs } = this;
    dbs.artifacts.remove(r.id);
    dbs.artifactViews.remove(r.id);
    dbs.artifactJson.remove(r.id);
    dbs.artifactsByKey.remove(byKeyKey(r.key, r.created, r.id));
    dbs.artifactsByCreated.remove(byTimeKey(r.created, r.id));
    dbs.artifactsByUpdated.remove(byTimeKey(r.updated, r.id));
    if (r.flowRunId !== null) dbs.artifactsByFlowRun.remove(byRunKey(r.flowRunId, r.id));
    if (r.taskRunId !== null) dbs.artifactsByTaskRun.remove(byRunKey(r.taskRunId, r.id));
    dbs.artifactsByType.remove(byTypeKey(r.type, r.id));
    this.bump(typeCounter(ARTIFACTS, r.type), -1);
  }

  /** A new version becomes latest: every mirrored field is copied, nulls included. */
  private upsertCollection(artifact: ArtifactRecord & { key: string }, now: number): void {
    const existing = this.dbs.collections.get(artifact.key);
    const fields: MirroredFields = mirroredFields(artifact);
    if (existing) {
      this.putCollection(existing, { ...existing, ...fields, latestId: artifact.id, updated: now });
    } else {
      const id = newId();
      this.putCollection(undefined, { id, key: artifact.key, latestId: artifact.id, created: now, updated: now, ...fields });
      this.bump(COLLECTIONS, 1);
    }
  }

  /**
   * The latest version was deleted: the newest remaining version by `created` takes over, its
   * own timestamps included (Prefect's rule), or the collection goes when none remains.
   */
  private fallBack(collection: CollectionRecord): void {
    const range = versionsRange(collection.key);
    for (const key of this.dbs.artifactsByKey.getKeys({ start: range.end, end: range.start, reverse: true })) {
      const next = this.dbs.artifacts.get((key as unknown[])[3] as string);
      if (!next) continue;
      this.putCollection(collection, {
        ...collection,
        ...mirroredFields(next),
        latestId: next.id,
        created: next.created,
        updated: next.updated,
      });
      return;
    }
    this.removeCollection(collection);
    this.bump(COLLECTIONS, -1);
  }

  /** Writes a collection row and moves its index entries from `old` (if any). */
  private putCollection(old: CollectionRecord | undefined, next: CollectionRecord): void {
    const { dbs } = this;
    // A new version keeps the collection's `created`: its index entry stays where it is.
    const movesCreated = !old || old.created !== next.created;
    const movesUpdated = !old || old.updated !== next.updated;
    if (!old) dbs.collectionsById.put(next.id, next.key);
    if (old && movesCreated) dbs.collectionsByCreated.remove(byTimeKey(old.created, old.id));
    if (old && movesUpdated) dbs.collectionsByUpdated.remove(byTimeKey(old.updated, old.id));
    if (old) unindexCollectionFields(dbs, old, next);
    indexCollectionFields(dbs, next, old);
    dbs.collections.put(next.key, next);
    dbs.collectionViews.put(next.key, collectionView(next));
    dbs.collectionJson.put(next.key, collectionJson(next));
    if (movesCreated) dbs.collectionsByCreated.put(byTimeKey(next.created, next.id), next.key);
    if (movesUpdated) dbs.collectionsByUpdated.put(byTimeKey(next.updated, next.id), next.key);
  }

  private removeCollection(c: CollectionRecord): void {
    const { dbs } = this;
    dbs.collections.remove(c.key);
    dbs.collectionViews.remove(c.key);
    dbs.collectionJson.remove(c.key);
    dbs.collectionsById.remove(c.id);
    dbs.collectionsByCreated.remove(byTimeKey(c.created, c.id));
    dbs.collectionsByUpdated.remove(byTimeKey(c.updated, c.id));
    unindexCollectionFields(dbs, c);
  }

  private bump(counter: string, delta: number): void {
    bump(this.dbs, counter, delta);
  }

  /** The planner's statistics, read from the counters (kept exact by every write). */
  private statistics(table: typeof ARTIFACTS | typeof COLLECTIONS, page?: Page): PlanContext {
    const count = (name: string) => this.dbs.counters.get(name) ?? 0;
    const artifacts = count(ARTIFACTS);
    // Rows per run of the table planned: a key's collection follows one run (its latest version's).
    const rows = count(table);
    return {
      total: rows,
      pageEnd: page ? page.offset + page.limit : Infinity,
      perKey: artifacts / Math.max(1, count(COLLECTIONS)),
      perFlowRun: rows / Math.max(1, count('flowRuns')),
      perTaskRun: rows / Math.max(1, count('taskRuns')),
      countTypeEntries: (types) => types.reduce((n, type) => n + count(typeCounter(table, type)), 0),
      countRunEntries: (kind, ids, cap) => {
        const index =
          table === ARTIFACTS
            ? kind === 'flowRuns' ? this.dbs.artifactsByFlowRun : this.dbs.artifactsByTaskRun
            : kind === 'flowRuns' ? this.dbs.collectionsByFlowRun : this.dbs.collectionsByTaskRun;
        const range = table === ARTIFACTS ? runRange : prefixRange;
        let entries = 0;
        for (const id of ids) {
          for (const _ of index.getKeys({ ...range(id), limit: cap - entries })) entries++;
          if (entries >= cap) break;
        }
        return entries;
      },
    };
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────

  get(id: string): ArtifactRecord | undefined {
    return this.dbs.artifacts.get(id);
  }

  latestByKey(key: string): CollectionRecord | undefined {
    return storableKey(key) ? this.dbs.collections.get(key) : undefined;
  }

  /** An artifact's JSON, stored at write time. */
  getJson(id: string): string | undefined {
    return this.dbs.artifactJson.get(id);
  }

  /** `GET /artifacts/{key}/latest`'s body (the collection's stored JSON without `latest_id`). */
  latestByKeyJson(key: string): string | undefined {
    if (!storableKey(key)) return undefined;
    const json = this.dbs.collectionJson.get(key);
    return json === undefined ? undefined : latestByKeyJson(json);
  }

  /** Up to `limit` artifacts created before `cutoff`, oldest first, strictly after `after` (retention). */
  createdBefore(cutoff: number, limit: number, after?: { created: number; id: string }): { created: number; id: string }[] {
    const batch: { created: number; id: string }[] = [];
    // `[cutoff]` sorts before every `[cutoff, id]`: the end bound keeps `created < cutoff` only.
    for (const key of this.dbs.artifactsByCreated.getKeys({ start: after ? [after.created, after.id] : [0], end: [cutoff], limit: limit + 1 })) {
      const [created, id] = key as [number, string];
      if (after && created === after.created && id === after.id) continue;
      batch.push({ created, id });
      if (batch.length === limit) break;
    }
    return batch;
  }

  // Each query below is sliced work (query/slices.ts) reading one snapshot: the server runs it
  // with `inSlices` so that it never holds the event loop for long; the plain methods run the
  // same work to its end at once, for commands and tests.

  /**
   * A page of artifacts as stored JSON texts. Without any condition, only index keys are read
   * (LMDB skips the offset) and each artifact's JSON is fetched as is: no record is decoded.
   */
  findJsonSliced(filter: ArtifactFilter | null | undefined, sort: Sort, page: Page, runs?: RunSets): Sliced<string[]> {
    return snapshot(this.dbs.env, function* (this: ArtifactStore, at: At) {
      const ids = yield* probedWhilePaging(runs, (probedRuns) => this.pageIds(filter, sort, page, probedRuns, at));
      return ids.map((id) => this.dbs.artifactJson.get(id, at)!);
    }.bind(this));
  }

  findJson(filter: ArtifactFilter | null | undefined, sort: Sort, page: Page, runs?: RunSets): string[] {
    return toEnd(this.findJsonSliced(filter, sort, page, runs));
  }

  /**
   * The ids of a page. Index keys alone answer a query without conditions, and a narrow query
   * that is one indexed list in id order; anything else decodes the candidates' records.
   */
  private *pageIds(filter: ArtifactFilter | null | undefined, sort: Sort, page: Page, runs: RunSets | undefined, at: At): Sliced<string[]> {
    const compiled = compileArtifactFilter(filter);
    const test = withRuns(compiled, runs);
    if (test === never) return [];
    if (test === always) return unfilteredArtifactIds(this.dbs, sort, page);
    const stats = this.statistics(ARTIFACTS, page);
    let plan = planArtifacts(filter, runs, stats);
    if (plan.path.kind === 'sorted' && this.likeNarrows(filter)) {
      // Nothing else narrows, and the keys `like_` matches cost a read of every key to find:
      // first walk the sort index for as many rows as that would cost; a common pattern fills
      // a page long before, a rare one does not and then reads just its keys' versions.
      const walked = yield* walkArtifacts(this.dbs, test, sort, page, at, this.keyScanBudget());
      if (walked) return walked.map((r) => r.id);
      plan = planArtifacts(filter, runs, stats, yield* this.likeKeys(filter, at));
    }
    if (plan.fallback) {
      // The walk the planner chose, within its budget; past it, the list it passed over.
      const walked = yield* walkArtifacts(this.dbs, test, sort, page, at, plan.fallback.listCost);
      if (walked) return walked.map((r) => r.id);
      plan = { path: plan.fallback.path() };
    }
    const path = plan.path;
    if (path.kind === 'sorted') return (yield* findArtifacts(this.dbs, path, test, sort, page, at)).map((r) => r.id);
    const ids = yield* artifactIdsByIndexSliced(this.dbs, filter as Record<string, unknown> | null | undefined, runs, sort, page, at);
    if (ids) return ids;
    return (yield* findArtifacts(this.dbs, path, withRuns(compiled, runsBeyond(path, runs)), sort, page, at)).map((r) => r.id);
  }

  /**
   * The distinct keys `key.like_` matches, when the filter has one and its conditions must all
   * hold: the planner may then read just those keys' versions (or collections).
   */
  private *likeKeys(filter: ArtifactFilter | ArtifactCollectionFilter | null | undefined, at: At): Sliced<string[] | undefined> {
    if (!this.likeNarrows(filter)) return undefined;
    return yield* keysLike(this.dbs, filter!.key!.like_!, at);
  }

  private likeNarrows(filter: ArtifactFilter | ArtifactCollectionFilter | null | undefined): boolean {
    return filter?.key?.like_ != null && filterNarrows(filter);
  }

  /**
   * Rows a walk may visit before reading every key would have cost less: a record read costs
   * several key reads (measured on a 100k store: ~5–10 µs against ~1.2 µs), so an eighth.
   */
  private keyScanBudget(): number {
    return Math.max(256, Math.floor((this.dbs.counters.get(COLLECTIONS) ?? 0) / 8));
  }

  /** A page of collections as stored JSON texts (see `findJson`). */
  findLatestJsonSliced(filter: ArtifactCollectionFilter | null | undefined, sort: Sort, page: Page, runs?: RunSets): Sliced<string[]> {
    return snapshot(this.dbs.env, function* (this: ArtifactStore, at: At) {
      const compiled = compileCollectionFilter(filter);
      const test = withRuns(compiled, runs);
      const keys =
        test === never
          ? []
          : test === always
          ? unfilteredCollectionKeys(this.dbs, sort, page)
          : (yield* probedWhilePaging(runs, (probedRuns) => this.collectionRows(filter, compiled, sort, page, probedRuns, at))).map((c) => c.key);
      return keys.map((key) => this.dbs.collectionJson.get(key, at)!);
    }.bind(this));
  }

  findLatestJson(filter: ArtifactCollectionFilter | null | undefined, sort: Sort, page: Page, runs?: RunSets): string[] {
    return toEnd(this.findLatestJsonSliced(filter, sort, page, runs));
  }

  /** `compiled`: the filter's own predicate (the run sets are added here). */
  private *collectionRows(
    filter: ArtifactCollectionFilter | null | undefined,
    compiled: Predicate<CollectionView>,
    sort: Sort,
    page: Page,
    runs: RunSets | undefined,
    at: At,
  ): Sliced<CollectionView[]> {
    const test = withRuns(compiled, runs);
    const stats = this.statistics(COLLECTIONS, page);
    let plan = planCollections(filter, runs, stats);
    if (plan.path.kind === 'sorted' && this.likeNarrows(filter)) {
      // As for artifacts (pageIds): walk first, for as many rows as reading every key costs.
      const walked = yield* walkCollections(this.dbs, test, sort, page, at, this.keyScanBudget());
      if (walked) return walked;
      plan = planCollections(filter, runs, stats, yield* this.likeKeys(filter, at));
    }
    if (plan.fallback) {
      const walked = yield* walkCollections(this.dbs, test, sort, page, at, plan.fallback.listCost);
      if (walked) return walked;
      plan = { path: plan.fallback.path() };
    }
    return yield* findCollections(this.dbs, plan.path, withRuns(compiled, runsBeyond(plan.path, runs)), sort, page, at);
  }

  /** A page of artifact views through the planner's path (tests compare every path with brute force). */
  find(filter: ArtifactFilter | null | undefined, sort: Sort, page: Page, runs?: RunSets): ArtifactView[] {
    const compiled = compileArtifactFilter(filter);
    return toEnd(
      snapshot(this.dbs.env, function* (this: ArtifactStore, at: At) {
        const { path } = planArtifacts(filter, runs, this.statistics(ARTIFACTS, page), yield* this.likeKeys(filter, at));
        return yield* findArtifacts(this.dbs, path, withRuns(compiled, runsBeyond(path, runs)), sort, page, at);
      }.bind(this)),
    );
  }

  countSliced(filter: ArtifactFilter | null | undefined, runs?: RunSets): Sliced<number> {
    return snapshot(this.dbs.env, function* (this: ArtifactStore, at: At) {
      const test = withRuns(compileArtifactFilter(filter), runs);
      if (test === never) return 0;
      if (test === always) return this.dbs.counters.get(ARTIFACTS, at) ?? 0;
      const byIndex = yield* countArtifactsByIndexSliced(this.dbs, filter as Record<string, unknown> | null | undefined, runs, at);
      if (byIndex !== undefined) return byIndex;
      const pattern = runs?.flowRunIds || runs?.taskRunIds ? undefined : soleKeyLike(filter);
      if (pattern !== undefined) return countVersions(this.dbs, yield* keysLike(this.dbs, pattern, at), at);
      const stats = this.statistics(ARTIFACTS);
      const { path } = planArtifacts(filter, runs, stats, yield* this.likeKeys(filter, at));
      // A scan probes the run sets once per artifact; a list reads rows of its own runs only.
      const probed = path.kind === 'sorted' ? yield* probedRuns(runs, stats.total) : runsBeyond(path, runs);
      return yield* countArtifacts(this.dbs, path, withRuns(compileArtifactFilter(filter), probed), at);
    }.bind(this));
  }

  count(filter: ArtifactFilter | null | undefined, runs?: RunSets): number {
    return toEnd(this.countSliced(filter, runs));
  }

  findLatest(filter: ArtifactCollectionFilter | null | undefined, sort: Sort, page: Page, runs?: RunSets): CollectionView[] {
    const compiled = compileCollectionFilter(filter);
    return toEnd(snapshot(this.dbs.env, (at) => this.collectionRows(filter, compiled, sort, page, runs, at)));
  }

  countLatestSliced(filter: ArtifactCollectionFilter | null | undefined, runs?: RunSets): Sliced<number> {
    return snapshot(this.dbs.env, function* (this: ArtifactStore, at: At) {
      const test = withRuns(compileCollectionFilter(filter), runs);
      if (test === never) return 0;
      if (test === always) return this.dbs.counters.get(COLLECTIONS, at) ?? 0;
      const byIndex = yield* countCollectionsByIndexSliced(this.dbs, filter as Record<string, unknown> | null | undefined, runs, at);
      if (byIndex !== undefined) return byIndex;
      // One collection per key: a count by `like_` alone is the number of keys it matches.
      const pattern = runs?.flowRunIds || runs?.taskRunIds ? undefined : soleKeyLike(filter);
      if (pattern !== undefined) return (yield* keysLike(this.dbs, pattern, at)).length;
      const stats = this.statistics(COLLECTIONS);
      const { path } = planCollections(filter, runs, stats, yield* this.likeKeys(filter, at));
      const probed = path.kind === 'sorted' ? yield* probedRuns(runs, stats.total) : runsBeyond(path, runs);
      return yield* countCollections(this.dbs, path, withRuns(compileCollectionFilter(filter), probed), at);
    }.bind(this));
  }

  countLatest(filter: ArtifactCollectionFilter | null | undefined, runs?: RunSets): number {
    return toEnd(this.countLatestSliced(filter, runs));
  }
}

