/**
 * What the fuzz suite found, each failure shrunk to a minimal request and kept here as an
 * explicit case. Every case asserts what the properties assert: the reply satisfies the oracle
 * of `support.ts` (no 5xx, Prefect's error shapes) and the store passes `check()` afterwards.
 * Cases stay red until src/ is fixed; none of them is weakened to match current behaviour.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';
import { describeReply, describeRequest, newStats, replyProblem, type FuzzRequest } from './support.ts';
import { LiveServer, escaped, exchange, toReply } from './wire.ts';
import { describeBackends } from '../backends.ts';

describeBackends('fuzz regressions through the app', (backend) => {
  let h: Harness | undefined;
  afterEach(async () => {
    // The store may be unsound by design of the case; it was asserted already.
    if (h) {
      await h.discard();
      h = undefined;
    }
  });

  async function send(req: FuzzRequest): Promise<{ status: number; text: string; problem?: string }> {
    const headers = new Headers(req.headers);
    const init: RequestInit = { method: req.method, headers };
    if (req.body !== undefined) init.body = req.body;
    const response = await h!.app.handle(new Request(`http://127.0.0.1${req.path}`, init));
    const reply = { status: response.status, headers: response.headers, text: await response.text() };
    const problem = replyProblem(req, reply);
    return { status: reply.status, text: reply.text, problem: problem && `${problem}\n  request: ${describeRequest(req)}\n  reply:   ${describeReply(reply)}` };
  }

  const json = (method: string, path: string, body?: unknown): FuzzRequest => ({
    method,
    path,
    headers: [['content-type', 'application/json']],
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  /** Sends the request; the reply must pass the oracle and the store must stay sound. */
  async function expectSound(req: FuzzRequest) {
    const { problem } = await send(req);
    const problems = problem ? [problem] : [];
    const findings = await h!.store.check();
    if (findings.length > 0) problems.push(`store.check() after it:\n  ${findings.slice(0, 4).map((f) => (f.length > 200 ? `${f.slice(0, 200)}…` : f)).join('\n  ')}`);
    expect(problems).toEqual([]);
  }

  async function flowId(): Promise<string> {
    const { text } = await send(json('POST', '/api/flows/', { name: 'f' }));
    return JSON.parse(text).id;
  }

  // LMDB refuses keys over 1978 bytes (lmdb-js `maxKeySize`). Every index whose key holds a
  // client string answers 500 past that size, and a write leaves what it had already put in the
  // transaction committed: a record without its indexes or counter (store.check() then fails).
  describe('strings longer than an LMDB key (1978 bytes) in indexed fields', () => {
    test('POST /api/artifacts/ with a 2000-character key: 500, and a half-written artifact', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/artifacts/', { key: 'a'.repeat(2000) }));
    });

    test('POST /api/flows/ with a 1979-character name: 500, and a half-written flow', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/flows/', { name: 'a'.repeat(1979) }));
    });

    test('POST /api/flow_runs/ with a 2000-character idempotency_key: 500, and a half-written run', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/flow_runs/', { flow_id: await flowId(), idempotency_key: 'a'.repeat(2000) }));
    });

    test('POST /api/task_runs/ with a 2000-character task_key: 500, and a half-written task run', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/task_runs/', { task_key: 'a'.repeat(2000), dynamic_key: '0' }));
    });

    test('POST /api/task_runs/ with a 2000-character dynamic_key: 500, and a half-written task run', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/task_runs/', { task_key: 't', dynamic_key: 'a'.repeat(2000) }));
    });

    test('POST /api/deployments/ with a 2000-character name: 500, and a half-written deployment', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/deployments/', { name: 'a'.repeat(2000), flow_id: await flowId() }));
    });

    test('POST /api/artifacts/filter with a 2000-character key in key.any_: 500', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/artifacts/filter', { artifacts: { key: { any_: ['a'.repeat(2000)] } } }));
    });

    test('GET /api/artifacts/{8000 characters}/latest: 500', async () => {
      h = await harness({}, backend);
      await expectSound(json('GET', `/api/artifacts/${'a'.repeat(8000)}/latest`));
    });

    test('GET /api/flows/name/{8000 characters}: 500', async () => {
      h = await harness({}, backend);
      await expectSound(json('GET', `/api/flows/name/${'a'.repeat(8000)}`));
    });
  });

  // PostgreSQL's OFFSET is a bigint: an offset past 2^63 (the API takes any non-negative
  // integer) failed there with "bigint out of range"; every offset past the rows is an empty page.
  test('an offset of 1e21 on every filter route: an empty page, not a 500', async () => {
    h = await harness({}, backend);
    await h.call('POST', '/api/artifacts/', { key: 'k', data: 1 });
    for (const path of ['/api/artifacts/filter', '/api/artifacts/latest/filter', '/api/flows/filter', '/api/flow_runs/filter', '/api/task_runs/filter', '/api/deployments/filter']) {
      const reply = await h.call('POST', path, '{"offset": 1e21}');
      expect([path, reply.status, reply.body]).toEqual([path, 200, []]);
    }
  });

  // A lone surrogate is stored as U+FFFD in the record (msgpack writes UTF-8) but kept as is in
  // the index key, so the index names a record that does not exist: store.check() fails after a
  // 201, and the name read back differs from the name written.
  describe('lone UTF-16 surrogates in indexed names', () => {
    test('POST /api/flows/ {"name": "\\ud800"}: 201, then store.check() fails (flows.byName)', async () => {
      h = await harness({}, backend);
      await expectSound({ method: 'POST', path: '/api/flows/', headers: [['content-type', 'application/json']], body: '{"name": "\\ud800"}' });
    });

    test('POST /api/deployments/ with name "\\udc00": store.check() fails (deployments.byFlowName)', async () => {
      h = await harness({}, backend);
      const flow = await flowId();
      await expectSound({ method: 'POST', path: '/api/deployments/', headers: [], body: `{"name": "\\udc00", "flow_id": "${flow}"}` });
    });

    test('POST /api/task_runs/ with dynamic_key "\\ud800": store.check() fails (taskRuns.byKeys)', async () => {
      h = await harness({}, backend);
      await expectSound({ method: 'POST', path: '/api/task_runs/', headers: [], body: '{"task_key": "t", "dynamic_key": "\\ud800"}' });
    });

    test('POST /api/flow_runs/ with idempotency_key "\\ud800": store.check() fails (flowRuns.byIdempotencyKey)', async () => {
      h = await harness({}, backend);
      const flow = await flowId();
      await expectSound({ method: 'POST', path: '/api/flow_runs/', headers: [], body: `{"flow_id": "${flow}", "idempotency_key": "\\ud800"}` });
    });
  });

  // An index key string of 64 or more characters that contains a NUL reads back from LMDB as an
  // array (["aaa…", null, …]): the index entry no longer matches its record, and store.check()
  // fails after a 201. (63 characters, or no NUL, is fine.)
  describe('a NUL in an indexed name of 64+ characters', () => {
    const name = `${'a'.repeat(63)}\u0000`;

    test('POST /api/flows/ with name "a"×63 + NUL: 201, then store.check() fails (flows.byName)', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/flows/', { name }));
    });

    test('POST /api/task_runs/ with task_key "a"×63 + NUL: store.check() fails (taskRuns.byKeys)', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/task_runs/', { task_key: name, dynamic_key: '0' }));
    });

    test('POST /api/deployments/ with name "a"×63 + NUL: store.check() fails (deployments.byFlowName)', async () => {
      h = await harness({}, backend);
      await expectSound(json('POST', '/api/deployments/', { name, flow_id: await flowId() }));
    });
  });

  // PostgreSQL's text cannot hold U+0000 ("invalid byte sequence for encoding UTF8: 0x00"): an
  // artifact string with a NUL, written or looked up, is a 500 there (found by the http fuzz on
  // PostgreSQL; LMDB answers these as any other string).
  describe('a NUL in an artifact string', () => {
    for (const req of [
      json('GET', '/api/artifacts/a%00b/latest'),
      json('POST', '/api/artifacts/', { key: 'k', description: 'a\u0000b' }),
      json('POST', '/api/artifacts/', { key: 'k', type: 't\u0000' }),
      json('POST', '/api/artifacts/filter', { artifacts: { key: { any_: ['a\u0000'] } } }),
      json('POST', '/api/artifacts/filter', { artifacts: { key: { like_: 'a\u0000' } } }),
      json('POST', '/api/artifacts/count', { artifacts: { type: { any_: ['a\u0000'] } } }),
    ]) {
      test(`${req.method} ${req.path} ${req.body ?? ''}`, async () => {
        h = await harness({}, backend);
        await expectSound(req);
      });
    }
  });

  describe('deployment names that sort after "\\uffff"', () => {
    for (const name of ['😀', '\uffffx']) {
      test(`DELETE /api/flows/{id} leaves its deployment ${JSON.stringify(name)} behind`, async () => {
        h = await harness({}, backend);
        const flow = await flowId();
        const created = await send(json('POST', '/api/deployments/', { name, flow_id: flow }));
        expect(created.status).toBe(201);
        await expectSound(json('DELETE', `/api/flows/${flow}`));
        const left = await send(json('GET', `/api/deployments/${JSON.parse(created.text).id}`));
        expect(left.status, 'the deployment of a deleted flow is still readable').toBe(404);
      });
    }

    test('POST /api/flows/count {"deployments": {}} does not count a flow whose deployment is named "😀"', async () => {
      h = await harness({}, backend);
      const flow = await flowId();
      expect((await send(json('POST', '/api/deployments/', { name: '😀', flow_id: flow }))).status).toBe(201);
      const count = await send(json('POST', '/api/flows/count', { deployments: {} }));
      expect(count.text).toBe('1');
    });
  });

  describe('deployment parameter schemas', () => {
    // schemaProblem() calls Object.values() on properties/definitions/$defs without a null check.
    for (const schema of [{ properties: null }, { definitions: null }, { $defs: null }, { properties: { x: { properties: null } } }]) {
      test(`POST /api/deployments/ enforcing parameter_openapi_schema ${JSON.stringify(schema)}: 500`, async () => {
        h = await harness({}, backend);
        await expectSound(
          json('POST', '/api/deployments/', { name: 'd', flow_id: await flowId(), enforce_parameter_schema: true, parameter_openapi_schema: schema }),
        );
      });
    }
  });
});

