/**
 * The `/api/events/in` websocket against a real listening server (`startServer`, loopback, port
 * 0) on every backend, as shared/spec/reference/flow-runs/README.md describes Prefect's protocol:
 * legacy mode (3.0/3.1: no subprotocol, permessage-deflate accepted) and the `prefect`
 * subprotocol with its auth handshake (3.8), pongs for checkpoints, events stored and task runs
 * made from them (in any order, resent or not), frames that are not Events ending only their own
 * connection without a close frame, many sockets at once, auth on and off, a shutdown that closes
 * the sockets and keeps what they sent, and two recordings' websocket sessions replayed frame by
 * frame.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LmdbStore } from '../../src/store/lmdb/store.ts';
import { describeBackends } from '../backends.ts';
import { COMPLETED, PENDING, RETRYING, RUNNING, plainEvent, taskRunEvent } from './event-builders.ts';
import { EventSocket, rawUpgrade, startSocketServer, type SocketServer } from './socket-server.ts';

const RECORDINGS = fileURLToPath(new URL('../reference/flow-runs/', import.meta.url));
const ABNORMAL = 1006; // the connection ended without a close frame

function readRecording(file: string): any[] {
  return readFileSync(RECORDINGS + file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** A flow run on `server` for task-run events to belong to (the recorder skips runs of unknown flow runs). */
async function newFlowRun(server: SocketServer, flowName = 'f'): Promise<string> {
  const flow = await server.api('POST', '/flows/', { name: flowName });
  const run = await server.api('POST', '/flow_runs/', { flow_id: flow.body.id });
  expect(run.status).toBe(201);
  return run.body.id;
}

const eventsTotal = (server: SocketServer, filter: unknown) =>
  server.api('POST', '/events/filter', { filter, limit: 0 }).then((r) => r.body.total as number);

const ALL_TIME = { since: '2000-01-01T00:00:00Z', until: '2100-01-01T00:00:00Z' };
const byResource = (ids: string[]) => ({ occurred: ALL_TIME, resource: { id: ids } });
const byId = (events: { id: string }[]) => ({ occurred: ALL_TIME, id: { id: events.map((e) => e.id) } });

