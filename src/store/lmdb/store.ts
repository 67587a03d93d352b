/**
 * The LMDB store, the embedded default: one LMDB environment and a repository per resource,
 * behind the storage contract (../contract.ts). Open it once per process; every repository
 * writes through `durably` (one transaction, acknowledged once on disk). Reads are synchronous
 * memory-mapped lookups, so the contract's reads answer without a promise, and the two hottest
 * are offered to the app as direct reads.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Counts, DirectReads, Page, QuerySettings, RunFilters, Store, Transfer } from '../contract.ts';
import { ArtifactStore, QUERY_VIEWS, TYPE_AND_COLLECTION_RUN_INDEXES, TYPE_COUNTERS } from './artifacts.ts';
import { checkStore } from './check.ts';
import { CsrfTokenStore } from './csrf-tokens.ts';
import { DeploymentStore } from './deployments.ts';
import { openDbs, type StoreDbs } from './env.ts';
import { DEFAULT_MAP_SIZE } from './map-size.ts';
import { EventStore } from './events.ts';
import { LOG_TASK_RUN_INDEX, LogStore } from './logs.ts';
import { FlowRunStore } from './flow-runs.ts';
import { FlowStore } from './flows.ts';
import { countDeployments, countFlowRuns, countFlows, countTaskRuns, findDeployments, findFlowRuns, findFlows, findTaskRuns } from './query/companions.ts';
import { QueryRunner } from './query/query-thread.ts';
import { Importer, openExport } from './transfer.ts';
import { FLOW_RUN_OWNER_COUNTERS, FLOW_RUN_TAG_INDEX, RUN_INDEX_COUNTERS, FLOW_RUN_TIME_NAME_INDEXES, RUN_STATE_NAME_INDEXES, TASK_RUN_QUERY_INDEXES, TASK_RUN_STRUCTURES } from './rows.ts';
import { TaskRunStore } from './task-runs.ts';
import { upgradeStore, type UpgradeStep } from './upgrade.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from '../companion-records.ts';

/**
 * What each layout version adds, oldest first; every step is defined beside the code that
 * maintains what it builds. Version 1 is the layout before versions were recorded.
 */
export const UPGRADES: readonly UpgradeStep[] = [FLOW_RUN_TAG_INDEX, TYPE_AND_COLLECTION_RUN_INDEXES, FLOW_RUN_TIME_NAME_INDEXES, QUERY_VIEWS, TASK_RUN_QUERY_INDEXES, RUN_STATE_NAME_INDEXES, FLOW_RUN_OWNER_COUNTERS, TYPE_COUNTERS, RUN_INDEX_COUNTERS, TASK_RUN_STRUCTURES, LOG_TASK_RUN_INDEX];

/** The layout version this build writes. */
export const LAYOUT_VERSION = Math.max(...UPGRADES.map((step) => step.version));

export interface LmdbStoreOptions {
  /**
   * How long a log or event query (`logs.find`, `events.find`, `events.count`) may run before it
   * stops with QueryDeadlineError (answered 503). Default 10 s, `--query-timeout`'s default; the
   * artifact queries take theirs from `artifacts.queries(settings)` instead.
   */
  queryTimeoutMs?: number;
  /** The LMDB map in bytes (`--map-size`, map-size.ts); default 64 GiB. */
  mapSize?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** A repository with the filter and count queries of its routes added. */
type Queried<R, T> = R & {
  find(filters: RunFilters, sort: string, page: Page): T[];
  count(filters: RunFilters): number;
};

function queried<R extends object, T>(repository: R, find: Queried<R, T>['find'], count: Queried<R, T>['count']): Queried<R, T> {
  return Object.assign(repository, { find, count });
}

export class LmdbStore implements Store {
  readonly backend = 'lmdb';
  readonly artifacts: ArtifactStore & { queries(settings: QuerySettings): QueryRunner };
  readonly flows: Queried<FlowStore, FlowRecord>;
  readonly flowRuns: Queried<FlowRunStore, FlowRunRecord>;
  readonly taskRuns: Queried<TaskRunStore, TaskRunRecord>;
  readonly deployments: Queried<DeploymentStore, DeploymentRecord>;
  readonly csrfTokens: CsrfTokenStore;
  readonly logs: LogStore;
  readonly events: EventStore;
  readonly transfer: Transfer;
  readonly direct: DirectReads;
  /** The LMDB map this store was opened with (the query thread attaches with the same). */
  readonly mapSize: number;

