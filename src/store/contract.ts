/**
 * The storage contract: everything the routes, the commands, the UI and transfer ask of a store,
 * and nothing about how a backend keeps it. Two backends implement it — LMDB (`lmdb/`, the
 * embedded default) and PostgreSQL (`postgres/`) — and nothing above `src/store/` imports either
 * one except `open.ts`, which picks one from the configuration.
 *
 * Reads answer `T | Promise<T>`: LMDB answers synchronously (a read is a memory-mapped lookup,
 * and a promise would cost more than the read), PostgreSQL asynchronously; callers `await`.
 * Writes are always promises that resolve once the write is durable. A write that breaks a rule
 * (unknown flow, a taken name) rejects with `Refusal` (durable.ts) before anything is written.
 */
import type { Sort } from '../schemas/artifacts.ts';
import type {
  DeploymentCreate,
  DeploymentFlowRunCreate,
  FlowCreate,
  FlowRunCreate,
  FlowRunUpdate,
  StateCreate,
  TaskRunCreate,
} from '../schemas/companions.ts';
import type { ArtifactCollectionFilter, ArtifactFilter, DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from '../schemas/filters.ts';
import type { DeploymentRecord, FlowRecord, FlowRunRecord, TaskRunRecord } from './companion-records.ts';
import type { ArtifactRecord } from './records.ts';
import type { EventRecord } from './event-records.ts';
import type { LogRecord, NewLog } from './log-records.ts';
import type { LogFilter, LogSort } from '../schemas/logs.ts';
import type { StateRecord } from './companion-records.ts';
import type { Counts as TransferCounts, Item } from '../transfer/format.ts';

export type MaybePromise<T> = T | Promise<T>;

/** A page of a filter route: rows `offset` to `offset + limit` of the sorted matches. */
export interface Page {
  offset: number;
  limit: number;
}

/** The four run-related filters the filter and count routes take beside their own. */
export interface RunFilters {
  flows?: FlowFilter;
  flow_runs?: FlowRunFilter;
  task_runs?: TaskRunFilter;
  deployments?: DeploymentFilter;
}

// ── artifacts ──────────────────────────────────────────────────────────────────────────────

/** A new artifact as validated by the API; `data` is raw JSON text. */
export type NewArtifact = Omit<ArtifactRecord, 'id' | 'created' | 'updated'>;

/** Fields a PATCH may set; absent ones are left alone. */
export type ArtifactPatch = Partial<Pick<ArtifactRecord, 'data' | 'description' | 'metadata'>>;

export type QueryRoute = 'filter' | 'latest/filter' | 'count' | 'latest/count';

/**
 * One of the four artifact queries, as data: the body's validated values (the run filters,
 * `artifacts`, `sort`, `offset`) and the page size of the filter routes.
 */
export interface QueryRequest {
  route: QueryRoute;
  values: Record<string, unknown>;
  limit: number;
}

/** The stored JSON texts of a page (Artifact or ArtifactCollection), or a count. */
export type QueryAnswer = string[] | number;

export interface QuerySettings {
  /** How long a query may run before it is stopped, answered 503 (QueryDeadlineError). */
  timeoutMs: number;
  /** LMDB: how long a query runs on the server's thread before it moves to the query thread; null: never. */
  handOffMs: number | null;
}

/** Runs the artifact queries (one per app; `close` ends whatever it started). */
export interface ArtifactQueries {
  run(request: QueryRequest): Promise<QueryAnswer>;
  /** Queries moved off the server's thread since start (`/metrics`; 0 where nothing moves). */
  readonly handedOff: number;
  close(): Promise<void>;
}

/** The artifacts the filter routes would page through, for the commands (`ls`). */
export interface ArtifactRepository {
  create(input: NewArtifact): Promise<ArtifactRecord>;
  /** False when there is no such artifact. A PATCH of a key's latest version is mirrored. */
  update(id: string, patch: ArtifactPatch): Promise<boolean>;
  /** False when there is no such artifact. Deleting the latest falls back to the next newest. */
  delete(id: string): Promise<boolean>;
  /**
   * Deletes each of `ids` that exists and that `spare` (given the record and whether it is its
   * key's latest version) does not spare, in one transaction; the deleted records.
   */
  deleteMany(ids: readonly string[], spare?: (record: ArtifactRecord, isLatest: boolean) => boolean): Promise<ArtifactRecord[]>;
  get(id: string): MaybePromise<ArtifactRecord | undefined>;
  /** An Artifact's JSON, as a client reads it. */
  getJson(id: string): MaybePromise<string | undefined>;
  /** `GET /artifacts/{key}/latest`'s body. */
  latestByKeyJson(key: string): MaybePromise<string | undefined>;
  isLatest(record: ArtifactRecord): MaybePromise<boolean>;
  /** Up to `limit` ids of artifacts created before `cutoff` (µs), oldest first, after `after`. */
  createdBefore(cutoff: number, limit: number, after?: { created: number; id: string }): MaybePromise<{ created: number; id: string }[]>;
  /** A page of `/filter` or `/latest/filter` with no run filters (the commands' listings). */
  findJson(filter: ArtifactFilter | null, sort: Sort, page: Page): MaybePromise<string[]>;
  findLatestJson(filter: ArtifactCollectionFilter | null, sort: Sort, page: Page): MaybePromise<string[]>;
  /** The query runner the API uses: one per app. */
  queries(settings: QuerySettings): ArtifactQueries;
}

// ── the companions ─────────────────────────────────────────────────────────────────────────

export interface Created<T> {
  record: T;
  created: boolean;
}

export interface FlowRepository {
  create(input: FlowCreate): Promise<Created<FlowRecord>>;
  get(id: string): MaybePromise<FlowRecord | undefined>;
  byName(name: string): MaybePromise<FlowRecord | undefined>;
  update(id: string, tags: string[] | undefined): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  find(filters: RunFilters, sort: string, page: Page): MaybePromise<FlowRecord[]>;
  count(filters: RunFilters): MaybePromise<number>;
}

export interface FlowRunRepository {
  create(input: FlowRunCreateInput): Promise<Created<FlowRunRecord>>;
  get(id: string): MaybePromise<FlowRunRecord | undefined>;
  /**
   * Forces a new state (`set_state`); undefined when there is no such run. A sub-flow run's
   * parent task run follows it in the same transaction, as Prefect's server moves it
   * (`parentTaskRunInState` in task-run-events.ts).
   */
  setState(id: string, input: StateCreate): Promise<FlowRunRecord | undefined>;
  update(id: string, patch: FlowRunUpdate): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  find(filters: RunFilters, sort: string, page: Page): MaybePromise<FlowRunRecord[]>;
  count(filters: RunFilters): MaybePromise<number>;
}

/** A new flow run: the route's body, or what a deployment adds to it. */
export type FlowRunCreateInput = FlowRunCreate & { deployment_version?: string | null };

/**
 * One `prefect.task-run.*` event as the task-run recorder reads it (events/task-run-recorder.ts):
 * the run it concerns, the payload's task-run fields it carries, and the state it reports (id =
 * the event's id, timestamp = its `occurred`). `observedTaskRun` (task-run-events.ts) says what
 * it does to a stored run; each backend applies that inside its write transaction.
 */
export interface TaskRunObservation {
  id: string;
  flow_run_id: string | null;
  /** Only the fields the event's `payload.task_run` holds; the others stay as stored (or default). */
  fields: ObservedTaskRunFields;
  state: StateRecord;
}

export type ObservedTaskRunFields = Partial<
  Pick<
    TaskRunRecord,
    | 'name'
    | 'task_key'
    | 'dynamic_key'
    | 'cache_key'
    | 'cache_expiration'
    | 'task_version'
    | 'empirical_policy'
    | 'tags'
    | 'task_inputs'
    | 'run_count'
    | 'flow_run_run_count'
    | 'expected_start_time'
    | 'start_time'
    | 'end_time'
    | 'total_run_time'
    | 'labels'
  >
>;

export interface TaskRunRepository {
  create(input: TaskRunCreate): Promise<Created<TaskRunRecord>>;
  get(id: string): MaybePromise<TaskRunRecord | undefined>;
  delete(id: string): Promise<boolean>;
  find(filters: RunFilters, sort: string, page: Page): MaybePromise<TaskRunRecord[]>;
  count(filters: RunFilters): MaybePromise<number>;
}

export interface DeploymentRepository {
  create(input: DeploymentCreate): Promise<Created<DeploymentRecord>>;
  get(id: string): MaybePromise<DeploymentRecord | undefined>;
  delete(id: string): Promise<boolean>;
  createFlowRun(id: string, input: DeploymentFlowRunCreate): Promise<Created<FlowRunRecord>>;
  find(filters: RunFilters, sort: string, page: Page): MaybePromise<DeploymentRecord[]>;
  count(filters: RunFilters): MaybePromise<number>;
}

export interface CsrfTokenRecord {
  id: string;
  created: number;
  updated: number;
  token: string;
  client: string;
  expiration: number; // µs
}

export interface CsrfTokenRepository {
  /** Issues a fresh token for `client`, replacing its old one. */
  issue(client: string, lifetimeSeconds: number): Promise<CsrfTokenRecord>;
  /** True when `token` is the unexpired token of `client`. */
  isValid(client: string, token: string): MaybePromise<boolean>;
}

// ── logs ───────────────────────────────────────────────────────────────────────────────────

export interface LogRepository {
  /** Stores the lines in one durable transaction, each under a fresh id; how many. */
  append(logs: readonly NewLog[]): Promise<number>;
  /** A page of `POST /logs/filter`: the matches of `filter` (null: all) in `sort` order. */
  find(filter: LogFilter | null, sort: LogSort, page: Page): MaybePromise<LogRecord[]>;
  /**
   * Deletes up to `limit` lines with `timestamp` before `cutoff` (µs), oldest first, in one
   * durable transaction (retention); how many went. Callers repeat until it answers 0.
   */
  deleteBefore(cutoff: number, limit: number): Promise<number>;
}

// ── events ─────────────────────────────────────────────────────────────────────────────────

/**
 * An EventFilter made concrete by the API (events/query.ts): the time range resolved to µs, empty
 * lists dropped (Prefect treats `[]` as "no constraint"), the parts not served (labels,
 * `resources_in_roles`, `distinct`) refused before a backend sees it. Every constraint present
 * must hold; `eventMatches` (filters/events.ts) is its meaning, and the reference each backend's
 * plan is tested against.
 */
export interface EventQuery {
  /** Inclusive bounds on `occurred`, µs. */
  since: number;
  until: number;
  order: 'ASC' | 'DESC';
  ids?: string[];
  /** The event name starts with one of these. */
  prefixes?: string[];
  excludePrefixes?: string[];
  names?: string[];
  excludeNames?: string[];
  /** The primary resource's id is one of these / starts with one of these. */
  resourceIds?: string[];
  resourceIdPrefixes?: string[];
  /** Some resource, primary or related, has an id in `anyResourceIds` and one starting with a prefix (both, on the same resource, when both are given). */
  anyResourceIds?: string[];
  anyResourceIdPrefixes?: string[];
  /** Some related resource has its id in `relatedIds` and its role in `relatedRoles` (both on the same one, when both are given). */
  relatedIds?: string[];
  relatedRoles?: string[];
}

/** Where a page of events ended: the next page starts after this event in the query's order. */
export interface EventCursor {
  occurred: number;
  id: string;
}

export interface EventPage {
  /** The ReceivedEvent JSON texts, in the query's order. */
  events: string[];
  /** Set when more matches follow. */
  next: EventCursor | null;
}

export interface EventRepository {
  /**
   * Stores the events and applies the task-run observations made from them, in one durable
   * transaction. An event whose id is already stored is skipped (a client resending after a
   * reconnect); an observation is applied even so (it changes nothing the second time).
   */
  append(events: readonly EventRecord[], taskRuns: readonly TaskRunObservation[]): Promise<void>;
  /** Up to `limit` matches of `query` after `after` (null: from the start), in `query.order`. */
  find(query: EventQuery, limit: number, after: EventCursor | null): Promise<EventPage>;
  /** How many events match `query` (EventPage's `total`). */
  count(query: EventQuery): Promise<number>;
  /** Deletes up to `limit` events with `occurred` before `cutoff` (µs), oldest first; how many went. */
  deleteBefore(cutoff: number, limit: number): Promise<number>;
}

// ── the store ──────────────────────────────────────────────────────────────────────────────

export interface Counts {
  artifacts: number;
  collections: number;
  flows: number;
  flowRuns: number;
  taskRuns: number;
  deployments: number;
  logs: number;
  events: number;
}

/**
 * The two reads clients poll, answered without a promise where the backend can (LMDB): the app
 * answers them before its router (api/direct-reads.ts). Absent where every read is a round trip.
 */
export interface DirectReads {
  artifactJson(id: string): string | undefined;
  latestByKeyJson(key: string): string | undefined;
}

// ── transfer ───────────────────────────────────────────────────────────────────────────────

/** One consistent moment of the whole store, as export lines (`transfer/format.ts`). */
export interface ExportSnapshot {
  counts: TransferCounts;
  /** The header line, then one line per record (without newlines). */
  lines: Iterable<string> | AsyncIterable<string>;
  /** Releases the snapshot; call when done (also after an error). */
  done(): MaybePromise<void>;
}

/** What became of one imported line: written, already there (equal or different), or refused. */
export type Outcome = 'added' | 'unchanged' | 'kept' | { error: string };

export interface Numbered {
  line: number;
  item: Item;
}

/** One import: batches written in order, then `finish` (links that had to wait for later lines). */
export interface ImportSession {
  write(batch: Numbered[]): Promise<Outcome[]>;
  finish(): Promise<{ line: number; outcome: Outcome }[]>;
}

export interface Transfer {
  openExport(now?: Date): MaybePromise<ExportSnapshot>;
  importer(): ImportSession;
}

export interface Store {
  /** `lmdb` or `postgresql` (logs, `/metrics`, the commands' messages). */
  readonly backend: 'lmdb' | 'postgresql';
  readonly artifacts: ArtifactRepository;
  readonly flows: FlowRepository;
  readonly flowRuns: FlowRunRepository;
  readonly taskRuns: TaskRunRepository;
  readonly deployments: DeploymentRepository;
  readonly csrfTokens: CsrfTokenRepository;
  readonly logs: LogRepository;
  readonly events: EventRepository;
  readonly transfer: Transfer;
  readonly direct?: DirectReads;
  /** True when the store answers reads (`/api/ready`). */
  isReadable(): MaybePromise<boolean>;
  /** How many of each thing the store holds. */
  counts(): MaybePromise<Counts>;
  /** The store's invariant violations; empty when sound. */
  check(): MaybePromise<string[]>;
  /** The backend's own `/metrics` lines (HELP, TYPE and samples), e.g. a pool's connections. */
  metricLines?(): MaybePromise<string[]>;
  close(): Promise<void>;
}
