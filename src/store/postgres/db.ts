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
 *
 * A client-side deadline. `statement_timeout` is enforced by the server; a server that stops
 * answering without closing its connections (a network partition, a frozen host) never enforces
 * it, and Bun's client has no time limit of its own for a query on an open connection. So every
 * call through a Db (`unsafe`, `transaction`, and `db.sql`'s `unsafe`, tagged queries, `begin`
 * and `reserve`) fails with StoreUnavailableError (503) once connect timeout + statement timeout
 * + DEADLINE_MARGIN_MS have passed without an answer, and the connection it waited on is never
 * used again: a reserved connection is closed; a pooled one cannot be named through Bun's API,
 * so the pool is replaced by a new one and the old one closes in the background (`retire`). A
 * transaction given up on never commits (the server rolls it back when its connection closes,
 * and the client refuses its further statements and its COMMIT). With no statement timeout
 * (`--database-statement-timeout 0`) there is no client deadline either.
 */
import { SQL, type ReservedSQL, type TransactionSQL } from 'bun';
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

/**
 * What a call may take past the connect and statement timeouts before the client gives up on the
 * database (the server's own statement timeout answers first when the server is there at all).
 */
export const DEADLINE_MARGIN_MS = 1_000;

export class Db {
  /** The pool's statement timeout (DbOptions), undefined when the server's applies. */
  readonly statementTimeoutMs: number | undefined;

  /** The pool's size. */
  readonly max: number;

  /**
   * How long a call may wait for the database before it fails with StoreUnavailableError and
   * its connection is dropped: connect timeout + statement timeout + DEADLINE_MARGIN_MS;
   * undefined when no statement timeout applies (then a statement may run for ever, and only
   * the server can stop it).
   */
  readonly deadlineMs: number | undefined;
  /** A statement's share of it, once it has a connection: statement timeout + margin. */
  private readonly statementLimitMs: number | undefined;

  private readonly poolOptions: SQL.Options;
  private pool: SQL;
  private facade: SQL;
  /** Pools given up on (a call ran past its deadline on them), closing in the background. */
  private readonly retiring = new Set<SQL>();

  constructor(url: string, options: DbOptions = {}) {
    this.statementTimeoutMs = options.statementTimeoutMs;
    this.max = options.max ?? 10;
    // The URL's parts, TLS mode and startup parameters (url.ts); the URL's own connect_timeout
    // and statement_timeout win over the configured ones.
    const parsed = parseDatabaseUrl(url, { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, statementTimeoutMs: options.statementTimeoutMs });
    this.poolOptions = {
      ...parsed,
      max: this.max,
      idleTimeout: Math.max(1, Math.ceil((options.idleTimeoutMs ?? 30_000) / 1000)),
      prepare: true,
    } as SQL.Options;
    const statementMs = durationMs(parsed.connection.statement_timeout);
    if (statementMs !== undefined && statementMs > 0) {
      this.statementLimitMs = statementMs + DEADLINE_MARGIN_MS;
      this.deadlineMs = (parsed.connectionTimeout ?? 30) * 1000 + this.statementLimitMs;
    }
    this.pool = new SQL(this.poolOptions);
    this.facade = this.facadeOf(this.pool);
  }

  /**
   * The pool, for statements and transactions the helpers below do not cover. Its `unsafe`,
   * tagged queries, `begin` and `reserve` keep the same deadline as `unsafe`/`transaction`
   * (`unsafe` and tagged queries return the query itself; the pool behind it may be replaced
   * after a deadline, so take `db.sql` afresh for each call rather than keeping it).
   */
  get sql(): SQL {
    return this.facade;
  }

  /** What went through the pool since start (`/metrics`, store.ts `metricLines`). */
  readonly stats = new DbStats();

