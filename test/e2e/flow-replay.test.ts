/**
 * Issue 14's acceptance test: a real Prefect flow runs against artifactd without one error.
 *
 * The recorded client traffic of shared/spec/reference/flow-runs — Prefect 3.0.11, 3.1.4 and
 * 3.8.3 running `flows/f.py` and `flows/f2.py`, HTTP and the `/api/events/in` websocket — is
 * replayed (replay.ts) against a real artifactd process: the built executable when ARTIFACTD_BIN
 * is set, src/main.ts otherwise; one process per backend (LMDB on a temporary data dir; PostgreSQL
 * on a throwaway database of the test cluster when this machine has PostgreSQL), the six
 * recordings one after the other into it (their data is disjoint: other flow runs, task runs,
 * events and artifacts; only the flows `demo`, `parent` and `child` are shared, so a later
 * `POST /api/flows/` answers 200 with the existing flow, as Prefect does).
 *
 * For each recording it asserts:
 * - every answer is one the client needs: no 404, no 5xx, the recorded status where Prefect (or
 *   the 3.8.3 recordings' stand-in for it) answered (`POST /api/flows/` 200 or 201; the 422 of
 *   `GET /api/csrf-token`, 200 for the 404s an older artifactd gave `GET /api/admin/storage`),
 *   with the bodies the client reads (`[]` from the v1 concurrency routes, `limits: []` from
 *   increment-with-lease, ACCEPT from set_state, `null` from `POST /api/logs/`);
 * - the websocket session works: 101 (subprotocol `prefect` and `auth_success` for 3.8.3, legacy
 *   mode for 3.0/3.1), a pong for each ping, every event frame sent, close 1000 echoed;
 * - every flow run it created ends COMPLETED (the top-level one and the sub-flow);
 * - read back through the API: the task runs of those flow runs (`POST /api/task_runs/filter`)
 *   are exactly the ones the `prefect.task-run.*` events describe plus the sub-flow's parent task
 *   run, in the state, name, tags, counts and times of each run's latest event (`flaky`
 *   run_count 2, `tagged` tags etl/critical, `child-0` following the sub-flow to COMPLETED); for
 *   the 3.1.4 f2 run, the same fields as Prefect 3.0.0 held after that run
 *   (`…f2.task_runs-after-run.json`); the logs (`POST /api/logs/filter`) are the recorded
 *   `POST /api/logs/` records, same count and messages; the events (`POST /api/events/filter`
 *   on the runs' resources) include every recorded event id; the artifacts are the ones created,
 *   by count and key (and the progress artifact holds its last update).
 *
 * Time: the replays use `timeShift: 'now'` — each client timestamp (events' `occurred`, logs'
 * `timestamp`, the task-run times in event payloads) moved by whole seconds so that the latest is
 * just before the replay, as it was when the client sent it. Without that, the recordings' dates
 * would age out of the event filter's default range and any retention the server applies, and
 * the test would start failing months from now. Expected values are shifted the same way.
 *
 * Waits: task runs and events may be written after the websocket frame is taken; the reads poll
 * (bounded, 60 s at most) until the expected rows are there, then assert. No timing is asserted.
 *
 * First, the replayer itself is checked against a stand-in server that keeps what arrives: the
 * recorded routes in order, `Content-Type` exactly as recorded (absent on 3.0.11's
 * `POST /api/task_runs/`), no id or run name of the recorded server left unrewritten, the
 * upgrade's subprotocol/extensions/user agent, every event frame in order (compressed where the
 * client compressed).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync, rmSync } from 'node:fs';
import { BACKENDS, type Backend } from '../backends.ts';
import { tempDir } from '../helpers.ts';
import { freshDatabase } from '../postgres/cluster.ts';
import { startServer, type Server } from './cli-run.ts';
import {
  asReplayed,
  CLIENT_GENERATIONS,
  loadRecording,
  RECORDINGS_DIR,
  replay,
  type ExchangeResult,
  type RecordedHttp,
  type RecordedWs,
  type Recording,
  type ReplaySummary,
} from './replay.ts';

const TEST_TIMEOUT = 180_000;
const READ_BACK_MS = 60_000;

// --- servers, one per backend --------------------------------------------------------------------

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const servers = new Map<Backend, Promise<{ server: Server; output: () => string }>>();

function serverFor(backend: Backend) {
  let started = servers.get(backend);
  if (!started) {
    started = (async () => {
      let args: string[];
      if (backend === 'lmdb') {
        const dir = tempDir('artifactd-replay-');
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        args = ['--data-dir', dir];
      } else {
        const db = await freshDatabase('flow_replay');
        cleanups.push(() => db.drop());
        args = ['--database-url', db.url];
      }
      const server = await startServer([...args, '--log-level', 'warning']);
      cleanups.push(() => server.stop());
      // Read both streams to their end, so a chatty server never blocks on a full pipe; kept for failures.
      let output = '';
      for (const stream of [server.proc.stdout, server.proc.stderr]) {
        void (async () => {
          const decoder = new TextDecoder();
          for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
        })().catch(() => {});
      }
      return { server, output: () => output };
    })();
    servers.set(backend, started);
  }
  return started;
}

// --- what the recording says ---------------------------------------------------------------------

type Json = Record<string, any>;

const AFTER_RUN = 'prefect-3.1.4__prefect-3.0.0-server__f2.task_runs-after-run.json';

/** A timestamp as µs-precision ISO text in UTC, whatever its writer's format (Z or +00:00, 0-6 digits). */
function instant(text: string | null | undefined): string | null {
  if (text == null) return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return `unparsed:${text}`;
  const seconds = new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return `${seconds}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
}

interface Expected {
  events: Json[];
  logs: Json[];
  artifactPosts: Json[];
  progressPatches: Json[];
  /** Per task run made from events: its latest event (by state timestamp). */
  latestTaskRunEvent: Map<string, Json>;
  wsTextFrames: number;
  wsPings: number;
  usesAuth: boolean;
}

/** What the client sent in the recording, as the replay sent it (ids, names and times rewritten). */
function expectedFrom(recording: Recording, summary: ReplaySummary): Expected {
  const steps = asReplayed(recording.steps, summary);
  const http = steps.filter((s): s is RecordedHttp => s.kind === 'http');
  const frames = steps.filter((s): s is RecordedWs => s.kind === 'ws' && s.dir === 'client->server');
  const texts = frames.filter((f) => f.opcode === 'text').map((f) => f.data as Json);
  const events = texts.filter((d) => typeof d.event === 'string');
  const latestTaskRunEvent = new Map<string, Json>();
  for (const e of events) {
    if (!e.event.startsWith('prefect.task-run.') || e.resource['prefect.orchestration'] !== 'client') continue;
    const id = String(e.resource['prefect.resource.id']).replace(/^prefect\.task-run\./, '');
    const before = latestTaskRunEvent.get(id);
    if (!before || instant(before.occurred)! < instant(e.occurred)!) latestTaskRunEvent.set(id, e);
  }
  return {
    events,
    logs: http.filter((s) => s.method === 'POST' && s.path === '/api/logs/').flatMap((s) => s.req_body as Json[]),
    artifactPosts: http.filter((s) => s.method === 'POST' && s.path === '/api/artifacts/').map((s) => s.req_body as Json),
    progressPatches: http.filter((s) => s.method === 'PATCH' && s.path.startsWith('/api/artifacts/')).map((s) => s.req_body as Json),
    latestTaskRunEvent,
    wsTextFrames: texts.length,
    wsPings: frames.filter((f) => f.opcode === 'ping').length,
    usesAuth: texts.some((d) => d.type === 'auth'),
  };
}

// --- statuses ------------------------------------------------------------------------------------

const route = (e: ExchangeResult) => `${e.method} ${e.recordedPath.split('?')[0].replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}')}`;

/** The statuses a client is fine with for this exchange (see the opening comment). */
function wantedStatuses(e: ExchangeResult): number[] {
  if (e.websocketUpgrade) return [101];
  const r = route(e);
  if (r === 'GET /api/csrf-token') return [422, 200];
  if (r === 'POST /api/flows/') return [201, 200];
  if (r === 'GET /api/admin/storage') return [200]; // recorded 404: an older artifactd's gap
  return [e.recordedStatus];
}

/** Bodies the client reads, where the route answers something fixed. */
function bodyProblem(e: ExchangeResult): string | null {
  const r = route(e);
  const body = e.body as any;
  const same = (want: unknown) => (Bun.deepEquals(body, want) ? null : `body ${JSON.stringify(body)}, want ${JSON.stringify(want)}`);
  if (r === 'GET /api/admin/version') return typeof body === 'string' ? null : `body ${JSON.stringify(body)}, want a version string`;
  if (r === 'GET /api/admin/storage') return same({ default_result_storage_block_id: null });
  if (r === 'POST /api/concurrency_limits/increment' || r === 'POST /api/concurrency_limits/decrement') return same([]);
  if (r === 'POST /api/v2/concurrency_limits/increment-with-lease') {
    return body && typeof body.lease_id === 'string' && Bun.deepEquals(body.limits, []) ? null : `body ${JSON.stringify(body)}, want {lease_id, limits: []}`;
  }
  if (r === 'POST /api/logs/') return same(null);
  if (r === 'POST /api/flow_runs/{id}/set_state') return body?.status === 'ACCEPT' ? null : `status ${JSON.stringify(body?.status)}, want ACCEPT`;
  if (r === 'POST /api/flow_runs/filter') return same([]);
  return null;
}

function exchangeProblems(summary: ReplaySummary): string[] {
  const problems: string[] = [];
  for (const e of summary.exchanges) {
    const wanted = wantedStatuses(e);
    const where = `seq ${e.seq} ${e.method} ${e.recordedPath}`;
    if (!wanted.includes(e.status) || e.status === 404 || e.status >= 500) {
      problems.push(`${where}: ${e.status} (want ${wanted.join(' or ')}; recorded ${e.recordedStatus})${e.error ? ` ${e.error}` : ''} ${JSON.stringify(e.body)?.slice(0, 300)}`);
      continue;
    }
    const body = bodyProblem(e);
    if (body) problems.push(`${where}: ${body}`);
  }
  return problems;
}

// --- reading back --------------------------------------------------------------------------------

/** Retries `check` (which throws until satisfied) for up to READ_BACK_MS; the last failure is rethrown. */
async function eventually<T>(check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + READ_BACK_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(Math.min(1000, 100 * (attempt + 1)));
    }
  }
}

