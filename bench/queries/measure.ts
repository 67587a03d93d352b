/**
 * Times one matrix row on both sides and checks they agree.
 *
 * Both sides are HTTP servers spoken to with the same client code: the body POSTed with
 * `fetch` to 127.0.0.1 (`accept-encoding: identity`, so neither side compresses), one request at
 * a time, timed from send to the last byte of the reply; the reply must be 200.
 *
 * - SQLite over HTTP (sqlite-server.ts, its own process): runs Prefect's statement for the row
 *   (prefect-sql.ts) and answers Prefect's JSON — what a Prefect user would have without Python.
 *   Its figure is the one the targets use.
 * - artifactd: the built server. A request still running at the cap is aborted (the row reports
 *   "> cap") and the server restarted (see `Server`), so a capped row cannot slow the next one;
 *   a 503 (the server's own --query-timeout) counts as the cap too.
 * - SQL only (for reference): the same statement prepared once in this process and run fetching
 *   every row as objects (`all()`), no HTTP, no serialisation.
 *
 * Samples adapt to the row's speed: a first, unrecorded run says how long the row takes; under
 * 50 ms it is followed by 7 timed runs, under 500 ms by 5, and from 500 ms by 2 more with the
 * first one counted (3 in all). A side stops sampling once it has spent 3 × the cap and has at
 * least one sample. The figure is the median.
 *
 * SQL only goes first, then SQLite over HTTP, then artifactd, whose cap for the row is the larger
 * of the run's cap and 1.5 × SQLite-over-HTTP's first run: past both, the row has missed its
 * target whatever the exact figure, so the cap never turns a pass into "> cap".
 *
 * Agreement: counts must be equal. Pages are checked id by id, in order, on every sort, against
 * a second statement (run once, untimed) that is Prefect's with its ORDER BY extended by
 * artifactd's documented tie-break (prefect-sql.ts, TOTAL_ORDER), so ties Prefect leaves to the
 * database cannot hide or fake a difference; `ties` notes rows where Prefect's own order gave a
 * different page. SQLite-over-HTTP's answer must equal the in-process one. A row that differs is
 * still reported, marked.
 *
 * Target class: "touch" when SQLite's plan must visit every row of the table — a count whose
 * outer table is scanned, a list that scans it without an index or sorts with a temporary
 * b-tree, or a walk of the sort's index that found fewer rows than the page holds (so it walked
 * to the end) — or when the matrix fixed it (like_); otherwise "index" (an index lookup, or a
 * walk of the sort's index that stopped once the page was full).
 */
import type { Database, Statement } from 'bun:sqlite';
import type { Row } from './matrix.ts';
import { prefectSql, type Columns } from './prefect-sql.ts';

export interface Timing {
  /** median ms, or undefined when the first run hit the cap */
  ms?: number;
  samples: number[];
  capped: boolean;
}

export interface RowResult {
  row: Row;
  /** the cap artifactd's requests had for this row (ms) */
  capMs: number;
  artifactd: Timing;
  /** SQLite over HTTP (sqlite-server.ts): the figure the targets compare with */
  sqlite: Timing;
  /** SQLite in this process, no HTTP: for reference */
  sqlOnly: Timing;
  /** what each side answered: a count, or the number of rows */
  artifactdAnswer?: number;
  sqliteAnswer: number;
  differs?: string;
  /** Prefect's one-column ORDER BY gave another page than the total order the check uses */
  ties?: boolean;
  error?: string;
  cls: 'index' | 'touch';
  plan: string;
  replyBytes?: number;
  sqliteReplyBytes?: number;
}

export interface Budget {
  /** per-request cap in ms */
  capMs: number;
}

/**
 * The server under test. A request aborted at the cap leaves the server working on it (a
 * synchronous query cannot be interrupted), which would slow every row after it for as long as
 * it still runs — possibly minutes at 1M. So a capped row ends with `restart()`: the process is
 * killed (SIGKILL, by its pid; nothing is written to the store during the matrix) and started
 * again on the same store, which bounds a capped row's cost to the cap plus a start.
 */
export interface Server {
  readonly url: string;
  restart(): Promise<void>;
}

/** Both servers of a row: artifactd, and SQLite over HTTP (restarted if a request to it times out). */
export interface Servers {
  artifactd: Server;
  sqlite: Server;
}