  private constructor(
    readonly dbs: StoreDbs,
    /** The data dir (the query thread opens its own handle on it). */
    readonly path: string,
    options: LmdbStoreOptions = {},
  ) {
    this.mapSize = options.mapSize ?? DEFAULT_MAP_SIZE;
    const artifacts = new ArtifactStore(dbs);
    this.artifacts = Object.assign(artifacts, { queries: (settings: QuerySettings) => new QueryRunner(this, path, settings) });
    this.flows = queried(new FlowStore(dbs), (f, sort, page) => findFlows(this, f, sort as 'NAME_ASC', page), (f) => countFlows(this, f));
    const flowRuns = new FlowRunStore(dbs);
    this.flowRuns = queried(flowRuns, (f, sort, page) => findFlowRuns(this, f, sort, page), (f) => countFlowRuns(this, f));
    this.taskRuns = queried(new TaskRunStore(dbs), (f, sort, page) => findTaskRuns(this, f, sort, page), (f) => countTaskRuns(this, f));
    this.deployments = queried(
      new DeploymentStore(dbs, flowRuns),
      (f, sort, page) => findDeployments(this, f, sort as 'NAME_ASC', page),
      (f) => countDeployments(this, f),
    );
    this.csrfTokens = new CsrfTokenStore(dbs);
    const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.logs = new LogStore(dbs, timeoutMs);
    this.events = new EventStore(dbs, timeoutMs);
    this.transfer = { openExport: (now) => openExport(this, now), importer: () => new Importer(this) };
    this.direct = { artifactJson: (id) => artifacts.getJson(id), latestByKeyJson: (key) => artifacts.latestByKeyJson(key) };
  }

  /** Opens the store in `path` (created if missing), bringing an older layout up to date. */
  static open(path: string, options: LmdbStoreOptions = {}): LmdbStore {
    const dbs = openDbs(path, options.mapSize);
    try {
      upgradeStore(dbs, UPGRADES);
    } catch (error) {
      dbs.env.close();
      throw error;
    }
    return new LmdbStore(dbs, path, options);
  }

  /**
   * Another handle on a store this process has opened (and brought up to date) with `open`: the
   * query thread's, with its own read transactions. Never upgrades or stamps.
   */
  static attach(path: string, mapSize: number = DEFAULT_MAP_SIZE): LmdbStore {
    return new LmdbStore(openDbs(path, mapSize), path, { mapSize });
  }

  /** `/metrics`: the size of the data file on disk. */
  metricLines(): string[] {
    let bytes = 0;
    try {
      bytes = statSync(join(this.path, 'data.mdb')).size;
    } catch {
      // not there (yet): 0
    }
    return ['# HELP artifactd_store_size_bytes Size of the LMDB data file on disk.', '# TYPE artifactd_store_size_bytes gauge', `artifactd_store_size_bytes ${bytes}`];
  }

  async close(): Promise<void> {
    await this.dbs.env.flushed;
    await this.dbs.env.close();
  }

  /** True when the environment answers reads (readiness). */
  isReadable(): boolean {
    try {
      this.dbs.counters.get('artifacts');
      return true;
    } catch {
      return false;
    }
  }

  /** How many of each thing the store holds (read from the counters). */
  counts(): Counts {
    const get = (name: string) => this.dbs.counters.get(name) ?? 0;
    return {
      artifacts: get('artifacts'),
      collections: get('collections'),
      flows: get('flows'),
      flowRuns: get('flowRuns'),
      taskRuns: get('taskRuns'),
      deployments: get('deployments'),
      logs: get('logs'),
      events: get('events'),
    };
  }

  /** The store's invariant violations; empty when sound (see `check.ts`). */
  check(): string[] {
    return checkStore(this.dbs);
  }
}