describeBackends('/api/events/in', (backend) => {
  let server: SocketServer;
  beforeAll(async () => {
    server = await startSocketServer(backend);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('handshakes', () => {
    test('legacy mode (3.0/3.1): no subprotocol, permessage-deflate with a 4 KiB client window, a pong per ping, close 1000 echoed', async () => {
      const socket = await EventSocket.open(server.eventsIn);
      expect(socket.protocol).toBe('');
      expect(socket.extensions).toContain('permessage-deflate');
      expect(socket.extensions).toContain('client_max_window_bits=12');
      await socket.checkpoint();
      const sent = [plainEvent(1), plainEvent(1)];
      for (const e of sent) socket.send(e);
      await socket.checkpoint();
      expect(await socket.close(1000)).toEqual({ code: 1000, reason: '' });
      expect(socket.messages).toEqual([]); // the server sends nothing but pongs and close frames
      expect(await server.until(() => eventsTotal(server, byResource(sent.map((e) => e.resource['prefect.resource.id']))), (n) => n === 2)).toBe(2);
    });

    test('legacy mode without compression offered', async () => {
      const socket = await EventSocket.open(server.eventsIn, { deflate: false });
      expect(socket.extensions).toBe('');
      const e = plainEvent(1);
      socket.send(e);
      await socket.checkpoint();
      await socket.close();
      expect(await server.until(() => eventsTotal(server, byResource([e.resource['prefect.resource.id']])), (n) => n === 1)).toBe(1);
    });

    test('`prefect` subprotocol (3.8): the auth message answered {"type":"auth_success"} (token null without an auth string), then events', async () => {
      const socket = await EventSocket.open(server.eventsIn, { protocols: ['prefect'] });
      expect(socket.protocol).toBe('prefect');
      await socket.checkpoint(); // 3.8.3 pings before it authenticates
      socket.send({ type: 'auth', token: null });
      expect(await socket.nextMessage()).toBe('{"type":"auth_success"}');
      const e = plainEvent(1);
      socket.send(e);
      await socket.checkpoint();
      expect((await socket.close()).code).toBe(1000);
      expect(await server.until(() => eventsTotal(server, byResource([e.resource['prefect.resource.id']])), (n) => n === 1)).toBe(1);
    });

    test('`prefect` among other subprotocols is chosen; a token is ignored when the server has no auth string', async () => {
      const socket = await EventSocket.open(server.eventsIn, { protocols: ['other', 'prefect'] });
      expect(socket.protocol).toBe('prefect');
      socket.send({ type: 'auth', token: 'anything' });
      expect(await socket.nextMessage()).toBe('{"type":"auth_success"}');
      await socket.close();
    });

    test("`prefect` subprotocol, a first message that is not auth: close 1008 \"Expected 'auth' message\"", async () => {
      const socket = await EventSocket.open(server.eventsIn, { protocols: ['prefect'] });
      socket.send(plainEvent(1));
      expect(await socket.ended).toEqual({ code: 1008, reason: "Expected 'auth' message" });
    });

    test('`prefect` subprotocol, an auth message that is not JSON: dropped without a close frame', async () => {
      const socket = await EventSocket.open(server.eventsIn, { protocols: ['prefect'] });
      socket.send('{"type": "auth"');
      expect((await socket.ended).code).toBe(ABNORMAL);
    });

    test('the other websockets of Prefect 3.0.0 are answered 501 at the upgrade', async () => {
      for (const path of ['/api/events/out', '/api/logs/out']) {
        const answer = await rawUpgrade(server.url + path);
        expect(answer.status).toBe(501);
        expect(JSON.parse(answer.body).detail).toContain('not served');
      }
    });
  });

  describe('task runs from events', () => {
    test('a task’s events, out of order and one resent, make its run: latest state, run_count, tags, times', async () => {
      const flowRun = await newFlowRun(server);
      const task = crypto.randomUUID();
      const t0 = Date.now() - 60_000;
      const iso = (ms: number) => new Date(ms).toISOString();
      const pending = taskRunEvent(task, flowRun, PENDING, t0);
      const running = taskRunEvent(task, flowRun, RUNNING, t0 + 10, { start_time: iso(t0 + 10) });
      const retrying = taskRunEvent(task, flowRun, RETRYING, t0 + 20, { start_time: iso(t0 + 10), run_count: 2 });
      const completed = taskRunEvent(task, flowRun, COMPLETED, t0 + 30, { start_time: iso(t0 + 10), end_time: iso(t0 + 30), run_count: 2, total_run_time: 0.02, tags: ['etl', 'critical'] });
      const socket = await EventSocket.open(server.eventsIn);
      for (const e of [pending, completed, running, retrying, pending, completed]) socket.send(e);
      await socket.checkpoint();
      await socket.close();
      const run = await server.until(
        () => server.api('GET', `/task_runs/${task}`),
        (r) => r.status === 200 && r.body.state_id === completed.id,
      );
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({
        id: task,
        flow_run_id: flowRun,
        name: 'work-1',
        state_id: completed.id,
        state_type: 'COMPLETED',
        state_name: 'Completed',
        run_count: 2,
        tags: ['etl', 'critical'],
        total_run_time: 0.02,
        state: { id: completed.id, type: 'COMPLETED', name: 'Completed', message: '', state_details: { task_run_id: task, flow_run_id: flowRun } },
      });
      expect(Date.parse(run.body.start_time)).toBe(t0 + 10);
      expect(Date.parse(run.body.end_time)).toBe(t0 + 30);
      expect(Date.parse(run.body.state.timestamp)).toBe(t0 + 30);
      const listed = await server.api('POST', '/task_runs/filter', { flow_runs: { id: { any_: [flowRun] } } });
      expect(listed.body.map((t: any) => t.id)).toEqual([task]);
      expect(await eventsTotal(server, byResource([`prefect.task-run.${task}`]))).toBe(4); // the resent two stored once
    });

    test('task runs of many tasks over several sockets, each run’s events on one socket', async () => {
      const flowRun = await newFlowRun(server);
      const tasks = Array.from({ length: 12 }, () => crypto.randomUUID());
      const sockets = await Promise.all([0, 1, 2].map(() => EventSocket.open(server.eventsIn)));
      const t0 = Date.now() - 60_000;
      tasks.forEach((task, i) => {
        const socket = sockets[i % 3];
        // One task key, so each call needs its own dynamic key (a flow run's task runs are unique by both).
        const run = { dynamic_key: String(i) };
        socket.send(taskRunEvent(task, flowRun, PENDING, t0 + i, run));
        socket.send(taskRunEvent(task, flowRun, RUNNING, t0 + i + 100, run));
        if (i % 2 === 0) socket.send(taskRunEvent(task, flowRun, COMPLETED, t0 + i + 200, run));
      });
      await Promise.all(sockets.map((s) => s.checkpoint()));
      await Promise.all(sockets.map((s) => s.close()));
      const body = { flow_runs: { id: { any_: [flowRun] } } };
      const runs = await server.until(
        () => server.api('POST', '/task_runs/filter', body).then((r) => r.body as any[]),
        (rows) => rows.length === 12 && rows.filter((r) => r.state_type === 'COMPLETED').length === 6,
      );
      expect(runs).toHaveLength(12);
      for (const run of runs) expect(run.state_type).toBe(tasks.indexOf(run.id) % 2 === 0 ? 'COMPLETED' : 'RUNNING');
    });
  });

  describe('frames that are not Events', () => {
    const bad: [string, (socket: EventSocket) => void][] = [
      ['not JSON', (s) => s.send('{"occurred": ')],
      ['JSON but not an event', (s) => s.send({ hello: 'world' })],
      ['an event without a resource id', (s) => s.send(plainEvent(1, { resource: { name: 'x' } }))],
      ['a binary frame', (s) => s.ws.send(new Uint8Array([1, 2, 3]))],
    ];
    for (const [what, sendBad] of bad) {
      test(`${what}: that connection is dropped without a close frame, after the events before it were taken; others carry on`, async () => {
        const other = await EventSocket.open(server.eventsIn);
        const socket = await EventSocket.open(server.eventsIn);
        const before = plainEvent(1);
        socket.send(before);
        sendBad(socket);
        socket.send(plainEvent(1)); // after the bad frame: not taken
        expect((await socket.ended).code).toBe(ABNORMAL);
        const after = plainEvent(1);
        other.send(after);
        await other.checkpoint();
        expect(other.ws.readyState).toBe(WebSocket.OPEN);
        await other.close();
        const ids = [before, after].map((e) => e.resource['prefect.resource.id']);
        expect(await server.until(() => eventsTotal(server, byResource(ids)), (n) => n === 2)).toBe(2);
        expect(server.warnings.some((w) => w.startsWith('/api/events/in: connection dropped'))).toBe(true);
      });
    }
  });

  test('a checkpoint every 700 events, as the client does: each answered, every event stored', async () => {
    const socket = await EventSocket.open(server.eventsIn);
    const resource = `test.checkpoint.${crypto.randomUUID()}`;
    for (let i = 0; i < 2100; i++) {
      socket.send(plainEvent(1, { resource: { 'prefect.resource.id': resource } }));
      if ((i + 1) % 700 === 0) await socket.checkpoint();
    }
    await socket.close();
    expect(await server.until(() => eventsTotal(server, byResource([resource])), (n) => n === 2100)).toBe(2100);
  });

  test('50 sockets at once, legacy and `prefect` alternating, 40 events and a checkpoint each', async () => {
    const resource = `test.many.${crypto.randomUUID()}`;
    const sockets = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? EventSocket.open(server.eventsIn) : EventSocket.authenticated(server.eventsIn))));
    await Promise.all(
      sockets.map(async (socket) => {
        for (let i = 0; i < 40; i++) socket.send(plainEvent(1, { resource: { 'prefect.resource.id': resource } }));
        await socket.checkpoint();
      }),
    );
    expect(sockets.every((s) => s.ws.readyState === WebSocket.OPEN)).toBe(true);
    await Promise.all(sockets.map((s) => s.close()));
    expect(await server.until(() => eventsTotal(server, byResource([resource])), (n) => n === 2000)).toBe(2000);
  });

  describe('recorded sessions replayed frame by frame', () => {
    /**
     * Replays the websocket frames of a recording: the recorded flow runs are created here first
     * (the server assigns flow-run ids, so the frames' ids are mapped to ours), then each frame as
     * the client sent it — the `prefect` handshake when the upgrade offered it, each event, a
     * checkpoint where the client pinged, close 1000 at the end.
     */
    async function replay(file: string) {
      const records = readRecording(file);
      const runs = new Map<string, string>();
      for (const r of records) {
        if (r.kind === 'http' && r.method === 'POST' && r.path === '/api/flow_runs/' && r.resp_body?.id) runs.set(r.resp_body.id, await newFlowRun(server, r.resp_body.name ?? 'f'));
      }
      const map = (text: string) => [...runs].reduce((t, [recorded, ours]) => t.replaceAll(recorded, ours), text);
      const upgrade = records.find((r) => r.kind === 'http' && r.path === '/api/events/in');
      const prefect = upgrade.req_headers['sec-websocket-protocol'] === 'prefect';
      const socket = await EventSocket.open(server.eventsIn, prefect ? { protocols: ['prefect'] } : {});
      const sent: any[] = [];
      for (const r of records) {
        if (r.kind !== 'ws' || r.dir !== 'client->server') continue;
        if (r.opcode === 'ping') await socket.checkpoint();
        else if (r.opcode === 'close') expect((await socket.close(r.close_code)).code).toBe(r.close_code);
        else if (r.opcode === 'text' && r.data.type === 'auth') {
          socket.send(r.data);
          expect(await socket.nextMessage()).toBe('{"type":"auth_success"}');
        } else if (r.opcode === 'text') {
          const event = JSON.parse(map(JSON.stringify(r.data)));
          socket.send(event);
          sent.push(event);
        }
      }
      return { runs, sent, flowRun: [...runs.values()][0] };
    }

    const FIELDS = ['name', 'task_key', 'dynamic_key', 'tags', 'state_id', 'state_type', 'state_name', 'run_count', 'flow_run_run_count', 'empirical_policy', 'task_inputs'];
    const TIMES = ['expected_start_time', 'start_time', 'end_time'];

    test('Prefect 3.1.4 running f2.py (legacy mode): the task runs Prefect 3.0.0 held after that run', async () => {
      const { runs, sent } = await replay('prefect-3.1.4__prefect-3.0.0-server__f2.jsonl');
      const expected = (JSON.parse(readFileSync(`${RECORDINGS}prefect-3.1.4__prefect-3.0.0-server__f2.task_runs-after-run.json`, 'utf8')).task_runs as any[]).filter(
        (t) => !t.name.startsWith('child-'), // made through POST /api/task_runs/, not replayed here
      );
      expect(expected.map((t) => t.name.split('-')[0]).sort()).toEqual(['flaky', 'tagged']);
      for (const want of expected) {
        const got = await server.until(
          () => server.api('GET', `/task_runs/${want.id}`),
          (r) => r.status === 200 && r.body.state_id === want.state_id,
        );
        expect(got.status).toBe(200);
        for (const field of FIELDS) expect([want.name, field, got.body[field]]).toEqual([want.name, field, want[field]]);
        for (const field of TIMES) expect([want.name, field, got.body[field]]).toEqual([want.name, field, want[field]]);
        expect(got.body.total_run_time).toBeCloseTo(want.total_run_time, 6);
        expect(got.body.flow_run_id).toBe(runs.get(want.flow_run_id)!);
        expect(got.body.state).toMatchObject({ id: want.state.id, type: want.state.type, name: want.state.name, timestamp: want.state.timestamp, message: want.state.message });
      }
      const taskEvents = sent.filter((e) => e.event.startsWith('prefect.task-run.'));
      expect(taskEvents).toHaveLength(7);
      expect(await eventsTotal(server, byId(sent))).toBe(sent.length);
    });

    test('Prefect 3.8.3 running f2.py (`prefect` subprotocol, heartbeats and artifact events too): flaky ran twice, tagged kept its tags', async () => {
      const { flowRun, sent } = await replay('prefect-3.8.3__artifactd-with-stand-ins__f2__client-side-only.jsonl');
      const runs = await server.until(
        () => server.api('POST', '/task_runs/filter', { flow_runs: { id: { any_: [flowRun] } }, sort: 'EXPECTED_START_TIME_DESC' }).then((r) => r.body as any[]),
        (rows) => rows.length === 2 && rows.every((r) => r.state_type === 'COMPLETED'),
      );
      const byName = Object.fromEntries(runs.map((r) => [r.name.split('-')[0], r]));
      expect(byName.flaky).toMatchObject({ state_type: 'COMPLETED', state_name: 'Completed', run_count: 2, tags: [], labels: {} });
      const last = (name: string) => sent.filter((e) => e.resource['prefect.resource.name'] === byName[name].name).at(-1);
      expect(byName.tagged).toMatchObject({ state_type: 'COMPLETED', run_count: 1, tags: ['critical', 'etl'] }); // as 3.8.3 sends them
      expect(byName.tagged.tags).toEqual(last('tagged').payload.task_run.tags);
      expect(byName.flaky.state_id).toBe(last('flaky').id);
      expect(byName.tagged.state_id).toBe(last('tagged').id);
      expect(await eventsTotal(server, byId(sent))).toBe(sent.length);
      expect(sent.some((e) => e.event === 'prefect.flow-run.heartbeat')).toBe(true);
    });
  });
});

