/**
 * The PostgreSQL store: one connection pool (db.ts) shared by a repository per resource, behind
 * the storage contract (../contract.ts). Any number of artifactd processes may open the same
 * database: every invariant that spans rows is kept by the database (constraints, per-key
 * advisory locks), never by one process's memory. Opening brings the schema up to date
 * (migrations.ts) and refuses a database migrated by a newer artifactd.
 *
 * Every read is a round trip, so there are no direct reads (`direct` is absent).
 */
import type { Counts, Store, Transfer } from '../contract.ts';
import { PostgresArtifacts } from './artifacts.ts';
import { checkStore } from './check.ts';
import { PostgresCsrfTokens } from './csrf-tokens.ts';
import { Db, type DbOptions } from './db.ts';
import { PostgresDeployments } from './deployments.ts';
import { PostgresEvents } from './events.ts';
import { PostgresFlowRuns } from './flow-runs.ts';
import { PostgresFlows } from './flows.ts';
import { PostgresLogs } from './logs.ts';
import { migrate } from './migrations.ts';
import type { CountedTable } from './schema-counters.ts';
import { PostgresTaskRuns } from './task-runs.ts';
import { postgresTransfer } from './transfer.ts';

export interface PostgresOptions {
  /** How long establishing a connection may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Every statement's timeout on the pool; undefined: the server's setting. */
  statementTimeoutMs?: number;
  /** Pool size (default 10). */
  max?: number;
}

/** How long `isReadable` waits for `SELECT 1`. */
const READABLE_TIMEOUT_MS = 2_000;

export class PostgresStore implements Store {
  readonly backend = 'postgresql';
  readonly artifacts: PostgresArtifacts;
  readonly flows: PostgresFlows;
  readonly flowRuns: PostgresFlowRuns;
  readonly taskRuns: PostgresTaskRuns;
  readonly deployments: PostgresDeployments;
  readonly csrfTokens: PostgresCsrfTokens;
  readonly logs: PostgresLogs;
  readonly events: PostgresEvents;
  readonly transfer: Transfer;

  private constructor(readonly db: Db) {
    this.artifacts = new PostgresArtifacts(db);
    this.flows = new PostgresFlows(db);
    this.flowRuns = new PostgresFlowRuns(db);
    this.taskRuns = new PostgresTaskRuns(db);
    this.deployments = new PostgresDeployments(db);
    this.csrfTokens = new PostgresCsrfTokens(db);
    this.logs = new PostgresLogs(db);
    this.events = new PostgresEvents(db);
    this.transfer = postgresTransfer(db);
  }

  /**
   * Connects to `url` and applies the schema's missing migrations (under an advisory lock, so
   * that instances starting at once apply them once). Rejects with DatabaseTooNewError for a
   * database migrated by a newer artifactd.
   */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const db = new Db(url, options satisfies DbOptions);
    try {
      await migrate(db);
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
    const store = new PostgresStore(db);
    // Housekeeping, not correctness (the counts are exact either way): a failure only leaves rows for later.
    await store.compactCounters().catch(() => {});
    return store;
  }

  /**
   * Folds the row counters of database backends that are gone into the base row
   * (schema-counters.ts); answers how many rows it folded (0 when another instance is at it).
   */
  async compactCounters(): Promise<number> {
    const [row] = await this.db.unsafe<{ folded: string }>('SELECT artifactd_counter_compact()::text AS folded');
    return Number(row.folded);
  }

  /** True when the database answers `SELECT 1` within a short time (`/api/ready`). */
  async isReadable(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READABLE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.db.unsafe('SELECT 1').then(() => true, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * How many of each thing the store holds: exact, one snapshot, read from the row counters
   * (schema-counters.ts: a few rows per table, no scan), so every /metrics scrape stays cheap.
   */
  async counts(): Promise<Counts> {
    const rows = await this.db.unsafe<{ name: string; n: string }>(`SELECT name, sum(n) AS n FROM artifactd_counter GROUP BY name`);
    const n = new Map(rows.map((row) => [row.name, Number(row.n)]));
    const of = (table: CountedTable) => n.get(table) ?? 0;
    return {
      artifacts: of('artifact'),
      collections: of('artifact_collection'),
      flows: of('flow'),
      flowRuns: of('flow_run'),
      taskRuns: of('task_run'),
      deployments: of('deployment'),
      logs: of('log'),
      events: of('event'),
    };
  }

  /** The store's invariant violations; empty when sound (check.ts). */
  async check(): Promise<string[]> {
    return await checkStore(this.db);
  }

  /** The pool's series for `/metrics`: work through it, its use, its failures by kind. */
  async metricLines(): Promise<string[]> {
    const { stats, max } = this.db;
    const [size] = await this.db.unsafe<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    const family = (name: string, type: string, help: string) => [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
    return [
      ...family('artifactd_store_size_bytes', 'gauge', "Size of the PostgreSQL database on disk (pg_database_size)."),
      `artifactd_store_size_bytes ${size.bytes}`,
      ...family('artifactd_database_calls_total', 'counter', 'Statements and transactions run on the PostgreSQL pool.'),
      `artifactd_database_calls_total ${stats.calls}`,
      ...family('artifactd_database_call_seconds_total', 'counter', 'Time spent in them, in seconds (divide by the calls for the mean).'),
      `artifactd_database_call_seconds_total ${stats.seconds}`,
      ...family('artifactd_database_calls_in_flight', 'gauge', 'Statements and transactions running or waiting for a connection now.'),
      `artifactd_database_calls_in_flight ${stats.inFlight}`,
      ...family('artifactd_database_pool_size', 'gauge', 'Connections the pool may open (--database-pool-size).'),
      `artifactd_database_pool_size ${max}`,
      ...family('artifactd_database_failures_total', 'counter', 'Failed calls: past the statement timeout, database unreachable, other.'),
      ...Object.entries(stats.failures).map(([kind, n]) => `artifactd_database_failures_total{kind="${kind}"} ${n}`),
    ];
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
