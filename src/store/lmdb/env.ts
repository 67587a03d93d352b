/**
 * Opens the LMDB environment and its named databases. One environment holds everything, so a
 * single transaction can change a record, its indexes, its collection and the counters at once.
 */
import { mkdirSync } from 'node:fs';
import type { Database, Key, RootDatabase } from 'lmdb';
import { addonFailureMessage, currentAddonContext } from './addon.ts';
import { addressSpaceProblem, currentAddressSpace, DEFAULT_MAP_SIZE } from './map-size.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../companion-records.ts';
import type { CsrfTokenRecord } from '../contract.ts';
import type { EventRecord } from '../event-records.ts';
import type { LogRecord } from '../log-records.ts';
import type { ArtifactRecord, ArtifactView, CollectionRecord, CollectionView } from '../records.ts';

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
  /** id → the artifact's view: the fields queries read, without the payload (layout version 5) */
  artifactViews: Database<ArtifactView, string>;
  /** [typeKey(type), id] → empty: artifacts by type, counted per type (layout version 3) */
  artifactsByType: Database<Buffer, Key[]>;
  /** id → the artifact's JSON as clients read it, rendered once per write and served as is */
  artifactJson: Database<string, string>;
  /** key → collection ("latest") row; also the KEY_* sorts of collections */
  collections: Database<CollectionRecord, string>;
  /** key → the collection's JSON as `/latest/filter` returns it */
  collectionJson: Database<string, string>;
  /** collection id → key: ID_DESC of collections */
  collectionsById: Database<string, string>;
  /** [created, collection id] → key */
  collectionsByCreated: Database<string, Key[]>;
  /** [updated, collection id] → key */
  collectionsByUpdated: Database<string, Key[]>;
  /** key → the collection's view (layout version 5) */
  collectionViews: Database<CollectionView, string>;
  /** [typeKey(type), key] → empty: collections by their latest version's type (layout version 3) */
  collectionsByType: Database<Buffer, Key[]>;
  /** [flow_run_id, key] → empty: collections by their latest version's flow run (layout version 3) */
  collectionsByFlowRun: Database<Buffer, Key[]>;
  /** [task_run_id, key] → empty: collections by their latest version's task run (layout version 3) */
  collectionsByTaskRun: Database<Buffer, Key[]>;
  /** counter name → number, kept in the same transactions as the rows they count */
  counters: Database<number, string>;

  /** id → flow */
  flows: Database<FlowRecord, string>;
  /** name → flow id (names are unique) */
  flowsByName: Database<string, string>;
  /** id → flow run */
  flowRuns: Database<FlowRunRecord, string>;
  /** [flow_id, id] → empty */
  flowRunsByFlow: Database<Buffer, Key[]>;
  /** [deployment_id, id] → empty */
  flowRunsByDeployment: Database<Buffer, Key[]>;
  /** [parent_task_run_id, id] → empty: sub-flow runs of a task run */
  flowRunsByParentTask: Database<Buffer, Key[]>;
  /** [flow_id, idempotency_key] → flow run id (unique per flow) */
  flowRunsByIdempotencyKey: Database<string, Key[]>;
  /** [state_type, id] → empty */
  flowRunsByState: Database<Buffer, Key[]>;
  /** [indexString(state_name) or "" for none, id] → empty (layout version 7) */
  flowRunsByStateName: Database<Buffer, Key[]>;
  /** [indexString(tag), id] → empty: one entry per distinct tag of a run (layout version 2) */
  flowRunsByTag: Database<Buffer, Key[]>;
  /** [start_time, id] → empty: runs that have started (layout version 4) */
  flowRunsByStartTime: Database<Buffer, Key[]>;
  /** [expected_start_time, id] → empty: runs that have one (layout version 4) */
  flowRunsByExpectedStartTime: Database<Buffer, Key[]>;
  /** [end_time, id] → empty: runs that have ended (layout version 4) */
  flowRunsByEndTime: Database<Buffer, Key[]>;
  /** [indexString(name), id] → empty: `s` + the name itself unless long (layout version 4) */
  flowRunsByName: Database<Buffer, Key[]>;
  /** id → task run */
  taskRuns: Database<TaskRunRecord, string>;
  /** [flow_run_id or "", id] → empty */
  taskRunsByFlowRun: Database<Buffer, Key[]>;
  /** [flow_run_id or "", task_key, dynamic_key] → task run id (unique) */
  taskRunsByKeys: Database<string, Key[]>;
  /** [state_type or "", id] → empty (layout version 6) */
  taskRunsByState: Database<Buffer, Key[]>;
  /** [indexString(state_name) or "" for none, id] → empty (layout version 7) */
  taskRunsByStateName: Database<Buffer, Key[]>;
  /** [indexString(tag), id] → empty: one entry per distinct tag of a task run (layout version 6) */
  taskRunsByTag: Database<Buffer, Key[]>;
  /** [indexString(name), id] → empty (layout version 6) */
  taskRunsByName: Database<Buffer, Key[]>;
  /** id → deployment */
  deployments: Database<DeploymentRecord, string>;
  /** [flow_id, name] → deployment id (unique) */
  deploymentsByFlowName: Database<string, Key[]>;
  /** client id → CSRF token */
  csrfTokens: Database<CsrfTokenRecord, string>;
  /** id → log line (logs.ts) */
  logs: Database<LogRecord, string>;
  /** [timestamp, id] → empty: every log line in time order */
  logsByTimestamp: Database<Buffer, Key[]>;
  /** [flow_run_id or "", timestamp, id] → empty: a flow run's lines in time order */
  logsByFlowRun: Database<Buffer, Key[]>;
  /** [task_run_id, timestamp, id] → empty: the lines of each task run, lines without one left out (layout version 12) */
  logsByTaskRun: Database<Buffer, Key[]>;
  /**
   * [occurred, id] → event (events.ts): in time order, so that new events land at the end of
   * the tree, whatever their ids (clients make random ones), and a time range is one range read
   */
  events: Database<EventRecord, Key[]>;
  /** id → occurred: finds an event by id (duplicates, `id` filters, import) */
  eventsById: Database<number, string>;
  /** [resourceKey(resource id), occurred, id] → empty: one entry per distinct id among an event's primary and related resources */
  eventsByResource: Database<Buffer, Key[]>;
  /** `schema` → the store's layout version (upgrade.ts) */
  meta: Database<number, string>;
}

