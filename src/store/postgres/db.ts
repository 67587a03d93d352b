/**
 * The PostgreSQL connection: one pool (Bun's built-in client, `SQL` from 'bun') shared by every
 * repository of a store, and the few helpers all of them use:
 *
 *   db.sql`select …`                      tagged queries (values are parameters)
 *   db.unsafe(text, values)               a statement built with `Params` (params.ts)
 *   db.transaction(async (tx) => …)       BEGIN … COMMIT on one pooled connection (`sql.begin`)
 *   await lockKey(tx, LOCKS.artifactKey, key)
 *                                         a per-key advisory lock held until the transaction ends
 *
 * Per-key locks serialize the writers of one key across every process on the database (several
 * artifactd instances): `pg_advisory_xact_lock(namespace, hashtext(key))`. A hash collision only
 * serializes two unrelated keys; it never lets two writers of one key in at once. To stay free of
 * deadlocks, a transaction takes its key locks in one order (`lockKeys` sorts them).
 */
import { SQL, type TransactionSQL } from 'bun';
import { QueryDeadlineError, StoreUnavailableError } from '../errors.ts';
import { parseDatabaseUrl } from './url.ts';

/** A transaction's client (what `db.transaction` hands its callback). */
export type Tx = TransactionSQL;

/** Either the pool or a transaction: what a statement can run on. */
export type Runner = SQL | TransactionSQL;

export interface DbOptions {
  /** How long establishing a connection may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Pool size (default 10). */
  max?: number;
  /** How long an idle pooled connection stays open (default 30 s). */
  idleTimeoutMs?: number;
  /**
   * Every statement's timeout on this pool (a startup parameter: no round trip); undefined:
   * the server's setting. A transaction may change it with `SET LOCAL statement_timeout`.
   */
  statementTimeoutMs?: number;
}

/**
 * Namespaces of the two-key advisory locks (`pg_advisory_xact_lock(int, int)`). The migration lock
 * uses the one-bigint form, a separate lock space in PostgreSQL, so the two never meet.
 */
export const LOCKS = {
  artifactKey: 0x41_52_54_4b, // 'ARTK'
  flowName: 0x46_4c_4f_57, // 'FLOW'
  deploymentName: 0x44_45_50_4c, // 'DEPL'
  csrfClient: 0x43_53_52_46, // 'CSRF'
} as const;

/** PostgreSQL's SQLSTATE for a statement stopped by `statement_timeout`. */
export const QUERY_CANCELED = '57014';

export class Db {
  readonly sql: SQL;
  /** The pool's statement timeout (DbOptions), undefined when the server's applies. */
  readonly statementTimeoutMs: number | undefined;

  /** The pool's size. */
  readonly max: number;

  constructor(url: string, options: DbOptions = {}) {
    this.statementTimeoutMs = options.statementTimeoutMs;
    this.max = options.max ?? 10;
    // The URL's parts, TLS mode and startup parameters (url.ts); the URL's own connect_timeout
    // and statement_timeout win over the configured ones.
    const parsed = parseDatabaseUrl(url, { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, statementTimeoutMs: options.statementTimeoutMs });
    this.sql = new SQL({
      ...parsed,
      max: this.max,
      idleTimeout: Math.max(1, Math.ceil((options.idleTimeoutMs ?? 30_000) / 1000)),
      prepare: true,
    });
  }

  /** What went through the pool since start (`/metrics`, store.ts `metricLines`). */
  readonly stats = new DbStats();

  /** Runs `text` (placeholders `$1…`) with `values` on the pool. */
  async unsafe<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const started = this.stats.start();
    try {
      return (await this.sql.unsafe(text, values as unknown[])) as unknown as T[];
    } catch (error) {
      return this.stats.failed(error);
    } finally {
      this.stats.end(started);
    }
  }

  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const started = this.stats.start();
    try {
      return (await this.sql.begin(fn as SQL.TransactionContextCallback<T>)) as T;
    } catch (error) {
      return this.stats.failed(error);
    } finally {
      this.stats.end(started);
    }
  }

  async close(): Promise<void> {
    await this.sql.close({ timeout: 5 });
  }
}

