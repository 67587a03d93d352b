/**
 * SQLite served over HTTP, the way a Prefect user without Python would have it: the query
 * matrix's SQLite side, so that both sides of a row pay a loopback HTTP round trip and JSON
 * serialisation. `bun sqlite-server.ts DB_FILE` opens the loaded copy (load-sqlite.ts) with
 * Prefect's per-connection pragmas, listens on 127.0.0.1 (a free port, printed as
 * `sqlite-server listening on PORT`) and answers what Prefect 3.0.0's routes answer:
 *
 * - `POST /api/artifacts/filter` and `/api/artifacts/latest/filter`: a JSON array of the rows
 *   shaped as Prefect's `Artifact` / `ArtifactCollection` objects (the same field names, in the
 *   same order, as artifactd's replies; timestamps as ISO-8601 UTC with microseconds;
 *   `data` and `metadata_` written as the JSON text stored in their columns, as is);
 * - `POST /api/artifacts/count` and `/api/artifacts/latest/count`: the integer;
 * - `GET /api/health`: `true`.
 *
 * Each request runs the statement Prefect issues for the body (prefect-sql.ts), prepared the
 * first time that route and body text are seen and reused after (SQLAlchemy caches its compiled
 * statements too); the body is otherwise not validated. Replies are never compressed. Only
 * loopback, only reads; one statement at a time (bun:sqlite is synchronous), like artifactd's
 * one thread.
 */
import { Database, type Statement } from 'bun:sqlite';
import { applyPrefectPragmas } from './load-sqlite.ts';
import { prefectSql, ROUTES, type Route } from './prefect-sql.ts';

type Rec = Record<string, string | number | null>;

/** Prefect's `Timestamp` on SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`) as the API writes it. */
function isoTime(t: string | number | null): string {
  if (t === null) return 'null';
  const s = String(t);
  return `"${s.slice(0, 10)}T${s.endsWith('.000000') ? s.slice(11, 19) : s.slice(11)}Z"`;
}

const str = (v: string | number | null) => JSON.stringify(v);
/** A JSON column's stored text, written into the reply as is (SQL NULL as null). */
const raw = (v: string | number | null) => (v === null ? 'null' : String(v));

/** One row as Prefect's Artifact (or, with `latest_id`, ArtifactCollection) object. */
export function rowJson(r: Rec, collection: boolean): string {
  return (
    `{"id":${str(r.id)},"created":${isoTime(r.created)},"updated":${isoTime(r.updated)},"key":${str(r.key)},` +
    (collection ? `"latest_id":${str(r.latest_id)},` : '') +
    `"type":${str(r.type)},"description":${str(r.description)},"data":${raw(r.data)},"metadata_":${raw(r.metadata_)},` +
    `"flow_run_id":${str(r.flow_run_id)},"task_run_id":${str(r.task_run_id)}}`
  );
}

export function serve(file: string): ReturnType<typeof Bun.serve> {
  const db = new Database(file);
  applyPrefectPragmas(db);
  const columnCache = new Map<string, string[]>();
  const columns = (table: string) => {
    let cols = columnCache.get(table);
    if (!cols) {
      cols = (db.query(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((r) => r.name);
      columnCache.set(table, cols);
    }
    return cols;
  };
  const statements = new Map<string, { stmt: Statement; params: unknown[] }>();
  const statement = (route: Route, text: string) => {
    const cacheKey = `${route}\n${text}`;
    let s = statements.get(cacheKey);
    if (!s) {
      if (statements.size >= 1000) {
        for (const old of statements.values()) old.stmt.finalize();
        statements.clear();
      }
      const { sql, params } = prefectSql(route, JSON.parse(text || '{}'), columns);
      s = { stmt: db.prepare(sql), params };
      statements.set(cacheKey, s);
    }
    return s;
  };
  const json = (text: string, status = 200) => new Response(text, { status, headers: { 'content-type': 'application/json' } });

  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === 'GET' && path === '/api/health') return json('true');
      const route = path.startsWith('/api/artifacts/') ? (path.slice('/api/artifacts/'.length) as Route) : undefined;
      if (req.method !== 'POST' || !route || !ROUTES.includes(route)) return json('{"detail":"Not Found"}', 404);
      try {
        const { stmt, params } = statement(route, await req.text());
        const rows = stmt.all(...(params as never[])) as Rec[];
        if (route.endsWith('count')) return json(String(rows[0].count_1));
        const collection = route.startsWith('latest');
        let out = '[';
        for (let i = 0; i < rows.length; i++) out += (i ? ',' : '') + rowJson(rows[i], collection);
        return json(`${out}]`);
      } catch (error) {
        return json(JSON.stringify({ exception_message: (error as Error).message }), 500);
      }
    },
  });
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: bun bench/queries/sqlite-server.ts DB_FILE');
  const server = serve(file);
  console.log(`sqlite-server listening on ${server.port}`);
}
