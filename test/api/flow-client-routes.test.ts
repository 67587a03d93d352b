/**
 * The routes a Prefect client calls while running tasks and flows besides the resources'
 * own, answered as a Prefect server with nothing configured: the concurrency-limit slots (v1
 * for 3.0/3.1 clients, v2 and leases for 3.8; 200 `[]`, `{"lease_id", "limits": []}`, 204),
 * their validation in Prefect's 422 shape, 501 for managing limits, `/admin/storage`; and two
 * details of routes the recordings exercise: `POST /api/task_runs/` with a JSON body and no
 * Content-Type (3.0/3.1 clients; checked on the wire too) and `POST /api/flow_runs/filter` by
 * `parent_task_run_id` (3.8 sub-flows).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { DEFAULTS } from '../../src/config.ts';
import { describeBackends } from '../backends.ts';
import { tempDir } from '../helpers.ts';
import { freshHarness } from './fresh-harness.ts';
import { creators } from './companions.ts';
import { UUID_RE, expectReply, issues } from './expect.ts';

const TASK_RUN = '01a24d17-59bf-7a1c-ab46-177194d37944';

describe('concurrency limits, as a server with none configured', () => {
  const h = freshHarness();

  test('v1 increment and decrement (3.0/3.1 clients, tagged tasks): 200 []', async () => {
    expectReply(await h.call('POST', '/api/concurrency_limits/increment', { names: ['etl', 'critical'], task_run_id: TASK_RUN }), 200, []);
    expectReply(await h.call('POST', '/api/concurrency_limits/decrement', { names: ['etl', 'critical'], task_run_id: TASK_RUN, occupancy_seconds: 0.12 }), 200, []);
    expectReply(await h.call('POST', '/api/concurrency_limits/increment', { names: [], task_run_id: TASK_RUN }), 200, []);
  });

  test('v1 validation: both parameters required, Prefect’s 422', async () => {
    const none = issues(await h.call('POST', '/api/concurrency_limits/increment', {}), {});
    expect(none).toEqual([
      { type: 'missing', loc: ['body', 'names'], msg: 'Field required', input: null },
      { type: 'missing', loc: ['body', 'task_run_id'], msg: 'Field required', input: null },
    ]);
    const bad = issues(await h.call('POST', '/api/concurrency_limits/decrement', { names: 'etl', task_run_id: 'x' }));
    expect(bad.map((d: any) => [d.type, d.loc])).toEqual([
      ['list_type', ['body', 'names']],
      ['uuid_parsing', ['body', 'task_run_id']],
    ]);
    expect(issues(await h.call('POST', '/api/concurrency_limits/increment', [])).map((d: any) => d.loc)).toEqual([
      ['body', 'names'],
      ['body', 'task_run_id'],
    ]);
  });

  test('v2 increment-with-lease (3.8 clients, tagged tasks): 200 with a new lease and no limits; decrement-with-lease and renew 204', async () => {
    const body = { names: ['tag:critical', 'tag:etl'], slots: 1, mode: 'concurrency', lease_duration: 60, holder: { type: 'task_run', id: TASK_RUN } };
    const first = await h.call('POST', '/api/v2/concurrency_limits/increment-with-lease', body);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(['lease_id', 'limits']);
    expect(first.body.lease_id).toMatch(UUID_RE);
    expect(first.body.limits).toEqual([]);
    const second = await h.call('POST', '/api/v2/concurrency_limits/increment-with-lease', { names: ['x'], slots: 2 });
    expect(second.body.lease_id).not.toBe(first.body.lease_id);
    const lease = first.body.lease_id;
    const renew = await h.call('POST', `/api/v2/concurrency_limits/leases/${lease}/renew`, { lease_duration: 300 });
    expect(renew.status).toBe(204);
    expect(renew.text).toBe('');
    expect((await h.call('POST', `/api/v2/concurrency_limits/leases/${lease}/renew`)).status).toBe(204);
    const release = await h.call('POST', '/api/v2/concurrency_limits/decrement-with-lease', { lease_id: lease });
    expect(release.status).toBe(204);
  });

  test('v2 increment and decrement (the concurrency() context manager): 200 []', async () => {
    expectReply(await h.call('POST', '/api/v2/concurrency_limits/increment', { names: ['db'], slots: 1, mode: 'rate_limit', create_if_missing: null }), 200, []);
    expectReply(await h.call('POST', '/api/v2/concurrency_limits/decrement', { names: ['db'], slots: 1, occupancy_seconds: 1.5 }), 200, []);
  });

  test('v2 validation: slots > 0, at least one name, the mode, lease duration 60 s to a day, the holder, the lease id', async () => {
    const cases: [string, unknown, [string, (string | number)[]][]][] = [
      ['/increment-with-lease', {}, [['missing', ['body', 'slots']], ['missing', ['body', 'names']]]],
      ['/increment-with-lease', { slots: 0, names: [] }, [['greater_than', ['body', 'slots']], ['too_short', ['body', 'names']]]],
      ['/increment-with-lease', { slots: 1, names: ['a'], lease_duration: 59 }, [['greater_than_equal', ['body', 'lease_duration']]]],
      ['/increment-with-lease', { slots: 1, names: ['a'], lease_duration: 86_401 }, [['less_than_equal', ['body', 'lease_duration']]]],
      ['/increment-with-lease', { slots: 1, names: ['a'], mode: 'fast' }, [['enum', ['body', 'mode']]]],
      ['/increment-with-lease', { slots: 1, names: ['a'], holder: { type: 'user', id: TASK_RUN } }, [['enum', ['body', 'holder', 'type']]]],
      ['/increment-with-lease', { slots: 1, names: ['a'], holder: { type: 'task_run', id: TASK_RUN, x: 1 } }, [['extra_forbidden', ['body', 'holder', 'x']]]],
      ['/increment', { slots: 1.5, names: ['a'] }, [['int_from_float', ['body', 'slots']]]],
      ['/decrement', { slots: 1, names: ['a'], occupancy_seconds: 0 }, [['greater_than', ['body', 'occupancy_seconds']]]],
      ['/decrement-with-lease', {}, [['missing', ['body', 'lease_id']]]],
      ['/decrement-with-lease', { lease_id: 'x' }, [['uuid_parsing', ['body', 'lease_id']]]],
      ['/leases/x/renew', {}, [['uuid_parsing', ['path', 'lease_id']]]],
      [`/leases/${TASK_RUN}/renew`, { lease_duration: 1 }, [['greater_than_equal', ['body', 'lease_duration']]]],
    ];
    for (const [path, body, expected] of cases) {
      const detail = issues(await h.call('POST', `/api/v2/concurrency_limits${path}`, body));
      expect([path, detail.map((d: any) => [d.type, d.loc])]).toEqual([path, expected]);
    }
  });

  test('managing limits answers 501 in Prefect’s detail shape', async () => {
    const routes: [string, string][] = [
      ['POST', '/api/concurrency_limits/'],
      ['GET', `/api/concurrency_limits/${TASK_RUN}`],
      ['GET', '/api/concurrency_limits/tag/etl'],
      ['POST', '/api/concurrency_limits/filter'],
      ['POST', '/api/concurrency_limits/tag/etl/reset'],
      ['DELETE', `/api/concurrency_limits/${TASK_RUN}`],
      ['DELETE', '/api/concurrency_limits/tag/etl'],
      ['POST', '/api/v2/concurrency_limits/'],
      ['GET', '/api/v2/concurrency_limits/db'],
      ['POST', '/api/v2/concurrency_limits/filter'],
      ['PATCH', '/api/v2/concurrency_limits/db'],
      ['DELETE', '/api/v2/concurrency_limits/db'],
    ];
    for (const [method, path] of routes) {
      const reply = await h.call(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect([method, path, reply.status]).toEqual([method, path, 501]);
      expect(Object.keys(reply.body)).toEqual(['detail']);
      expect(reply.body.detail).toContain('not supported by this server');
    }
  });
});

describe('/api/admin/storage', () => {
  const h = freshHarness();
  test('GET: no default result storage; DELETE: 204; PUT: 501', async () => {
    expectReply(await h.call('GET', '/api/admin/storage'), 200, { default_result_storage_block_id: null });
    const cleared = await h.call('DELETE', '/api/admin/storage');
    expect(cleared.status).toBe(204);
    const set = await h.call('PUT', '/api/admin/storage', { default_result_storage_block_id: TASK_RUN });
    expect(set.status).toBe(501);
    expect((await h.call('GET', '/api/admin/storage', undefined, { 'x-prefect-api-version': 'bad' })).status).toBe(400);
  });
});

describeBackends('sub-flow lookups', (backend) => {
  const h = freshHarness({}, backend);
  const { flow, flowRun, taskRun } = creators(() => h);
  test('POST /api/flow_runs/filter by parent_task_run_id, as 3.8.3 looks for an existing sub-flow run', async () => {
    const parent = await flowRun({ flow_id: (await flow('parent')).id });
    const task = await taskRun({ flow_run_id: parent.id, task_key: 'child-6190e91e', dynamic_key: '0' });
    const none = await h.call('POST', '/api/flow_runs/filter', {
      flow_runs: { parent_task_run_id: { any_: [task.id] } },
      sort: 'EXPECTED_START_TIME_DESC',
      limit: 1,
      offset: 0,
    });
    expectReply(none, 200, []);
    const child = await flowRun({ flow_id: (await flow('child')).id, parent_task_run_id: task.id });
    const found = await h.call('POST', '/api/flow_runs/filter', { flow_runs: { parent_task_run_id: { any_: [task.id] } }, sort: 'EXPECTED_START_TIME_DESC', limit: 1 });
    expect(found.body.map((r: any) => r.id)).toEqual([child.id]);
  });
});

describe('POST /api/task_runs/ with a JSON body and no Content-Type (3.0/3.1 clients)', () => {
  const h = freshHarness();
  test('through the app: parsed as JSON', async () => {
    const run = await creators(() => h).flowRun({ flow_id: (await creators(() => h).flow('f')).id });
    const request = new Request('http://127.0.0.1/api/task_runs/', { method: 'POST', body: new TextEncoder().encode(JSON.stringify({ flow_run_id: run.id, task_key: 'child-1', dynamic_key: '0' })) });
    expect(request.headers.get('content-type')).toBeNull();
    const reply = await h.app.handle(request);
    expect(reply.status).toBe(201);
    expect(((await reply.json()) as any).task_key).toBe('child-1');
  });

  describe('on the wire', () => {
    let server: RunningServer;
    let dir: string;
    beforeAll(() => {
      dir = tempDir();
      server = startServer({ ...DEFAULTS, host: '127.0.0.1', port: 0, dataDir: dir, eventRetentionMs: null });
    });
    afterAll(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** One raw HTTP/1.1 exchange, so that no client library adds a Content-Type. */
    function raw(request: string): Promise<string> {
      const { port } = new URL(server.url);
      return new Promise((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('connect', () => socket.write(request));
        socket.on('data', (d) => {
          text += d.toString();
          if (/\r\n\r\n/.test(text) && /\}$/.test(text.trim())) socket.end();
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
    }

    test('201, as Prefect 3.0.0 answered it', async () => {
      const api = (path: string, body: unknown) =>
        fetch(`${server.url}/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as any);
      const run = await api('/flow_runs/', { flow_id: (await api('/flows/', { name: 'f' })).id });
      const body = JSON.stringify({ name: 'child-0', flow_run_id: run.id, task_key: 'child-6190e91e', dynamic_key: '0', empirical_policy: {}, tags: [], task_inputs: { y: [] } });
      const answer = await raw(
        `POST /api/task_runs/ HTTP/1.1\r\nHost: 127.0.0.1\r\naccept: */*\r\nx-prefect-api-version: 0.8.4\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      expect(answer).toStartWith('HTTP/1.1 201');
      expect(answer).not.toMatch(/\r\ncontent-type: (?!application\/json)/i);
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, ''));
      expect(json).toMatchObject({ name: 'child-0', flow_run_id: run.id, task_key: 'child-6190e91e' });
    });
  });
});