  /** Runs `text` (placeholders `$1…`) with `values` on the pool. */
  async unsafe<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const started = this.stats.start();
    try {
      return (await this.bounded(this.pool.unsafe(text, values as unknown[]), this.pool)) as unknown as T[];
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
      return await this.begin(undefined, fn);
    } catch (error) {
      return this.stats.failed(error);
    } finally {
      this.stats.end(started);
    }
  }

  async close(): Promise<void> {
    const closing = [this.pool.close({ timeout: 5 }), ...[...this.retiring].map((pool) => pool.close({ timeout: 0 }))];
    await Promise.all(closing);
  }

  /**
   * `query` (lazy: it starts when awaited) with the call deadline: past it the caller's promise
   * rejects with StoreUnavailableError. A query still waiting for a connection is cancelled (it
   * never runs); one already sent is on a connection that does not answer, which no API can
   * name, so the whole pool is replaced (`retire`).
   */
  private bounded<Q extends SQL.Query<unknown>>(query: Q, pool: SQL): Q {
    const limitMs = this.deadlineMs;
    if (limitMs === undefined) return query;
    return withDeadline(query, limitMs, () => {
      if (query.active) return this.retire(pool);
      try {
        query.cancel();
      } catch {
        // settled meanwhile: nothing to stop
      }
    });
  }

  /**
   * `pool.begin([options,] fn)` with a deadline that moves with the transaction's progress: the
   * call deadline until `fn` is called (a connection, BEGIN), then statement timeout + margin
   * from each statement's start and end (following a statement timeout the transaction sets
   * itself: `set_config('statement_timeout', …, true)`, `SET [LOCAL] statement_timeout`; 0: none),
   * and for COMMIT. Past it, the call rejects with StoreUnavailableError, the pool is replaced,
   * and the transaction can no longer commit: a later statement of it throws, and so does the
   * end of `fn`, which rolls it back.
   */
  private async begin<T>(options: string | undefined, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const pool = this.pool;
    const statementLimitMs = this.statementLimitMs;
    if (this.deadlineMs === undefined || statementLimitMs === undefined) {
      return (await (options === undefined ? pool.begin(fn as SQL.TransactionContextCallback<T>) : pool.begin(options, fn as SQL.TransactionContextCallback<T>))) as T;
    }
    let expired = false;
    const tooLate = () => new StoreUnavailableError(`the database did not answer within ${this.deadlineMs} ms`);
    return await new Promise<T>((resolve, reject) => {
      const deadline = new Deadline(this.deadlineMs!, () => {
        expired = true;
        reject(tooLate());
        this.retire(pool);
      });
      let limitMs = statementLimitMs; // Infinity when the transaction turns its statement timeout off
      const body = async (tx: Tx): Promise<T> => {
        if (expired) throw tooLate(); // a connection came after all: do nothing, roll back
        deadline.extend(limitMs);
        const watched = watchTransaction(tx, {
          starting(text, values) {
            if (expired) throw tooLate();
            const set = statementTimeoutSet(text, values);
            if (set !== undefined) limitMs = set > 0 ? set + DEADLINE_MARGIN_MS : Number.POSITIVE_INFINITY;
          },
          progress: () => deadline.extend(limitMs),
        });
        const result = await fn(watched);
        if (expired) throw tooLate(); // answered 503 already: never commit it
        deadline.extend(statementLimitMs); // COMMIT
        return result;
      };
      const begun = options === undefined ? pool.begin(body) : pool.begin(options, body);
      begun.then(
        (value) => {
          deadline.clear();
          resolve(value as T);
        },
        (error) => {
          deadline.clear();
          reject(error);
        },
      );
    });
  }

  /**
   * `pool.reserve()` waiting at most the call deadline; each statement on the connection then
   * has statement timeout + margin, past which the connection is closed (not returned to the
   * pool) and the statement rejects with StoreUnavailableError.
   */
  private async reserve(pool: SQL): Promise<ReservedSQL> {
    const limitMs = this.deadlineMs;
    const statementLimitMs = this.statementLimitMs;
    if (limitMs === undefined || statementLimitMs === undefined) return await pool.reserve();
    let connection: ReservedSQL;
    try {
      connection = await pool.reserve({ signal: AbortSignal.timeout(limitMs) });
    } catch (error) {
      if ((error as Error)?.name === 'TimeoutError') throw new StoreUnavailableError(`no database connection within ${limitMs} ms`);
      throw error;
    }
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      connection.close({ timeout: 0 }).catch(() => {});
    };
    const guard = <Q extends SQL.Query<unknown>>(query: Q): Q => withDeadline(query, statementLimitMs, drop);
    return new Proxy(connection, {
      apply: (target, self, args) => guard(Reflect.apply(target as unknown as (...a: unknown[]) => SQL.Query<unknown>, self, args)),
      get: (target, prop) => {
        if (prop === 'unsafe') return (text: string, values?: unknown[]) => guard(target.unsafe(text, values));
        if (prop === 'release') return () => (dropped ? Promise.resolve() : target.release());
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /**
   * Gives up on `pool` (a call on it ran past its deadline): new calls go to a new pool at once;
   * the old one closes in the background, letting calls that still get answers finish within a
   * statement's limit, then dropping every connection (a transaction on one is rolled back by
   * the server). Once per pool.
   */
  private retire(pool: SQL): void {
    if (pool !== this.pool) return;
    this.stats.poolsReplaced++;
    this.pool = new SQL(this.poolOptions);
    this.facade = this.facadeOf(this.pool);
    this.retiring.add(pool);
    const graceS = Math.ceil((this.statementLimitMs ?? 0) / 1000);
    pool
      .close({ timeout: graceS })
      .catch(() => {})
      .finally(() => this.retiring.delete(pool));
  }

  /** `db.sql`: `pool` with the deadlines of `unsafe`, `transaction` and `reserve`. */
  private facadeOf(pool: SQL): SQL {
    return new Proxy(pool, {
      apply: (target, self, args) => this.bounded(Reflect.apply(target as unknown as (...a: unknown[]) => SQL.Query<unknown>, self, args), pool),
      get: (target, prop) => {
        switch (prop) {
          case 'unsafe':
            return (text: string, values?: unknown[]) => this.bounded(target.unsafe(text, values), pool);
          case 'begin':
            return (a: unknown, b?: unknown) => (typeof a === 'function' ? this.begin(undefined, a as (tx: Tx) => Promise<unknown>) : this.begin(a as string, b as (tx: Tx) => Promise<unknown>));
          case 'reserve':
            return () => this.reserve(pool);
          default: {
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          }
        }
      },
    });
  }
}

/**
 * A deadline that can move later without a new timer each time: when the timer fires before
 * the (moved) deadline it sleeps the rest. `extend(Infinity)` suspends it until the next finite
 * `extend`. `onExpire` runs once.
 */
class Deadline {
  private at: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private done = false;

  constructor(
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.at = performance.now() + ms;
    this.timer = setTimeout(this.check, ms);
  }

  /** The deadline is now `ms` from now. */
  extend(ms: number): void {
    if (this.done) return;
    this.at = performance.now() + ms;
    if (this.timer === undefined && Number.isFinite(ms)) this.timer = setTimeout(this.check, ms);
  }

  clear(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.done) return;
    if (!Number.isFinite(this.at)) return; // suspended: the next finite extend arms it again
    const left = this.at - performance.now();
    if (left > 1) {
      this.timer = setTimeout(this.check, left);
      return;
    }
    this.done = true;
    this.onExpire();
  };
}

/**
 * `query` whose `then` (where a lazy query starts) races it against a deadline of `limitMs`:
 * past it, the awaiting caller gets StoreUnavailableError and `onExpire` runs (the query's own
 * later outcome is dropped). The query object itself is returned, so `.simple()` and the rest
 * still work before it is awaited.
 */
function withDeadline<Q extends SQL.Query<unknown>>(query: Q, limitMs: number, onExpire: () => void): Q {
  const then = query.then;
  let raced: Promise<unknown> | undefined;
  const race = () =>
    new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new StoreUnavailableError(`the database did not answer within ${limitMs} ms`));
        onExpire();
      }, limitMs);
      then.call(
        query,
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  Object.defineProperty(query, 'then', {
    configurable: true,
    writable: true,
    value(onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
      raced ??= race();
      return raced.then(onFulfilled, onRejected);
    },
  });
  return query;
}

