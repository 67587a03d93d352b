/**
 * HTTP behaviour of the deployment routes (shared/spec/companions.md §5, with artifacts-api.md
 * §1–3 and §7): create-or-update by (flow_id, name), validation, links, the response shape,
 * read, filter (sorts, filters, the deployment-centric combination), count, delete (which removes
 * only the deployment's SCHEDULED runs) and create_flow_run with its parameter-schema rule.
 */
import { describe, expect, test } from 'bun:test';
import { freshHarness } from './fresh-harness.ts';
import { creators, readers } from './companions.ts';
import { DATETIME_RE, INTEGRITY, LIMIT_MAX, UUID_RE, expectReply, extraForbidden, limitRejected, nearNow, validation } from './expect.ts';
import { MISSING_ID, OTHER_ID, SLUG_RE } from './fields.ts';
import { describeBackends } from '../backends.ts';

const DEPLOYMENT_FIELDS = [
  'id',
  'created',
  'updated',
  'name',
  'version',
  'description',
  'flow_id',
  'paused',
  'schedules',
  'concurrency_limit',
  'job_variables',
  'parameters',
  'tags',
  'work_queue_name',
  'last_polled',
  'parameter_openapi_schema',
  'path',
  'pull_steps',
  'entrypoint',
  'storage_document_id',
  'infrastructure_document_id',
  'created_by',
  'updated_by',
  'work_pool_name',
  'status',
  'enforce_parameter_schema',
];
const DEFAULTS = {
  version: null,
  description: null,
  paused: false,
  schedules: [],
  concurrency_limit: null,
  job_variables: {},
  parameters: {},
  tags: [],
  work_queue_name: null,
  last_polled: null,
  parameter_openapi_schema: null,
  path: null,
  pull_steps: null,
  entrypoint: null,
  storage_document_id: null,
  infrastructure_document_id: null,
  created_by: null,
  updated_by: null,
  work_pool_name: null,
  status: 'NOT_READY',
  enforce_parameter_schema: true,
};
const DEPLOYMENT_NOT_FOUND = { detail: 'Deployment not found' };
const NO_SCHEMA_409 = {
  detail:
    'Error updating deployment: Cannot update parameters because parameter schema enforcement is enabled and the deployment does not have a valid parameter schema.',
};
const INT_SCHEMA = { type: 'object', properties: { n: { type: 'integer' }, s: { type: 'string' } }, required: ['n'] };