/**
 * Statements and transactions run through the pool: how many, how long, how many at once (a
 * pool that stays at its size is what to raise `max` for), and how many failed by kind.
 */
export class DbStats {
  calls = 0;
  seconds = 0;
  inFlight = 0;
  readonly failures = { deadline: 0, unavailable: 0, other: 0 };

  start(): number {
    this.calls++;
    this.inFlight++;
    return performance.now();
  }

  end(started: number): void {
    this.inFlight--;
    this.seconds += (performance.now() - started) / 1000;
  }

  failed(error: unknown): never {
    try {
      return translated(error);
    } catch (thrown) {
      const kind = thrown instanceof QueryDeadlineError ? 'deadline' : thrown instanceof StoreUnavailableError ? 'unavailable' : 'other';
      this.failures[kind]++;
      throw thrown;
    }
  }
}

/** Runs `text` with `values` on a transaction (or the pool). */
export async function run<T = Record<string, unknown>>(runner: Runner, text: string, values: unknown[] = []): Promise<T[]> {
  return (await runner.unsafe(text, values as unknown[])) as unknown as T[];
}

/** Takes the advisory lock of `key` in `namespace`, held until `tx` ends. */
export async function lockKey(tx: Tx, namespace: number, key: string): Promise<void> {
  await tx.unsafe('SELECT pg_advisory_xact_lock($1::int4, hashtext($2::text))', [namespace, key]);
}

/** Takes the locks of several keys, in one fixed order (no two transactions wait on each other in a cycle). */
export async function lockKeys(tx: Tx, namespace: number, keys: Iterable<string>): Promise<void> {
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) return;
  // One statement, the locks taken in array order: hashes sorted too, so that two transactions
  // whose keys collide in hash still take them in the same order.
  await tx.unsafe(
    'SELECT pg_advisory_xact_lock($1::int4, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k) AS s ORDER BY h',
    [namespace, sorted],
  );
}

/** Whether `error` is PostgreSQL's "canceling statement due to statement timeout". */
export function isStatementTimeout(error: unknown): boolean {
  const e = error as { errno?: unknown; code?: unknown } | null;
  return e != null && (e.errno === QUERY_CANCELED || e.code === QUERY_CANCELED);
}

/** Bun's codes, and PostgreSQL's SQLSTATE classes 08 (connection) and 57P0x (shutdown, cannot connect now). */
const UNAVAILABLE_CODES = new Set(['ERR_POSTGRES_CONNECTION_CLOSED', 'ERR_POSTGRES_CONNECTION_REFUSED', 'ERR_POSTGRES_CONNECTION_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']);

/** Whether `error` says the database cannot be reached (down, restarting, refusing connections). */
export function isUnavailable(error: unknown): boolean {
  const e = error as { errno?: unknown; code?: unknown } | null;
  if (e == null) return false;
  const codes = [e.code, e.errno].filter((c): c is string => typeof c === 'string');
  return codes.some((c) => UNAVAILABLE_CODES.has(c) || /^08/.test(c) || /^57P0[1-3]$/.test(c));
}

/**
 * Rethrows a statement timeout as QueryDeadlineError and an unreachable database as
 * StoreUnavailableError (both answered 503), anything else as it is. Messages carry no URL.
 */
export function translated(error: unknown): never {
  if (error instanceof QueryDeadlineError || error instanceof StoreUnavailableError) throw error;
  if (isStatementTimeout(error)) throw new QueryDeadlineError('query deadline passed (statement_timeout)');
  if (isUnavailable(error)) throw new StoreUnavailableError(`the database is unavailable: ${(error as Error).message}`);
  throw error;
}

/** Kept for callers that only want the deadline: same as `translated`. */
export const deadlineOr = translated;

/** Runs `fn` in a transaction whose statements stop after `timeoutMs` (QueryDeadlineError). */
export async function withStatementTimeout<T>(db: Db, timeoutMs: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(async (tx) => {
      await tx.unsafe(`SELECT set_config('statement_timeout', $1, true)`, [`${Math.max(1, Math.floor(timeoutMs))}ms`]);
      return await fn(tx);
    });
  } catch (error) {
    return translated(error);
  }
}