async function post(server: Server, path: string, body: unknown): Promise<any> {
  const reply = await server.call('POST', path, body);
  if (reply.status !== 200) throw new Error(`POST /api${path} ${JSON.stringify(body)}: ${reply.status} ${reply.text.slice(0, 500)}`);
  return reply.body;
}

async function readEvents(server: Server, filter: Json): Promise<Json[]> {
  const events: Json[] = [];
  let page: any = await post(server, '/events/filter', { filter, limit: 50 });
  for (let pages = 0; pages < 100; pages++) {
    expect(Array.isArray(page?.events)).toBe(true);
    events.push(...page.events);
    if (!page.next_page) break;
    const next = new URL(page.next_page, server.base);
    const reply = await fetch(`${server.base}${next.pathname}${next.search}`);
    if (reply.status !== 200) throw new Error(`GET ${next.pathname}${next.search}: ${reply.status} ${(await reply.text()).slice(0, 300)}`);
    page = await reply.json();
  }
  return events;
}

// --- the replayer itself, against a stand-in that records what arrives ----------------------------

describe('replay.ts sends what the client sent', () => {
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

  /** A Prefect-like stand-in: new ids for what is created, Prefect 3.8.3's events/in; keeps every request and frame. */
  function standIn() {
    const requests: { method: string; path: string; headers: Record<string, string>; body: string }[] = [];
    const frames: { protocol: string | null; text: string }[] = [];
    const upgrades: Record<string, string>[] = [];
    let runs = 0;
    const server = Bun.serve<{ protocol: string | null; authed: boolean }, never>({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(req, srv) {
        const url = new URL(req.url);
        if (url.pathname === '/api/events/in') {
          const protocol = req.headers.get('sec-websocket-protocol');
          upgrades.push(Object.fromEntries(req.headers));
          const headers: Record<string, string> = protocol === 'prefect' ? { 'sec-websocket-protocol': 'prefect' } : {};
          if (srv.upgrade(req, { headers, data: { protocol, authed: false } })) return undefined;
          return new Response('upgrade failed', { status: 400 });
        }
        const body = await req.text();
        requests.push({ method: req.method, path: url.pathname + url.search, headers: Object.fromEntries(req.headers), body });
        const json = body ? JSON.parse(body) : null;
        const created = (extra: Record<string, unknown>) => Response.json({ ...json, id: crypto.randomUUID(), ...extra }, { status: 201 });
        if (url.pathname === '/api/csrf-token') return Response.json({ detail: 'CSRF protection is disabled.' }, { status: 422 });
        if (req.method === 'POST' && url.pathname === '/api/flow_runs/') return created({ name: `stand-in-run-${++runs}` });
        if (req.method === 'POST' && ['/api/flows/', '/api/task_runs/', '/api/artifacts/'].includes(url.pathname)) return created({});
        if (url.pathname.endsWith('/set_state')) return Response.json({ status: 'ACCEPT', state: json.state }, { status: 201 });
        if (req.method === 'PATCH') return new Response(null, { status: 204 });
        if (url.pathname === '/api/logs/') return Response.json(null, { status: 201 });
        if (url.pathname === '/api/v2/concurrency_limits/increment-with-lease') return Response.json({ lease_id: crypto.randomUUID(), limits: [] });
        if (url.pathname === '/api/admin/storage') return Response.json({ default_result_storage_block_id: null });
        if (url.pathname === '/api/admin/version') return Response.json('3.0.0');
        if (url.pathname === '/api/flow_runs/filter') return Response.json([]);
        if (url.pathname.startsWith('/api/concurrency_limits/')) return Response.json([]);
        return Response.json({ id: url.pathname.split('/').at(-1), state_type: 'COMPLETED', state_name: 'Completed' });
      },
      websocket: {
        perMessageDeflate: true,
        message(ws, message) {
          const text = String(message);
          if (ws.data.protocol === 'prefect' && !ws.data.authed) {
            ws.data.authed = true;
            if (JSON.parse(text).type === 'auth') ws.send(JSON.stringify({ type: 'auth_success' }));
            else ws.close(1008, "Expected 'auth' message");
          }
          frames.push({ protocol: ws.data.protocol, text });
        },
      },
    });
    return { server, requests, frames, upgrades, base: `http://127.0.0.1:${server.port}` };
  }

  for (const file of [CLIENT_GENERATIONS[1], CLIENT_GENERATIONS[5]]) {
    test(file, async () => {
      const stand = standIn();
      try {
        const recording = loadRecording(`${RECORDINGS_DIR}${file}`);
        const summary = await replay(recording, `${stand.base}/api`, { timeoutMs: 30_000, readFinalStates: false });
        expect(summary.problems).toEqual([]);
        expect(summary.ok).toBe(true);
        const recordedHttp = recording.steps.filter((s): s is RecordedHttp => s.kind === 'http' && !s.websocket_upgrade);
        expect(stand.requests.map((r) => `${r.method} ${r.path.split('?')[0].replace(UUID, '{id}')}`)).toEqual(
          recordedHttp.map((s) => `${s.method} ${s.path.split('?')[0].replace(UUID, '{id}')}`),
        );
        // Content-Type exactly as recorded: present where the client sent it, absent where it did not.
        expect(stand.requests.map((r) => r.headers['content-type'] ?? null)).toEqual(recordedHttp.map((s) => s.req_headers['content-type'] ?? null));
        for (const [i, r] of stand.requests.entries()) {
          expect(r.headers['user-agent']).toBe(recordedHttp[i].req_headers['user-agent']);
          expect(r.headers['x-prefect-api-version']).toBe(recordedHttp[i].req_headers['x-prefect-api-version']);
        }
        // No id the recorded server assigned reaches our server: each was learned and rewritten.
        const assigned = Object.keys(summary.ids);
        expect(assigned.length).toBeGreaterThanOrEqual(recording.steps.filter((s) => s.kind === 'http' && s.method === 'POST' && /\/api\/(flows|flow_runs|task_runs|artifacts)\/$/.test(s.path)).length);
        const everything = JSON.stringify([stand.requests, stand.frames]);
        for (const id of assigned) if (summary.ids[id] !== id) expect(everything).not.toContain(id);
        // The run names too: the stand-in's names, not the recorded server's.
        for (const name of Object.keys(summary.names)) expect(everything).not.toMatch(new RegExp(`'${name}'|"${name}"`));
        expect(everything).toContain('stand-in-run-1');
        // The sub-flow's parent task run: created with no Content-Type (3.0/3.1) and the parent run's new id.
        const taskRun = stand.requests.find((r) => r.path === '/api/task_runs/')!;
        expect(JSON.parse(taskRun.body).flow_run_id).toBe(summary.topLevelFlowRun!.id);
        // The websocket: recorded subprotocol and extensions offered, every client text frame delivered in order.
        const upgrade = recording.steps.find((s): s is RecordedHttp => s.kind === 'http' && s.websocket_upgrade === true)!;
        expect(stand.upgrades).toHaveLength(1);
        expect(stand.upgrades[0]['sec-websocket-protocol'] ?? null).toBe(upgrade.req_headers['sec-websocket-protocol'] ?? null);
        expect(stand.upgrades[0]['sec-websocket-extensions']).toBe(upgrade.req_headers['sec-websocket-extensions']);
        expect(stand.upgrades[0]['user-agent']).toBe(upgrade.req_headers['user-agent']);
        const sent = recording.steps.filter((s): s is RecordedWs => s.kind === 'ws' && s.dir === 'client->server' && s.opcode === 'text');
        expect(stand.frames.map((f) => JSON.parse(f.text).id ?? JSON.parse(f.text).type)).toEqual(sent.map((s) => (s.data as Json).id ?? (s.data as Json).type));
        const ws = summary.websockets[0];
        expect(ws.compressedFramesSent).toBe(sent.filter((s) => s.compressed).length);
        expect(ws.serverClose?.code).toBe(1000);
      } finally {
        stand.server.stop(true);
      }
    });
  }
});

