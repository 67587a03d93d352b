/**
 * The store: one LMDB environment and a repository per resource. Open it once per process;
 * every repository writes through `durably` (one transaction, acknowledged once on disk).
 */
import { ArtifactStore, QUERY_VIEWS, TYPE_AND_COLLECTION_RUN_INDEXES, TYPE_COUNTERS } from './artifacts.ts';
import { checkStore } from './check.ts';
import { CsrfTokenStore } from './csrf-tokens.ts';
import { DeploymentStore } from './deployments.ts';
import { openDbs, type StoreDbs } from './env.ts';
import { FlowRunStore } from './flow-runs.ts';
import { FlowStore } from './flows.ts';
import { FLOW_RUN_OWNER_COUNTERS, FLOW_RUN_TAG_INDEX, RUN_INDEX_COUNTERS, FLOW_RUN_TIME_NAME_INDEXES, RUN_STATE_NAME_INDEXES, TASK_RUN_QUERY_INDEXES } from './rows.ts';
import { TaskRunStore } from './task-runs.ts';
import { upgradeStore, type UpgradeStep } from './upgrade.ts';

/**
 * What each layout version adds, oldest first; every step is defined beside the code that
 * maintains what it builds. Version 1 is the layout before versions were recorded.
 */
export const UPGRADES: readonly UpgradeStep[] = [FLOW_RUN_TAG_INDEX, TYPE_AND_COLLECTION_RUN_INDEXES, FLOW_RUN_TIME_NAME_INDEXES, QUERY_VIEWS, TASK_RUN_QUERY_INDEXES, RUN_STATE_NAME_INDEXES, FLOW_RUN_OWNER_COUNTERS, TYPE_COUNTERS, RUN_INDEX_COUNTERS];

/** The layout version this build writes. */
export const LAYOUT_VERSION = Math.max(...UPGRADES.map((step) => step.version));

export class Store {
  readonly artifacts: ArtifactStore;
  readonly flows: FlowStore;
  readonly flowRuns: FlowRunStore;
  readonly taskRuns: TaskRunStore;
  readonly deployments: DeploymentStore;
  readonly csrfTokens: CsrfTokenStore;

  private constructor(readonly dbs: StoreDbs) {
    this.artifacts = new ArtifactStore(dbs);
    this.flows = new FlowStore(dbs);
    this.flowRuns = new FlowRunStore(dbs);
    this.taskRuns = new TaskRunStore(dbs);
    this.deployments = new DeploymentStore(dbs, this.flowRuns);
    this.csrfTokens = new CsrfTokenStore(dbs);
  }

  /** Opens the store in `path` (created if missing), bringing an older layout up to date. */
  static open(path: string): Store {
    const dbs = openDbs(path);
    try {
      upgradeStore(dbs, UPGRADES);
    } catch (error) {
      dbs.env.close();
      throw error;
    }
    return new Store(dbs);
  }

  /**
   * Another handle on a store this process has opened (and brought up to date) with `open`: the
   * query thread's, with its own read transactions. Never upgrades or stamps.
   */
  static attach(path: string): Store {
    return new Store(openDbs(path));
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
  counts() {
    const get = (name: string) => this.dbs.counters.get(name) ?? 0;
    return {
      artifacts: get('artifacts'),
      collections: get('collections'),
      flows: get('flows'),
      flowRuns: get('flowRuns'),
      taskRuns: get('taskRuns'),
      deployments: get('deployments'),
    };
  }

  /** The store's invariant violations; empty when sound (see `check.ts`). */
  check(): string[] {
    return checkStore(this.dbs);
  }
}