export class StoreOpenError extends Error {}

/** lmdb's API, loaded by the first open (lmdb-module.ts); a failure is kept and told every time. */
let lmdb: typeof import('./lmdb-module.ts') | { failure: unknown } | undefined;

function lmdbApi(): typeof import('./lmdb-module.ts') {
  if (lmdb === undefined) {
    try {
      lmdb = require('./lmdb-module.ts') as typeof import('./lmdb-module.ts');
    } catch (failure) {
      lmdb = { failure };
    }
  }
  if ('failure' in lmdb) throw new StoreOpenError(addonFailureMessage(lmdb.failure, currentAddonContext()));
  return lmdb;
}

/** Refuses (StoreOpenError) a map that the address-space limit (`ulimit -v`) leaves no room for. */
export function checkAddressSpace(mapSize: number): void {
  const problem = addressSpaceProblem(mapSize, currentAddressSpace());
  if (problem !== null) throw new StoreOpenError(problem);
}

/**
 * `mapSize`: the LMDB map in bytes (`--map-size`, map-size.ts); a map larger than the
 * address-space limit allows is refused here, because lmdb-js would crash the process on it.
 */
export function openDbs(path: string, mapSize: number = DEFAULT_MAP_SIZE): StoreDbs {
  checkAddressSpace(mapSize);
  const { open } = lmdbApi();
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new StoreOpenError(`cannot create data dir ${path}: ${(error as Error).message}`);
  }
  let env: RootDatabase;
  try {
    // The map (64 GiB by default) is address space, not memory: LMDB grows the file as data
    // arrives, and lmdb-js grows the map when a write reaches its end (map-size.ts).
    // maxDbs: the named databases below number 50; raise it before adding the 65th.
    // noSubdir: false — lmdb-js would otherwise treat a path with a dot (`/srv/artifactd.d`) as a file.
    env = open({ path, noSubdir: false, maxDbs: 64, mapSize, sharedStructuresKey: Symbol.for('structures') });
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
    artifactsByType: index('artifacts.byType'),
    artifactViews: env.openDB<ArtifactView, string>({ name: 'artifacts.view', sharedStructuresKey: Symbol.for('structures') }),
    artifactJson: env.openDB<string, string>({ name: 'artifacts.json', encoding: 'string' }),
    collections: env.openDB<CollectionRecord, string>({ name: 'collections', sharedStructuresKey: Symbol.for('structures') }),
    collectionJson: env.openDB<string, string>({ name: 'collections.json', encoding: 'string' }),
    collectionsById: env.openDB<string, string>({ name: 'collections.byId', encoding: 'string' }),
    collectionsByCreated: keyIndex('collections.byCreated'),
    collectionsByUpdated: keyIndex('collections.byUpdated'),
    collectionsByType: index('collections.byType'),
    collectionViews: env.openDB<CollectionView, string>({ name: 'collections.view', sharedStructuresKey: Symbol.for('structures') }),
    collectionsByFlowRun: index('collections.byFlowRun'),
    collectionsByTaskRun: index('collections.byTaskRun'),
    counters: env.openDB<number, string>({ name: 'counters' }),
    flows: env.openDB<FlowRecord, string>({ name: 'flows' }),
    flowsByName: env.openDB<string, string>({ name: 'flows.byName', encoding: 'string' }),
    flowRuns: env.openDB<FlowRunRecord, string>({ name: 'flowRuns' }),
    flowRunsByFlow: index('flowRuns.byFlow'),
    flowRunsByDeployment: index('flowRuns.byDeployment'),
    flowRunsByParentTask: index('flowRuns.byParentTask'),
    flowRunsByIdempotencyKey: keyIndex('flowRuns.byIdempotencyKey'),
    flowRunsByState: index('flowRuns.byState'),
    flowRunsByStateName: index('flowRuns.byStateName'),
    flowRunsByTag: index('flowRuns.byTag'),
    flowRunsByStartTime: index('flowRuns.byStartTime'),
    flowRunsByExpectedStartTime: index('flowRuns.byExpectedStartTime'),
    flowRunsByEndTime: index('flowRuns.byEndTime'),
    flowRunsByName: index('flowRuns.byName'),
    // Shared structures since layout version 11 (rows.ts, TASK_RUN_STRUCTURES); older values still read.
    taskRuns: env.openDB<TaskRunRecord, string>({ name: 'taskRuns', sharedStructuresKey: Symbol.for('structures') }),
    taskRunsByFlowRun: index('taskRuns.byFlowRun'),
    taskRunsByKeys: keyIndex('taskRuns.byKeys'),
    taskRunsByState: index('taskRuns.byState'),
    taskRunsByStateName: index('taskRuns.byStateName'),
    taskRunsByTag: index('taskRuns.byTag'),
    taskRunsByName: index('taskRuns.byName'),
    deployments: env.openDB<DeploymentRecord, string>({ name: 'deployments' }),
    deploymentsByFlowName: keyIndex('deployments.byFlowName'),
    csrfTokens: env.openDB<CsrfTokenRecord, string>({ name: 'csrfTokens' }),
    logs: env.openDB<LogRecord, string>({ name: 'logs', sharedStructuresKey: Symbol.for('structures') }),
    logsByTimestamp: index('logs.byTimestamp'),
    logsByFlowRun: index('logs.byFlowRun'),
    logsByTaskRun: index('logs.byTaskRun'),
    events: env.openDB<EventRecord, Key[]>({ name: 'events', sharedStructuresKey: Symbol.for('structures') }),
    eventsById: env.openDB<number, string>({ name: 'events.byId' }),
    eventsByResource: index('events.byResource'),
    meta: env.openDB<number, string>({ name: 'meta' }),
  };
}
