/**
 * Opens the LMDB environment and its named databases. One environment holds everything, so a
 * single transaction can change a record, its indexes, its collection and the counters at once.
 */
import { mkdirSync } from 'node:fs';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import type { ArtifactRecord, CollectionRecord } from './records.ts';

export interface StoreDbs {
  env: RootDatabase;
  /** id → artifact */
  artifacts: Database<ArtifactRecord, string>;
  /** [0, created, id] | [1, key, created, id] → empty: versions per key, KEY_* sorts */
  artifactsByKey: Database<Buffer, Key[]>;
  /** [created, id] → empty: CREATED_DESC */
  artifactsByCreated: Database<Buffer, Key[]>;
  /** [updated, id] → empty: UPDATED_DESC */
  artifactsByUpdated: Database<Buffer, Key[]>;
  /** [flow_run_id, id] → empty */
  artifactsByFlowRun: Database<Buffer, Key[]>;
  /** [task_run_id, id] → empty */
  artifactsByTaskRun: Database<Buffer, Key[]>;
  /** key → collection ("latest") row; also the KEY_* sorts of collections */
  collections: Database<CollectionRecord, string>;
  /** collection id → key: ID_DESC of collections */
  collectionsById: Database<string, string>;
  /** [created, collection id] → key */
  collectionsByCreated: Database<string, Key[]>;
  /** [updated, collection id] → key */
  collectionsByUpdated: Database<string, Key[]>;
  /** counter name → number, kept in the same transactions as the rows they count */
  counters: Database<number, string>;
}

export class StoreOpenError extends Error {}

export function openDbs(path: string): StoreDbs {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new StoreOpenError(`cannot create data dir ${path}: ${(error as Error).message}`);
  }
  let env: RootDatabase;
  try {
    // A 64 GiB map is address space, not memory: LMDB grows the file as data arrives.
    env = open({ path, maxDbs: 32, mapSize: 64 * 1024 ** 3, sharedStructuresKey: Symbol.for('structures') });
  } catch (error) {
    throw new StoreOpenError(`cannot open store in ${path}: ${(error as Error).message}`);
  }
  const index = (name: string) => env.openDB<Buffer, Key[]>({ name, encoding: 'binary' });
  const keyIndex = (name: string) => env.openDB<string, Key[]>({ name, encoding: 'string' });
  return {
    env,
    artifacts: env.openDB<ArtifactRecord, string>({ name: 'artifacts', sharedStructuresKey: Symbol.for('structures') }),
    artifactsByKey: index('artifacts.byKey'),
    artifactsByCreated: index('artifacts.byCreated'),
    artifactsByUpdated: index('artifacts.byUpdated'),
    artifactsByFlowRun: index('artifacts.byFlowRun'),
    artifactsByTaskRun: index('artifacts.byTaskRun'),
    collections: env.openDB<CollectionRecord, string>({ name: 'collections', sharedStructuresKey: Symbol.for('structures') }),
    collectionsById: env.openDB<string, string>({ name: 'collections.byId', encoding: 'string' }),
    collectionsByCreated: keyIndex('collections.byCreated'),
    collectionsByUpdated: keyIndex('collections.byUpdated'),
    counters: env.openDB<number, string>({ name: 'counters' }),
  };
}