async function sample(run: () => Promise<number> | number, { capMs }: Budget): Promise<Timing> {
  const probe = await run();
  if (probe >= capMs) return { samples: [probe], capped: true };
  const samples: number[] = [];
  let extra: number;
  if (probe < 50) extra = 7;
  else if (probe < 500) extra = 5;
  else {
    samples.push(probe);
    extra = 2;
  }
  const budget = 3 * capMs;
  let spent = probe;
  for (let i = 0; i < extra && (samples.length === 0 || spent < budget); i++) {
    const t = await run();
    spent += t;
    if (t >= capMs) return { samples: [...samples, t], capped: true };
    samples.push(t);
  }
  return { ms: median(samples), samples, capped: false };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** SQLite's plan, one line: the outer table's access and any temp b-tree. */
function planOf(db: Database, sql: string, params: unknown[]): { plan: string; cls: 'index' | 'touch' | 'walk' } {
  const steps = db.query(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as never[])) as { id: number; parent: number; detail: string }[];
  const top = steps.filter((s) => s.parent === 0).map((s) => s.detail);
  const outer = top.find((d) => /^(SCAN|SEARCH) (artifact|artifact_collection)\b/.test(d)) ?? top[0] ?? '';
  const sorts = top.some((d) => d.startsWith('USE TEMP B-TREE FOR ORDER BY'));
  const scans = outer.startsWith('SCAN');
  const isCount = /^SELECT count\(/.test(sql);
  // 'walk': the sort's index is walked until the page is full, which visits every row only if
  // fewer rows than the page match (decided once the answer is known).
  const cls = !scans ? 'index' : isCount || sorts || !/USING (COVERING )?INDEX/.test(outer) ? 'touch' : 'walk';
  const text = [outer, ...top.filter((d) => d !== outer && !d.startsWith('CORRELATED'))]
    .join('; ')
    .replace(/sqlite_autoindex_(\w+)_1/g, '$1 pk')
    .replace(/\s+/g, ' ');
  return { plan: text, cls };
}

export class SqliteSide {
  private readonly columnCache = new Map<string, string[]>();
  readonly columns: Columns = (table) => {
    let cols = this.columnCache.get(table);
    if (!cols) {
      cols = (this.db.query(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((r) => r.name);
      this.columnCache.set(table, cols);
    }
    return cols;
  };

  constructor(readonly db: Database) {}

  prepare(row: Row): { stmt: Statement; params: unknown[]; plan: string; cls: 'index' | 'touch' | 'walk'; sql: string } {
    const { sql, params } = prefectSql(row.route, row.body, this.columns);
    const plan = planOf(this.db, sql, params);
    return { stmt: this.db.prepare(sql), params, sql, ...plan };
  }

  /** The page in the total order (artifactd's tie-break), for the check: its ids in order. */
  checkIds(row: Row): string[] {
    const { sql, params } = prefectSql(row.route, row.body, this.columns, { total: true });
    const stmt = this.db.prepare(sql);
    try {
      return (stmt.all(...(params as never[])) as { id: string }[]).map((r) => r.id);
    } finally {
      stmt.finalize();
    }
  }
}

/** Runs the row's statement; returns [ms, rows]. */
function runSql(stmt: Statement, params: unknown[]): [number, unknown[]] {
  const t0 = performance.now();
  const rows = stmt.all(...(params as never[]));
  return [performance.now() - t0, rows];
}

/** The request both sides get: same client, same headers, nothing compressed. */
export const REQUEST_HEADERS = { 'content-type': 'application/json', 'accept-encoding': 'identity' } as const;

export async function post(url: string, route: string, body: string, timeoutMs: number): Promise<{ ms: number; status: number; bytes: Uint8Array }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/artifacts/${route}`, {
    method: 'POST',
    body,
    headers: REQUEST_HEADERS,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  const encoding = res.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') throw new Error(`${url} answered with content-encoding ${encoding} to accept-encoding: identity`);
  return { ms, status: res.status, bytes };
}

/** Waits (up to 2 min) until /api/health answers within 20 ms twice in a row. */
export async function settle(url: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let fast = 0;
  while (fast < 2 && Date.now() < deadline) {
    const t0 = performance.now();
    try {
      await (await fetch(`${url}/api/health`, { headers: REQUEST_HEADERS, signal: AbortSignal.timeout(5000) })).arrayBuffer();
      fast = performance.now() - t0 < 20 ? fast + 1 : 0;
    } catch {
      fast = 0;
    }
    if (fast < 2) await Bun.sleep(50);
  }
}

function answerOf(route: string, rows: unknown[]): number {
  return route.endsWith('count') ? (rows[0] as { count_1: number }).count_1 : rows.length;
}

const isTimeout = (e: unknown) => (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The ids of a page reply, or the count. */
function replyAnswer(bytes: Uint8Array, isCount: boolean): { answer: number; ids?: string[] } {
  const reply = JSON.parse(text(bytes)) as number | { id: string }[];
  if (isCount) return { answer: reply as number };
  const ids = (reply as { id: string }[]).map((r) => r.id);
  return { answer: ids.length, ids };
}

/** Where two id lists first differ, in words; undefined when equal. */
function idsDiffer(got: string[], want: string[]): string | undefined {
  if (got.length !== want.length) return `${got.length} rows, SQLite ${want.length}`;
  const at = got.findIndex((id, i) => id !== want[i]);
  if (at === -1) return undefined;
  const asSets = new Set(got).size === new Set([...got, ...want]).size;
  return `same ${got.length} rows${asSets ? ' as a set' : ''}, ids differ from position ${at + 1}${asSets ? ' (order)' : ''}`;
}

export async function measureRow(row: Row, servers: Servers, sqlite: SqliteSide, budget: Budget): Promise<RowResult> {
  const body = JSON.stringify(row.body);
  const prepared = sqlite.prepare(row);
  const isCount = row.route.endsWith('count');

  // SQL only: in process, for reference.
  let sqlRows: unknown[] = [];
  const sqlOnly = await sample(() => {
    const [ms, rows] = runSql(prepared.stmt, prepared.params);
    sqlRows = rows;
    return ms;
  }, budget);
  prepared.stmt.finalize();
  const sqliteAnswer = answerOf(row.route, sqlRows);
  const prefectIds = isCount ? undefined : (sqlRows as { id: string }[]).map((r) => r.id);
  sqlRows = [];

  let error: string | undefined;
  const fail = (e: unknown) => {
    error ??= (e as Error).message;
  };

  // SQLite over HTTP. Never aborted below a generous timeout: SQLite finishes every row.
  const sqliteTimeout = Math.max(60_000, 20 * sqlOnly.samples[0]);
  let sqliteLast: Uint8Array | undefined;
  let sqliteTiming: Timing = { samples: [], capped: false };
  try {
    sqliteTiming = await sample(async () => {
      const r = await post(servers.sqlite.url, row.route, body, sqliteTimeout);
      if (r.status !== 200) throw new Error(`SQLite server: HTTP ${r.status}: ${text(r.bytes).slice(0, 200)}`);
      sqliteLast = r.bytes;
      return r.ms;
    }, budget);
  } catch (e) {
    if (isTimeout(e)) {
      fail(new Error(`SQLite server: no answer within ${sqliteTimeout / 1000} s`));
      await servers.sqlite.restart();
    } else fail(e);
  }
  let sqliteHttp: { answer: number; ids?: string[] } | undefined;
  if (sqliteLast) {
    sqliteHttp = replyAnswer(sqliteLast, isCount);
    const d = isCount ? (sqliteHttp.answer === sqliteAnswer ? undefined : `${sqliteHttp.answer}`) : idsDiffer(sqliteHttp.ids!, prefectIds!);
    if (d) fail(new Error(`SQLite over HTTP answered otherwise than in process: ${d}`));
  }

  const capMs = Math.max(budget.capMs, 1.5 * (sqliteTiming.samples[0] ?? sqlOnly.samples[0]));

  // artifactd
  let last: { status: number; bytes: Uint8Array } | undefined;
  let artifactd: Timing = { samples: [], capped: false };
  if (!error) {
    try {
      artifactd = await sample(async () => {
        try {
          const r = await post(servers.artifactd.url, row.route, body, capMs);
          last = r;
          // 503: the server stopped the query at its own --query-timeout, i.e. past any cap here.
          if (r.status === 503) return Math.max(capMs, r.ms);
          if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${text(r.bytes).slice(0, 200)}`);
          return r.ms;
        } catch (e) {
          if (isTimeout(e)) return capMs;
          throw e;
        }
      }, { capMs });
    } catch (e) {
      fail(e);
      artifactd = { samples: [], capped: false };
    }
    if (artifactd.capped) await servers.artifactd.restart();
  }

  let artifactdAnswer: number | undefined;
  let differs: string | undefined;
  let ties: boolean | undefined;
  if (last && last.status === 200 && !artifactd.capped && !error) {
    const got = replyAnswer(last.bytes, isCount);
    artifactdAnswer = got.answer;
    if (isCount) {
      if (got.answer !== sqliteAnswer) differs = `artifactd ${got.answer}, SQLite ${sqliteAnswer}`;
    } else {
      const want = sqlite.checkIds(row);
      ties = want.join() !== prefectIds!.join();
      differs = idsDiffer(got.ids!, want);
    }
  }
  return {
    row,
    capMs,
    artifactd,
    sqlite: sqliteTiming,
    sqlOnly,
    artifactdAnswer,
    sqliteAnswer,
    differs,
    ties,
    error,
    cls: row.touch || (prepared.cls === 'walk' && sqliteAnswer < (row.body.limit ?? 200)) ? 'touch' : prepared.cls === 'walk' ? 'index' : prepared.cls,
    plan: prepared.plan,
    replyBytes: last?.bytes.byteLength,
    sqliteReplyBytes: sqliteLast?.byteLength,
  };
}

/**
 * Before the first timed row: a server's code paths are still cold (the first requests run
 * unoptimised), which would land on whichever rows come first. Sends the artifact-level rows
 * (cheap at any size) round-robin for `seconds`, unrecorded.
 */
export async function warmUp(url: string, rows: Row[], seconds: number): Promise<void> {
  const cheap = rows.filter((r) => r.filter === 'none' || r.filter.startsWith('a.'));
  const deadline = performance.now() + seconds * 1000;
  for (let i = 0; cheap.length && performance.now() < deadline; i++) {
    const row = cheap[i % cheap.length];
    try {
      await post(url, row.route, JSON.stringify(row.body), 2000);
    } catch {
      // a slow one is skipped; the warm-up is best effort
    }
  }
  await settle(url);
}

/** The median of 200 sequential `GET /api/health`: the HTTP round trip every figure includes. */
export async function healthFloor(url: string): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    await (await fetch(`${url}/api/health`, { headers: REQUEST_HEADERS })).arrayBuffer();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}