/**
 * `tx` with every statement reported: `starting` before it is made (it may throw, refusing it),
 * `progress` when it starts and when it settles.
 */
function watchTransaction(tx: Tx, watch: { starting(text: string, values: unknown[] | undefined): void; progress(): void }): Tx {
  const watched = <Q extends SQL.Query<unknown>>(query: Q): Q => {
    const then = query.then;
    Object.defineProperty(query, 'then', {
      configurable: true,
      writable: true,
      value(onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
        watch.progress();
        return then.call(
          query,
          (value: unknown) => {
            watch.progress();
            return onFulfilled ? onFulfilled(value) : value;
          },
          (reason: unknown) => {
            watch.progress();
            if (onRejected) return onRejected(reason);
            throw reason;
          },
        );
      },
    });
    return query;
  };
  return new Proxy(tx, {
    apply(target, self, args) {
      watch.starting(String((args[0] as TemplateStringsArray | undefined)?.join?.('$') ?? ''), undefined);
      return watched(Reflect.apply(target as unknown as (...a: unknown[]) => SQL.Query<unknown>, self, args));
    },
    get(target, prop) {
      if (prop === 'unsafe') {
        return (text: string, values?: unknown[]) => {
          watch.starting(text, values);
          return watched(target.unsafe(text, values));
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The statement timeout (ms) that `text` sets for the rest of its transaction, when it is one of
 * `set_config('statement_timeout', v, …)` or `SET [LOCAL] statement_timeout …`; undefined otherwise.
 */
export function statementTimeoutSet(text: string, values: unknown[] | undefined): number | undefined {
  if (!/statement_timeout/i.test(text)) return undefined;
  const call = /set_config\s*\(\s*'statement_timeout'\s*,\s*(?:'([^']*)'|\$(\d+))/i.exec(text);
  if (call) return durationMs(call[1] ?? String(values?.[Number(call[2]) - 1] ?? ''));
  const set = /^\s*SET\s+(?:LOCAL\s+|SESSION\s+)?statement_timeout\s*(?:=|TO)\s*'?([^';\s]+)'?/i.exec(text);
  if (set) return set[1].toUpperCase() === 'DEFAULT' ? undefined : durationMs(set[1]);
  return undefined;
}

/** A PostgreSQL duration setting in ms (`5000`, `5000ms`, `5s`, `1min`, `1h`, `1d`); undefined when unreadable. */
export function durationMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms').toLowerCase() as 'ms'];
  return Number(match[1]) * unit;
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
  /** Pools replaced because a call on one ran past its deadline (the database stopped answering). */
  poolsReplaced = 0;

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