describeBackends('deployments', (backend) => {
  const h = freshHarness({}, backend);

  const { flow, deployment, flowRun, taskRun } = creators(() => h);
  const { read, count, filterNames, filterIds, rejectsSort } = readers(() => h, '/api/deployments');

  const post = (body: Record<string, unknown>) => h.call('POST', '/api/deployments/', body);

  const runFrom = (id: string, body: unknown = {}) => h.call('POST', `/api/deployments/${id}/create_flow_run`, body);

  // ── create ──────────────────────────────────────────────────────────────────────────────────

  describe('POST /api/deployments/: create', () => {
    test('201 with every field in Prefect order and the documented defaults', async () => {
      const f = await flow();
      const before = Date.now();
      const reply = await post({ name: 'nightly', flow_id: f.id });
      expect(reply.status).toBe(201);
      expect(reply.headers.get('content-type')).toContain('application/json');
      const d = reply.body;
      expect(Object.keys(d)).toEqual(DEPLOYMENT_FIELDS);
      expect(d.id).toMatch(UUID_RE);
      nearNow(d.created, before);
      expect(d.updated).toMatch(DATETIME_RE);
      expect(d.name).toBe('nightly');
      expect(d.flow_id).toBe(f.id);
      expect(d).toMatchObject(DEFAULTS);
    });

    test('supplied fields round-trip', async () => {
      const f = await flow();
      const body = {
        name: 'full',
        flow_id: f.id,
        version: '1.0',
        description: 'does things',
        paused: true,
        concurrency_limit: 0,
        job_variables: { image: 'python:3.12' },
        parameters: { n: 1, s: 'x' },
        tags: ['a', 'b'],
        parameter_openapi_schema: INT_SCHEMA,
        path: '/opt/flows',
        pull_steps: [{ 'prefect.deployments.steps.set_working_directory': { directory: '/opt' } }],
        entrypoint: 'flows.py:main',
        enforce_parameter_schema: false,
      };
      const d = await deployment(body);
      expect(d).toMatchObject(body);
      expect(await read(d.id)).toEqual(d);
    });

    test('same (flow_id, name) → 200 with the same id and created; omitted fields reset to defaults', async () => {
      const f = await flow();
      const first = await deployment({
        name: 'd',
        flow_id: f.id,
        version: '1',
        description: 'first',
        parameters: { a: 1 },
        tags: ['t'],
        paused: true,
        concurrency_limit: 3,
        entrypoint: 'a.py:f',
        enforce_parameter_schema: false,
      });
      const second = await post({ name: 'd', flow_id: f.id, description: 'second' });
      expect(second.status).toBe(200);
      expect(Object.keys(second.body)).toEqual(DEPLOYMENT_FIELDS);
      expect(second.body.id).toBe(first.id);
      expect(second.body.created).toBe(first.created);
      expect(second.body).toMatchObject({ ...DEFAULTS, description: 'second' });
      expect(await read(first.id)).toMatchObject({ ...DEFAULTS, description: 'second', id: first.id });
      expect(await count()).toBe(1);
    });

    test('the same name under another flow is a different deployment', async () => {
      const f = await flow('one');
      const g = await flow('two');
      const a = await deployment({ name: 'd', flow_id: f.id });
      const b = await post({ name: 'd', flow_id: g.id });
      expect(b.status).toBe(201);
      expect(b.body.id).not.toBe(a.id);
      expect(await count()).toBe(2);
    });

    test('an unknown flow_id → 409 with the data-integrity text', async () => {
      const reply = await post({ name: 'd', flow_id: MISSING_ID });
      expectReply(reply, 409, INTEGRITY);
      expect(await count()).toBe(0);
    });

    test.each([['a/b'], ['50%'], ['x&y'], ['a>b'], ['a<b']])('name %p → 422 string_pattern_mismatch', async (name) => {
      const f = await flow();
      const errors = validation(await post({ name, flow_id: f.id }));
      expect(errors).toContainEqual(expect.objectContaining({ type: 'string_pattern_mismatch', loc: ['body', 'name'] }));
      expect(await count()).toBe(0);
    });

    test('names with spaces, colons and emoji are fine', async () => {
      const f = await flow();
      for (const name of ['my deployment', 'a:b', '🚀']) {
        expect((await post({ name, flow_id: f.id })).status).toBe(201);
      }
    });

    test.each([['name'], ['flow_id']])('%s is required', async (field) => {
      const f = await flow();
      const body: Record<string, unknown> = { name: 'd', flow_id: f.id };
      delete body[field];
      const errors = validation(await post(body));
      expect(errors).toContainEqual(expect.objectContaining({ type: 'missing', loc: ['body', field] }));
    });

    test('concurrency_limit −1 → 422 at ["body","concurrency_limit"]', async () => {
      const f = await flow();
      const errors = validation(await post({ name: 'd', flow_id: f.id, concurrency_limit: -1 }));
      expect(errors[0].loc).toEqual(['body', 'concurrency_limit']);
      expect(await count()).toBe(0);
    });

    test('an unknown key → 422 extra_forbidden', async () => {
      const f = await flow();
      const errors = validation(await post({ name: 'd', flow_id: f.id, colour: 'teal' }));
      expect(errors).toContainEqual(extraForbidden('colour', 'teal'));
    });

    test('the echoed request_body of a 422 carries the defaults added by the pre-validator', async () => {
      const f = await flow();
      const reply = await post({ name: 'd', flow_id: f.id, colour: 'teal' });
      validation(reply);
      expect(reply.body.request_body).toEqual({
        name: 'd',
        flow_id: f.id,
        colour: 'teal',
        parameters: {},
        parameter_openapi_schema: null,
      });
    });

    test('legacy worker-pool keys are silently dropped', async () => {
      const f = await flow();
      const reply = await post({
        name: 'legacy',
        flow_id: f.id,
        worker_pool_queue_id: OTHER_ID,
        worker_pool_name: 'wp',
        worker_pool_queue_name: 'wq',
        work_pool_queue_name: 'q',
      });
      expect(reply.status).toBe(201);
      expect(Object.keys(reply.body)).toEqual(DEPLOYMENT_FIELDS);
      expect(reply.body.work_pool_name).toBeNull();
    });

    test('work_queue_name without a pool → work_pool_name "default-agent-pool"', async () => {
      const f = await flow();
      const d = await deployment({ name: 'd', flow_id: f.id, work_queue_name: 'q1' });
      expect(d.work_queue_name).toBe('q1');
      expect(d.work_pool_name).toBe('default-agent-pool');
      expect((await read(d.id)).work_pool_name).toBe('default-agent-pool');
    });

    test('an unknown work_pool_name → 404 with the work-pool text', async () => {
      const f = await flow();
      const reply = await post({ name: 'd', flow_id: f.id, work_pool_name: 'my-pool' });
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ detail: 'Work pool "my-pool" not found.' });
      expect(await count()).toBe(0);
    });

    test.each([['storage_document_id'], ['infrastructure_document_id']])(
      'a non-null %s → 409 with a JSON detail',
      async (field) => {
        const f = await flow();
        const reply = await post({ name: 'd', flow_id: f.id, [field]: OTHER_ID });
        expect(reply.status).toBe(409);
        expect(reply.headers.get('content-type')).toContain('application/json');
        expect(typeof reply.body.detail).toBe('string');
        expect(await count()).toBe(0);
        expect((await post({ name: 'd', flow_id: f.id, [field]: null })).status).toBe(201);
      },
    );

    describe('parameter_openapi_schema checks (only with "enforce_parameter_schema": true in the body)', () => {
      test('parameters that do not conform → 422 value_error at ["body"]', async () => {
        const f = await flow();
        const errors = validation(
          await post({
            name: 'd',
            flow_id: f.id,
            enforce_parameter_schema: true,
            parameter_openapi_schema: INT_SCHEMA,
            parameters: { n: 'not a number' },
          }),
        );
        expect(errors[0]).toMatchObject({ type: 'value_error', loc: ['body'] });
        expect(errors[0].msg.startsWith("Value error, Validation failed for field 'n'.")).toBe(true);
        expect(await count()).toBe(0);
      });

      test('an invalid JSON schema → 422 value_error at ["body"]', async () => {
        const f = await flow();
        const errors = validation(
          await post({
            name: 'd',
            flow_id: f.id,
            enforce_parameter_schema: true,
            parameter_openapi_schema: { type: 'object', properties: { n: { type: 'no-such-type' } } },
          }),
        );
        expect(errors[0]).toMatchObject({ type: 'value_error', loc: ['body'] });
        expect(errors[0].msg.startsWith('Value error, The provided schema is not a valid json schema.')).toBe(true);
      });

      test('missing required parameters are accepted at creation', async () => {
        const f = await flow();
        const reply = await post({
          name: 'd',
          flow_id: f.id,
          enforce_parameter_schema: true,
          parameter_openapi_schema: INT_SCHEMA,
          parameters: { s: 'x' },
        });
        expect(reply.status).toBe(201);
      });

      test('without the flag in the body nothing is checked, though the stored flag is true', async () => {
        const f = await flow();
        const reply = await post({
          name: 'd',
          flow_id: f.id,
          parameter_openapi_schema: INT_SCHEMA,
          parameters: { n: 'not a number' },
        });
        expect(reply.status).toBe(201);
        expect(reply.body.enforce_parameter_schema).toBe(true);
        expect(reply.body.parameters).toEqual({ n: 'not a number' });
      });
    });

    test('a malformed X-PREFECT-API-VERSION → 400', async () => {
      const f = await flow();
      const reply = await h.call('POST', '/api/deployments/', { name: 'd', flow_id: f.id }, { 'x-prefect-api-version': '1.2.3.4' });
      expect(reply.status).toBe(400);
      expect(reply.body.detail).toContain('Invalid X-PREFECT-API-VERSION header format.');
      expect(await count()).toBe(0);
    });
  });

  // ── GET / DELETE ────────────────────────────────────────────────────────────────────────────

  describe('GET /api/deployments/{id}', () => {
    test('answers the stored deployment', async () => {
      const f = await flow();
      const d = await deployment({ name: 'd', flow_id: f.id, tags: ['x'] });
      const reply = await h.call('GET', `/api/deployments/${d.id}`);
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.body)).toEqual(DEPLOYMENT_FIELDS);
      expect(reply.body).toEqual(d);
    });

    test('an unknown id → 404 {"detail": "Deployment not found"}; a malformed one → 422', async () => {
      const reply = await h.call('GET', `/api/deployments/${MISSING_ID}`);
      expectReply(reply, 404, DEPLOYMENT_NOT_FOUND);
      expect(validation(await h.call('GET', '/api/deployments/nope'))[0]).toMatchObject({
        type: 'uuid_parsing',
        loc: ['path', 'id'],
      });
    });
  });

  describe('DELETE /api/deployments/{id}', () => {
    test('204 empty, then 404 "Deployment not found"', async () => {
      const f = await flow();
      const d = await deployment({ name: 'd', flow_id: f.id });
      const reply = await h.call('DELETE', `/api/deployments/${d.id}`);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      expect((await h.call('GET', `/api/deployments/${d.id}`)).body).toEqual(DEPLOYMENT_NOT_FOUND);
      const again = await h.call('DELETE', `/api/deployments/${d.id}`);
      expectReply(again, 404, DEPLOYMENT_NOT_FOUND);
      expect((await h.call('GET', `/api/flows/${f.id}`)).status).toBe(200);
    });

    test('removes only its SCHEDULED runs; its other runs keep a dangling deployment_id', async () => {
      const f = await flow();
      const d = await deployment({ name: 'd', flow_id: f.id, enforce_parameter_schema: false });
      const other = await deployment({ name: 'other', flow_id: f.id, enforce_parameter_schema: false });
      const scheduled = (await runFrom(d.id)).body;
      expect(scheduled.state_type).toBe('SCHEDULED');
      const scheduledLater = await flowRun({
        flow_id: f.id,
        deployment_id: d.id,
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2030-01-01T00:00:00Z' } },
      });
      const running = await flowRun({ flow_id: f.id, deployment_id: d.id, state: { type: 'RUNNING' } });
      const done = await flowRun({ flow_id: f.id, deployment_id: d.id, state: { type: 'COMPLETED' } });
      const pending = await flowRun({ flow_id: f.id, deployment_id: d.id });
      const otherScheduled = (await runFrom(other.id)).body;
      const artifact = await h.create({ key: 'k', flow_run_id: scheduled.id });

      expect((await h.call('DELETE', `/api/deployments/${d.id}`)).status).toBe(204);

      expect((await h.call('GET', `/api/flow_runs/${scheduled.id}`)).status).toBe(404);
      expect((await h.call('GET', `/api/flow_runs/${scheduledLater.id}`)).status).toBe(404);
      for (const run of [running, done, pending]) {
        const now = await h.call('GET', `/api/flow_runs/${run.id}`);
        expect(now.status).toBe(200);
        expect(now.body.deployment_id).toBe(d.id);
      }
      expect((await h.call('GET', `/api/flow_runs/${otherScheduled.id}`)).status).toBe(200);
      expect((await h.call('GET', `/api/artifacts/${artifact.id}`)).status).toBe(200);
      // dangling ids no longer match a deployments filter
      const matched = await h.call('POST', '/api/flow_runs/filter', { deployments: {} });
      expect(matched.body.map((r: any) => r.id)).toEqual([otherScheduled.id]);
      expect((await h.call('POST', '/api/flow_runs/count', { flow_runs: { deployment_id: { any_: [d.id] } } })).body).toBe(3);
    });
  });

  // ── create_flow_run ─────────────────────────────────────────────────────────────────────────

  describe('POST /api/deployments/{id}/create_flow_run', () => {
    async function seed(extra: Record<string, unknown> = {}) {
      const f = await flow();
      const d = await deployment({
        name: 'd',
        flow_id: f.id,
        version: 'v1',
        parameters: { a: 1, b: 2 },
        tags: ['dep', 'shared'],
        work_queue_name: 'q1',
        enforce_parameter_schema: false,
        ...extra,
      });
      return { f, d };
    }

    test('{} → 201 SCHEDULED-now run of the deployment\'s flow with its version, parameters, tags and queue', async () => {
      const { f, d } = await seed();
      const before = Date.now();
      const reply = await runFrom(d.id, {});
      expect(reply.status).toBe(201);
      const run = reply.body;
      expect(run.flow_id).toBe(f.id);
      expect(run.deployment_id).toBe(d.id);
      expect(run.deployment_version).toBe('v1');
      expect(run.parameters).toEqual({ a: 1, b: 2 });
      expect([...run.tags].sort()).toEqual(['dep', 'shared']);
      expect(run.work_queue_name).toBe('q1');
      expect(run.name).toMatch(SLUG_RE);
      expect(run.state_type).toBe('SCHEDULED');
      expect(run.state_name).toBe('Scheduled');
      const scheduled = run.state.state_details.scheduled_time;
      nearNow(scheduled, before);
      expect(run.next_scheduled_start_time).toBe(scheduled);
      expect(run.expected_start_time).toBe(scheduled);
      expect(run.labels).toEqual({});
      const stored = await h.call('GET', `/api/flow_runs/${run.id}`);
      expect(stored.status).toBe(200);
      expect(stored.body.deployment_id).toBe(d.id);
    });

    test('parameters are overlaid and tags are the union (compared as sets)', async () => {
      const { d } = await seed();
      const reply = await runFrom(d.id, { parameters: { b: 3, c: { deep: [1] } }, tags: ['shared', 'run'] });
      expect(reply.status).toBe(201);
      expect(reply.body.parameters).toEqual({ a: 1, b: 3, c: { deep: [1] } });
      expect(new Set(reply.body.tags)).toEqual(new Set(['dep', 'shared', 'run']));
      expect(reply.body.tags).toHaveLength(3);
      // the deployment itself is unchanged
      expect((await read(d.id)).parameters).toEqual({ a: 1, b: 2 });
    });

    test('name, state, work_queue_name and idempotency_key from the body are used', async () => {
      const { d } = await seed();
      const reply = await runFrom(d.id, { name: 'manual', state: { type: 'PENDING' }, work_queue_name: 'q2' });
      expect(reply.status).toBe(201);
      expect(reply.body.name).toBe('manual');
      expect(reply.body.state_type).toBe('PENDING');
      expect(reply.body.next_scheduled_start_time).toBeNull();
      expect(reply.body.work_queue_name).toBe('q2');
    });

    test('a repeated idempotency_key → 200 with the original run', async () => {
      const { d } = await seed();
      const first = await runFrom(d.id, { idempotency_key: 'once' });
      expect(first.status).toBe(201);
      const again = await runFrom(d.id, { idempotency_key: 'once', state: { type: 'RUNNING' } });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.state_type).toBe('SCHEDULED');
      expect((await h.call('POST', '/api/flow_runs/count', {})).body).toBe(1);
    });

    test('an unknown parent_task_run_id or a non-null infrastructure_document_id → 409, nothing stored', async () => {
      const { d } = await seed();
      const parent = await runFrom(d.id, { parent_task_run_id: MISSING_ID });
      expectReply(parent, 409, INTEGRITY);
      const infra = await runFrom(d.id, { infrastructure_document_id: OTHER_ID });
      expect(infra.status).toBe(409);
      expect(typeof infra.body.detail).toBe('string');
      expect((await h.call('POST', '/api/flow_runs/count', {})).body).toBe(0);
    });

    test('an unknown deployment → 404 "Deployment not found"', async () => {
      const reply = await runFrom(MISSING_ID, {});
      expectReply(reply, 404, DEPLOYMENT_NOT_FOUND);
    });

    test('a missing body → 422; an unknown key → 422 extra_forbidden', async () => {
      const { d } = await seed();
      const missing = await h.call('POST', `/api/deployments/${d.id}/create_flow_run`);
      expect(validation(missing)[0]).toMatchObject({ type: 'missing', loc: ['body'] });
      expect(validation(await runFrom(d.id, { colour: 'teal' }))[0]).toMatchObject({
        type: 'extra_forbidden',
        loc: ['body', 'colour'],
      });
      expect((await h.call('POST', '/api/flow_runs/count', {})).body).toBe(0);
    });

    test('enforcement on (the default) with no schema → 409 with the exact text', async () => {
      const f = await flow();
      const d = await deployment({ name: 'strict', flow_id: f.id });
      expect(d.enforce_parameter_schema).toBe(true);
      expect(d.parameter_openapi_schema).toBeNull();
      const reply = await runFrom(d.id, {});
      expect(reply.status).toBe(409);
      expect(reply.body).toEqual(NO_SCHEMA_409);
      expect((await h.call('POST', '/api/flow_runs/count', {})).body).toBe(0);
      // the body can switch enforcement off
      const off = await runFrom(d.id, { enforce_parameter_schema: false });
      expect(off.status).toBe(201);
    });

    test('an empty schema {} satisfies enforcement', async () => {
      const f = await flow();
      const d = await deployment({ name: 'open', flow_id: f.id, parameter_openapi_schema: {} });
      const reply = await runFrom(d.id, { parameters: { anything: 1 } });
      expect(reply.status).toBe(201);
    });

    test('merged parameters failing the schema (required enforced here) → 409 "Error creating flow run: Validation failed…"', async () => {
      const f = await flow();
      const d = await deployment({ name: 'typed', flow_id: f.id, parameter_openapi_schema: INT_SCHEMA });
      const missing = await runFrom(d.id, {});
      expect(missing.status).toBe(409);
      expect(typeof missing.body.detail).toBe('string');
      expect(missing.body.detail.startsWith('Error creating flow run: Validation failed')).toBe(true);
      const wrong = await runFrom(d.id, { parameters: { n: 'x' } });
      expect(wrong.status).toBe(409);
      expect(wrong.body.detail.startsWith('Error creating flow run: Validation failed')).toBe(true);
      const ok = await runFrom(d.id, { parameters: { n: 5 } });
      expect(ok.status).toBe(201);
      expect(ok.body.parameters).toEqual({ n: 5 });
      const off = await runFrom(d.id, { enforce_parameter_schema: false, parameters: { n: 'x' } });
      expect(off.status).toBe(201);
    });

    test('a deployment created with enforcement off accepts anything', async () => {
      const { d } = await seed({ parameter_openapi_schema: INT_SCHEMA });
      const reply = await runFrom(d.id, { parameters: { n: 'still fine' } });
      expect(reply.status).toBe(201);
    });
  });

  // ── filter / count ──────────────────────────────────────────────────────────────────────────

  describe('POST /api/deployments/filter: sorts and paging', () => {
    const NAMES = ['b', 'B', 'a', '_x', 'c'];
    const BYTE_ORDER = ['B', '_x', 'a', 'b', 'c'];

    async function seed() {
      const f = await flow();
      const out: any[] = [];
      for (const name of NAMES) out.push(await deployment({ name, flow_id: f.id }));
      return out;
    }

    test('default NAME_ASC in byte order; NAME_DESC reversed', async () => {
      await seed();
      expect(await filterNames({})).toEqual(BYTE_ORDER);
      expect(await filterNames(undefined)).toEqual(BYTE_ORDER);
      expect(await filterNames({ sort: 'NAME_ASC' })).toEqual(BYTE_ORDER);
      expect(await filterNames({ sort: 'NAME_DESC' })).toEqual([...BYTE_ORDER].reverse());
    });

    test('CREATED_DESC and UPDATED_DESC: newest first', async () => {
      await seed();
      expect(await filterNames({ sort: 'CREATED_DESC' })).toEqual([...NAMES].reverse());
      expect(await filterNames({ sort: 'UPDATED_DESC' })).toEqual([...NAMES].reverse());
    });

    test('equal names (different flows) are ordered by id descending', async () => {
      const ids: string[] = [];
      for (const name of ['f1', 'f2', 'f3', 'f4']) {
        const f = await flow(name);
        ids.push((await deployment({ name: 'same', flow_id: f.id })).id);
      }
      const expected = [...ids].sort().reverse();
      expect(await filterIds({ sort: 'NAME_ASC' })).toEqual(expected);
      expect(await filterIds({ sort: 'NAME_DESC' })).toEqual(expected);
    });

    test('an unknown sort → 422 enum', async () => {
      for (const sort of ['ID_DESC', 'name_asc']) {
        await rejectsSort(sort);
      }
    });

    test('limit and offset', async () => {
      await seed();
      expect(await filterNames({ limit: 2 })).toEqual(BYTE_ORDER.slice(0, 2));
      expect(await filterNames({ limit: 2, offset: 2 })).toEqual(BYTE_ORDER.slice(2, 4));
      expect(await filterNames({ offset: 5 })).toEqual([]);
      expect(await filterNames({ limit: 0 })).toEqual([]);
      limitRejected(await h.call('POST', '/api/deployments/filter', { limit: 201 }), LIMIT_MAX);
    });

    test('full DeploymentResponse objects are returned', async () => {
      const all = await seed();
      const reply = await h.call('POST', '/api/deployments/filter', { sort: 'CREATED_DESC', limit: 1 });
      expect(reply.body).toEqual([all[all.length - 1]]);
      expect(Object.keys(reply.body[0])).toEqual(DEPLOYMENT_FIELDS);
    });
  });

  describe('POST /api/deployments/filter and /count: filters', () => {
    /**
     * flows: etl, ml
     * deployments: d1 "etl-daily" (etl; tags [prod, daily]; paused; limit 5; queue q1)
     *              d2 "etl-hourly" (etl; tags [prod]; limit 1)
     *              d3 "train" (ml; no tags)
     * runs: r1 of d1 COMPLETED with a task run; r2 of d2 FAILED; none for d3
     */
    async function seed() {
      const etl = await flow('etl');
      const ml = await flow('ml');
      const d1 = await deployment({
        name: 'etl-daily',
        flow_id: etl.id,
        tags: ['prod', 'daily'],
        paused: true,
        concurrency_limit: 5,
        work_queue_name: 'q1',
        enforce_parameter_schema: false,
      });
      const d2 = await deployment({ name: 'etl-hourly', flow_id: etl.id, tags: ['prod'], concurrency_limit: 1 });
      const d3 = await deployment({ name: 'train', flow_id: ml.id });
      const r1 = await flowRun({ flow_id: etl.id, deployment_id: d1.id, state: { type: 'COMPLETED' }, tags: ['n'] });
      await taskRun({ flow_run_id: r1.id });
      const r2 = await flowRun({ flow_id: etl.id, deployment_id: d2.id, state: { type: 'FAILED' } });
      return { etl, ml, d1, d2, d3, r1, r2 };
    }

    const both = async (body: unknown) => {
      const names = await filterNames(body);
      expect(await count(body)).toBe(names.length);
      return names;
    };

    test('count is a bare integer and ignores paging', async () => {
      await seed();
      const reply = await h.call('POST', '/api/deployments/count', {});
      expect(reply.text).toBe('3');
      expect(await count({ limit: 500, sort: 'NOPE' })).toBe(3);
    });

    test('deployments: id (any_, not_any_), name (any_, like_), tags (all_, any_, is_null_), paused, queue, limit', async () => {
      const s = await seed();
      expect(await both({ deployments: { id: { any_: [s.d3.id, MISSING_ID] } } })).toEqual(['train']);
      expect(await both({ deployments: { id: { not_any_: [s.d3.id] } } })).toEqual(['etl-daily', 'etl-hourly']);
      expect(await both({ deployments: { name: { any_: ['train', 'TRAIN'] } } })).toEqual(['train']);
      expect(await both({ deployments: { name: { like_: 'ETL' } } })).toEqual(['etl-daily', 'etl-hourly']);
      expect(await both({ deployments: { name: { like_: 'l_d' } } })).toEqual(['etl-daily']);
      expect(await both({ deployments: { tags: { all_: ['prod', 'daily'] } } })).toEqual(['etl-daily']);
      expect(await both({ deployments: { tags: { any_: ['daily', 'nope'] } } })).toEqual(['etl-daily']);
      expect(await both({ deployments: { tags: { any_: ['prod'] } } })).toEqual(['etl-daily', 'etl-hourly']);
      expect(await both({ deployments: { tags: { is_null_: true } } })).toEqual(['train']);
      expect(await both({ deployments: { paused: { eq_: true } } })).toEqual(['etl-daily']);
      expect(await both({ deployments: { paused: { eq_: false } } })).toEqual(['etl-hourly', 'train']);
      expect(await both({ deployments: { work_queue_name: { any_: ['q1'] } } })).toEqual(['etl-daily']);
      expect(await both({ deployments: { concurrency_limit: { ge_: 2 } } })).toEqual(['etl-daily']);
      expect(await both({ deployments: { concurrency_limit: { le_: 5, ge_: 1 } } })).toEqual(['etl-daily', 'etl-hourly']);
      expect(await both({ deployments: { concurrency_limit: { is_null_: true } } })).toEqual(['train']);
      expect(
        await both({ deployments: { operator: 'or_', name: { any_: ['train'] }, paused: { eq_: true } } }),
      ).toEqual(['etl-daily', 'train']);
    });

    test('flow_or_deployment_name.like_ matches either name', async () => {
      await seed();
      expect(await both({ deployments: { flow_or_deployment_name: { like_: 'ml' } } })).toEqual(['train']);
      expect(await both({ deployments: { flow_or_deployment_name: { like_: 'hour' } } })).toEqual(['etl-hourly']);
    });

    test('flows: the deployment\'s flow matches', async () => {
      const s = await seed();
      expect(await both({ flows: { name: { any_: ['etl'] } } })).toEqual(['etl-daily', 'etl-hourly']);
      expect(await both({ flows: { id: { any_: [s.ml.id] } } })).toEqual(['train']);
      expect(await both({ flows: {} })).toEqual(['etl-daily', 'etl-hourly', 'train']);
    });

    test('flow_runs / task_runs: some run of the deployment matches ({} = has at least one)', async () => {
      await seed();
      expect(await both({ flow_runs: {} })).toEqual(['etl-daily', 'etl-hourly']);
      expect(await both({ flow_runs: { state: { type: { any_: ['FAILED'] } } } })).toEqual(['etl-hourly']);
      expect(await both({ flow_runs: { tags: { all_: ['n'] } } })).toEqual(['etl-daily']);
      expect(await both({ task_runs: {} })).toEqual(['etl-daily']);
      expect(await both({ flow_runs: { state: { type: { any_: ['FAILED'] } } }, task_runs: {} })).toEqual([]);
    });

    test('all parts are ANDed; nulls add nothing', async () => {
      await seed();
      expect(await both({ deployments: { tags: { all_: ['prod'] } }, flow_runs: { state: { type: { any_: ['COMPLETED'] } } } })).toEqual([
        'etl-daily',
      ]);
      expect(await both({ flows: { name: { any_: ['ml'] } }, flow_runs: {} })).toEqual([]);
      expect(
        await both({ flows: null, flow_runs: null, task_runs: null, deployments: null, work_pools: null, work_pool_queues: null }),
      ).toEqual(['etl-daily', 'etl-hourly', 'train']);
    });

    test('non-null work_pools / work_pool_queues → 501 naming the key', async () => {
      await seed();
      for (const route of ['/api/deployments/filter', '/api/deployments/count']) {
        for (const key of ['work_pools', 'work_pool_queues']) {
          const reply = await h.call('POST', route, { [key]: { name: { any_: ['x'] } } });
          expect(reply.status).toBe(501);
          expect(reply.headers.get('content-type')).toContain('application/json');
          expect(reply.body.detail).toContain(key);
        }
      }
    });

    test('invalid filter content → 422', async () => {
      expect(
        validation(await h.call('POST', '/api/deployments/filter', { deployments: { paused: { eq_: 'maybe' } } }))[0].loc,
      ).toEqual(['body', 'deployments', 'paused', 'eq_']);
      expect(
        validation(await h.call('POST', '/api/deployments/count', { deployments: { concurrency_limit: { ge_: 'abc' } } }))[0],
      ).toMatchObject({ type: 'int_parsing', loc: ['body', 'deployments', 'concurrency_limit', 'ge_'] });
    });
  });
});