// Over a real listening server (raw bytes with node:net): what only the HTTP layer sees. LMDB only:
// LiveServer serves a data directory, and what is tested here never reaches the store.
describe('a real listening server', () => {
  const stats = newStats();

  async function rawAgainst(live: LiveServer, text: string) {
    escaped.length = 0;
    const ex = await exchange(live.port, Buffer.from(text, 'latin1'), { halfClose: false });
    return { ex, first: ex.responses[0], cause: escaped.length > 0 ? ` (escaped from app.handle: ${escaped.at(-1)})` : '' };
  }

  // RFC 9112 §3.2 allows an empty Host. The request URL is then relative ("/api/…"), and
  // `new URL(request.url)` throws in the 404/405 fallback (src/http/fallback.ts), in the error
  // log line (src/app.ts) and in /csrf-token (src/api/root.ts).
  for (const target of ['/api/nope', '/api/artifacts/filter', '/api/csrf-token?client=x']) {
    test(`GET ${target} with an empty Host header: 500 (TypeError: Invalid URL)`, async () => {
      const live = new LiveServer(stats);
      await live.open();
      try {
        const { first, ex, cause } = await rawAgainst(live, `GET ${target} HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n`);
        expect(first, `no response: ${JSON.stringify(ex.raw.toString('latin1'))}`).toBeDefined();
        const problem = replyProblem({ method: 'GET', path: target, headers: [] }, toReply(first!));
        expect(problem, `${problem}${cause}: ${JSON.stringify(ex.raw.toString('latin1').slice(0, 300))}`).toBeUndefined();
      } finally {
        expect(await live.close()).toEqual([]);
      }
    });
  }

  // Elysia finds the path with `url.indexOf('/', 11)`, which assumes "http://" plus a host of at
  // least 4 characters: with Host "x" the path it routes is "/health" (404), not "/api/health".
  test('GET /api/health with a Host shorter than 4 characters (x, ab, abc, a.b): 404 instead of true', async () => {
    const live = new LiveServer(stats);
    await live.open();
    const wrong: string[] = [];
    try {
      for (const host of ['x', 'ab', 'abc', 'a.b', 'abcd', 'localhost']) {
        const { first } = await rawAgainst(live, `GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        if (!first || first.status !== 200 || first.body.toString() !== 'true') wrong.push(`Host: ${host} → ${first ? `${first.status} ${first.body}` : 'no answer'}`);
      }
    } finally {
      expect(await live.close()).toEqual([]);
    }
    expect(wrong).toEqual([]);
  });


});