describe('/api/events/in with basic auth (--auth-string)', () => {
  const AUTH = 'admin:s3cret';
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  let server: SocketServer;
  beforeAll(async () => {
    server = await startSocketServer('lmdb', { authString: AUTH });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('`prefect` subprotocol with the auth string as token: auth_success, events stored', async () => {
    const socket = await EventSocket.authenticated(server.eventsIn, AUTH, { headers: { authorization: basic(AUTH) } });
    const e = plainEvent(1);
    socket.send(e);
    await socket.checkpoint();
    await socket.close();
    expect(await server.until(() => eventsTotal(server, byResource([e.resource['prefect.resource.id']])), (n) => n === 1)).toBe(1);
  });

  test('the token decides, as on Prefect 3.8: no header needed', async () => {
    const socket = await EventSocket.authenticated(server.eventsIn, AUTH);
    await socket.close();
  });

  const refusals: [string, unknown, string][] = [
    ['a wrong token', { type: 'auth', token: 'admin:wrong' }, 'Invalid token'],
    ['no token', { type: 'auth', token: null }, 'Auth required but no token provided'],
    ['an empty token', { type: 'auth', token: '' }, 'Auth required but no token provided'],
    ['no token key', { type: 'auth' }, 'Auth required but no token provided'],
    ['another message first', { type: 'filter' }, "Expected 'auth' message"],
  ];
  for (const [what, message, reason] of refusals) {
    test(`${what}: close 1008 "${reason}", nothing taken`, async () => {
      const socket = await EventSocket.open(server.eventsIn, { protocols: ['prefect'] });
      socket.send(message);
      socket.send(plainEvent(1));
      expect(await socket.ended).toEqual({ code: 1008, reason });
      expect(socket.messages).toEqual([]);
    });
  }

  test('legacy mode (no subprotocol) is refused at the upgrade, 403, as Prefect 3.8 refuses it when auth is configured', async () => {
    const answer = await rawUpgrade(server.eventsIn);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ detail: "'prefect' subprotocol required when auth is configured" });
    expect((await rawUpgrade(server.eventsIn, { authorization: basic('admin:wrong') })).status).toBe(403);
    await expect(EventSocket.open(server.eventsIn)).rejects.toThrow();
  });

  test('legacy mode with the REST routes’ valid Basic credentials on the upgrade is accepted', async () => {
    const socket = await EventSocket.open(server.eventsIn, { headers: { authorization: basic(AUTH) } });
    expect(socket.protocol).toBe('');
    const e = plainEvent(1);
    socket.send(e);
    await socket.checkpoint();
    await socket.close();
    expect(await server.until(() => eventsTotal(server, byResource([e.resource['prefect.resource.id']])), (n) => n === 1)).toBe(1);
  });
});