// --- the test ------------------------------------------------------------------------------------

const replays = CLIENT_GENERATIONS.map((file) => ({ file, recording: loadRecording(`${RECORDINGS_DIR}${file}`) }));

for (const backend of BACKENDS) {
  describe(`replayed Prefect flow runs [${backend}]`, () => {
    for (const { file, recording } of replays) {
      const isF2 = /__f2[._]/.test(file);
      test(
        file,
        async () => {
          const { server, output } = await serverFor(backend);
          const summary = await replay(recording, server.base, { timeShift: 'now', timeoutMs: 60_000 });
          const expected = expectedFrom(recording, summary);

          // 1. Every answer is one the client needs (the server's own output beside, should one not be).
          const problems = exchangeProblems(summary);
          if (problems.length > 0) problems.push(`server output: ${output().slice(-2000)}`);
          expect(problems).toEqual([]);
          expect(summary.exchanges).toHaveLength(recording.steps.filter((s) => s.kind === 'http').length);

          // 2. The websocket session.
          expect(summary.websockets).toHaveLength(1);
          const ws = summary.websockets[0];
          expect({ status: ws.status, acceptValid: ws.acceptValid, errors: ws.errors }).toEqual({ status: 101, acceptValid: true, errors: [] });
          expect(ws.subprotocol).toBe(expected.usesAuth ? 'prefect' : null);
          expect(ws.authSuccess).toBe(expected.usesAuth ? true : null);
          if (expected.usesAuth) expect(ws.authReply).toEqual({ type: 'auth_success' });
          expect({ pings: ws.pingsSent, pongs: ws.pongsReceived }).toEqual({ pings: expected.wsPings, pongs: expected.wsPings });
          expect(ws.textFramesSent).toBe(expected.wsTextFrames);
          expect(ws.clientClose).toEqual({ code: 1000, reason: '' });
          expect(ws.serverClose?.code).toBe(1000);
          expect(ws.closedCleanly).toBe(true);
          expect(summary.ok).toBe(true);

          // 3. The flow runs completed.
          const runs = summary.flowRuns;
          expect(runs).toHaveLength(isF2 ? 2 : 1);
          expect(summary.topLevelFlowRun?.finalState).toEqual({ type: 'COMPLETED', name: 'Completed' });
          for (const run of runs) expect({ run: run.name, state: run.finalState?.type }).toEqual({ run: run.name, state: 'COMPLETED' });
          const runIds = runs.map((r) => r.id);

          // 4. Task runs: those the events describe, plus the sub-flow's parent task run.
          const posted = summary.taskRuns; // created by POST /api/task_runs/ (child-0)
          expect(posted.map((t) => t.name)).toEqual(isF2 ? ['child-0'] : []);
          const wantIds = [...expected.latestTaskRunEvent.keys(), ...posted.map((t) => t.id)].sort();
          const taskRuns: Json[] = await eventually(async () => {
            const rows: Json[] = await post(server, '/task_runs/filter', { task_runs: { flow_run_id: { any_: runIds } }, limit: 200 });
            const byId = new Map(rows.map((r) => [r.id, r]));
            expect(rows.map((r) => r.id).sort()).toEqual(wantIds);
            // Wait for each run's latest event to be applied, too.
            for (const [id, e] of expected.latestTaskRunEvent) expect(byId.get(id)?.state?.id).toBe(e.id);
            for (const t of posted) expect(byId.get(t.id)?.state_type).toBe('COMPLETED');
            return rows;
          });
          const byId = new Map(taskRuns.map((r) => [r.id, r]));
          for (const [id, e] of expected.latestTaskRunEvent) {
            const row = byId.get(id)!;
            const tr = e.payload.task_run;
            const flowRunId = e.related.find((r: Json) => r['prefect.resource.role'] === 'flow-run')['prefect.resource.id'].replace(/^prefect\.flow-run\./, '');
            const pick = (r: Json, time: (v: string | null | undefined) => unknown) => ({
              name: r.name,
              flow_run_id: r.flow_run_id,
              task_key: r.task_key,
              dynamic_key: r.dynamic_key,
              tags: r.tags,
              run_count: r.run_count,
              flow_run_run_count: r.flow_run_run_count,
              state_type: r.state_type,
              state_name: r.state_name,
              state: { id: r.state?.id, type: r.state?.type, name: r.state?.name, timestamp: time(r.state?.timestamp) },
              expected_start_time: time(r.expected_start_time),
              start_time: time(r.start_time),
              end_time: time(r.end_time),
              total_run_time: r.total_run_time,
            });
            expect(pick(row, instant)).toEqual(
              pick(
                {
                  ...tr,
                  flow_run_id: flowRunId,
                  state_type: e.payload.validated_state.type,
                  state_name: e.payload.validated_state.name,
                  state: { id: e.id, type: e.payload.validated_state.type, name: e.payload.validated_state.name, timestamp: e.occurred },
                  start_time: tr.start_time ?? null,
                  end_time: tr.end_time ?? null,
                },
                instant,
              ),
            );
          }
          const names = taskRuns.map((r) => r.name.replace(/-[0-9a-f]{3}$/, '')).sort();
          if (isF2) {
            expect(names).toEqual(['child-0', 'flaky', 'tagged']);
            const flaky = taskRuns.find((r) => r.name.startsWith('flaky-'))!;
            expect({ state: flaky.state_type, run_count: flaky.run_count }).toEqual({ state: 'COMPLETED', run_count: 2 });
            const tagged = taskRuns.find((r) => r.name.startsWith('tagged-'))!;
            // In the order of the client's payload (3.0/3.1: etl, critical; 3.8.3: critical, etl), checked above.
            expect({ state: tagged.state_type, tags: [...tagged.tags].sort() }).toEqual({ state: 'COMPLETED', tags: ['critical', 'etl'] });
            // The sub-flow's parent task run followed the sub-flow to COMPLETED.
            const parentTask = byId.get(posted[0].id)!;
            const child = runs.find((r) => r.parentTaskRunId !== null)!;
            expect(child.parentTaskRunId).toBe(parentTask.id);
            expect(parentTask.flow_run_id).toBe(summary.topLevelFlowRun!.id);
            expect({ state_type: parentTask.state_type, state_name: parentTask.state_name, child: parentTask.state?.state_details?.child_flow_run_id }).toEqual({
              state_type: 'COMPLETED',
              state_name: 'Completed',
              child: child.id,
            });
            expect(parentTask.run_count).toBe(1);
            expect(parentTask.start_time).not.toBeNull();
            expect(parentTask.end_time).not.toBeNull();
          } else {
            expect(names).toEqual(['work', 'work', 'work']);
            for (const r of taskRuns) expect(r.state_type).toBe('COMPLETED');
          }
          if (file === 'prefect-3.1.4__prefect-3.0.0-server__f2.jsonl') {
            // What Prefect 3.0.0 held after this very run, ids mapped to ours and times shifted as replayed.
            const prefect = asReplayed(JSON.parse(readFileSync(`${RECORDINGS_DIR}${AFTER_RUN}`, 'utf8')).task_runs as Json[], summary);
            const fromEvents = (r: Json) => expected.latestTaskRunEvent.has(r.id);
            const fields = (r: Json, all: boolean) => ({
              name: r.name,
              flow_run_id: r.flow_run_id,
              task_key: r.task_key,
              dynamic_key: r.dynamic_key,
              task_version: r.task_version,
              tags: r.tags,
              task_inputs: r.task_inputs,
              state_type: r.state_type,
              state_name: r.state_name,
              run_count: r.run_count,
              flow_run_run_count: r.flow_run_run_count,
              child_flow_run_id: r.state?.state_details?.child_flow_run_id ?? null,
              // Client-computed (from the events) for event-made runs; the server's own clock for child-0.
              ...(all
                ? {
                    state_id: r.state_id,
                    expected_start_time: instant(r.expected_start_time),
                    start_time: instant(r.start_time),
                    end_time: instant(r.end_time),
                    total_run_time: r.total_run_time,
                  }
                : {}),
            });
            const ours = new Map(taskRuns.map((r) => [r.name, r]));
            for (const want of prefect) {
              const row = ours.get(want.name);
              expect(row).toBeDefined();
              if (!fromEvents(want)) {
                // child-0: Prefect's id was assigned by its server, ours by artifactd; mapped by the replay.
                expect(row!.id).toBe(want.id);
              }
              expect(fields(row!, fromEvents(want))).toEqual(fields(want, fromEvents(want)));
            }
          }

          // 5. Logs: the recorded POST /api/logs/ records, same count and messages.
          const line = (l: Json) => [l.flow_run_id, l.task_run_id ?? null, l.level, l.name, instant(l.timestamp), l.message].join(' | ');
          const wantLogs = expected.logs.map(line).sort();
          expect(wantLogs.length).toBeGreaterThan(0);
          const logs: Json[] = await eventually(async () => {
            const rows: Json[] = await post(server, '/logs/filter', { logs: { flow_run_id: { any_: runIds } }, sort: 'TIMESTAMP_ASC', limit: 200 });
            expect(rows).toHaveLength(wantLogs.length);
            return rows;
          });
          expect(logs.map(line).sort()).toEqual(wantLogs);
          const stamps = logs.map((l) => instant(l.timestamp)!);
          expect(stamps).toEqual([...stamps].sort()); // TIMESTAMP_ASC

          // 6. Events: every recorded event is there, on the runs' resources.
          const occurred = expected.events.map((e) => Date.parse(e.occurred));
          const filter = {
            any_resource: { id: runIds.map((id) => `prefect.flow-run.${id}`) },
            occurred: { since: new Date(Math.min(...occurred) - 3_600_000).toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() },
            order: 'ASC',
          };
          const events: Json[] = await eventually(async () => {
            const found = await readEvents(server, filter);
            const ids = new Set(found.map((e) => e.id));
            expect(expected.events.map((e) => e.id).filter((id) => !ids.has(id))).toEqual([]);
            return found;
          });
          const eventById = new Map(events.map((e) => [e.id, e]));
          for (const e of expected.events) {
            const got = eventById.get(e.id)!;
            expect({ event: got.event, resource: got.resource?.['prefect.resource.id'], occurred: instant(got.occurred), follows: got.follows ?? null }).toEqual({
              event: e.event,
              resource: e.resource['prefect.resource.id'],
              occurred: instant(e.occurred),
              follows: e.follows ?? null,
            });
          }

          // 7. Artifacts: the ones created, by count and key; the progress artifact holds its last update.
          const artifacts: Json[] = await post(server, '/artifacts/filter', { artifacts: { flow_run_id: { any_: runIds } }, limit: 200 });
          const key = (a: Json) => `${a.key ?? '(no key)'}:${a.type}`;
          expect(artifacts.map(key).sort()).toEqual(expected.artifactPosts.map(key).sort());
          expect(artifacts.map((a) => a.id).sort()).toEqual(summary.artifacts.map((a) => a.id).sort());
          if (expected.progressPatches.length > 0) {
            const progress = artifacts.find((a) => a.type === 'progress')!;
            expect(Number(progress.data)).toBe(Number(expected.progressPatches.at(-1)!.data));
          }

        },
        TEST_TIMEOUT,
      );
    }
  });
}
