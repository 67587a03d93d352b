/**
 * The ingest ceiling: a bare `Bun.serve` doing the least a server must do with the same traffic —
 * `POST /api/logs/` reads and `JSON.parse`s the body and answers 201 `null`; `/api/events/in`
 * upgrades (legacy mode, no subprotocol; permessage-deflate when started with `--deflate`, to
 * match what artifactd negotiated) and `JSON.parse`s every text frame, keeping each event's
 * `occurred` and id; `POST /api/events/filter` answers `{"events":[],"total":N,"next_page":null}`
 * with the events received in the body's `occurred` window (or among its `id.id` list), so the bench's client verifies it like
 * artifactd. No validation, no store: what Bun's HTTP and websocket servers and the load clients
 * can do on this machine, which the bench reports artifactd's figures against.
 *
 *   bun bench/ingest/ceiling.ts [--deflate]     # prints "… serving the Prefect API at http://127.0.0.1:PORT/api"
 */
export {}; // a module, not a script (its names are its own)

const deflate = process.argv.includes('--deflate');

/** µs since the epoch of an ISO-8601 UTC time with up to 6 fraction digits. */
function micros(text: string): number {
  const dot = text.indexOf('.', 19);
  const base = Date.parse(`${text.slice(0, 19)}Z`) * 1000;
  if (dot === -1) return base;
  const digits = text.slice(dot + 1).replace(/[^0-9].*$/, '');
  return base + Number(digits.padEnd(6, '0').slice(0, 6));
}

const occurred: number[] = [];
const ids = new Set<string>();
let logRecords = 0;

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === '/api/events/in') {
      if (srv.upgrade(req)) return undefined;
      return new Response('upgrade required', { status: 426 });
    }
    if (req.method === 'POST' && url.pathname === '/api/logs/') {
      const body = (await req.json()) as unknown[];
      logRecords += body.length;
      return new Response('null', { status: 201, headers: { 'content-type': 'application/json' } });
    }
    if (req.method === 'POST' && url.pathname === '/api/events/filter') {
      const body = (await req.json()) as { filter?: { occurred?: { since?: string; until?: string }; id?: { id?: string[] } } };
      const wanted = body.filter?.id?.id;
      const since = body.filter?.occurred?.since ? micros(body.filter.occurred.since) : -Infinity;
      const until = body.filter?.occurred?.until ? micros(body.filter.occurred.until) : Infinity;
      let total = 0;
      if (wanted) for (const id of wanted) total += ids.has(id) ? 1 : 0;
      else for (const t of occurred) if (t >= since && t <= until) total++;
      return Response.json({ events: [], total, next_page: null });
    }
    if (url.pathname === '/api/health') return Response.json(true);
    if (url.pathname === '/counts') return Response.json({ logs: logRecords, events: occurred.length });
    return new Response('not found', { status: 404 });
  },
  websocket: {
    perMessageDeflate: deflate,
    message(_ws, message) {
      const event = JSON.parse(typeof message === 'string' ? message : new TextDecoder().decode(message)) as { occurred: string; id: string };
      occurred.push(micros(event.occurred));
      ids.add(event.id);
    },
  },
});

// The line artifactd prints, so bench/server.ts's startListeningCommand can start this one too.
console.log(`ingest ceiling: serving the Prefect API at http://127.0.0.1:${server.port}/api`);
process.on('SIGTERM', () => {
  void server.stop(true);
  process.exit(0);
});