describe('/api/events/in and a stopping server', () => {
  test('stop closes the sockets with 1001 and writes every event it read, every checkpointed one among them', async () => {
    const server = await startSocketServer('lmdb');
    const socket = await EventSocket.open(server.eventsIn);
    for (let i = 0; i < 500; i++) socket.send(plainEvent(1));
    await socket.checkpoint(); // the client now forgets these 500: they must survive the stop
    for (let i = 0; i < 300; i++) socket.send(plainEvent(1)); // not confirmed: the client would resend them
    await server.stop({ keepData: true });
    expect(await socket.ended).toEqual({ code: 1001, reason: 'Server shutting down' });
    const store = LmdbStore.open(server.dir);
    try {
      const { events } = await store.counts();
      expect(events).toBeGreaterThanOrEqual(500);
      expect(events).toBeLessThanOrEqual(800);
    } finally {
      await store.close();
      rmSync(server.dir, { recursive: true, force: true });
    }
  });

  test('an upgrade while the server is stopping is refused', async () => {
    const server = await startSocketServer('lmdb');
    const socket = await EventSocket.open(server.eventsIn);
    const stopping = server.stop();
    await socket.ended;
    await stopping;
    await expect(EventSocket.open(server.eventsIn)).rejects.toThrow();
  });
});
