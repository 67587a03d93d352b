/**
 * HTTP behaviour of the flow-run routes (shared/spec/companions.md §1 state model and §3 flow
 * runs, with artifacts-api.md §1–3 and §7): create (states and denormalized fields, idempotency,
 * links, empirical policy, response shape), read, filter (every sort, NULL order, filters and
 * the flow-run-centric combination), count, delete, set_state and PATCH.
 */
import { describe, expect, test } from 'bun:test';
import { type Reply } from '../helpers.ts';
import { freshHarness } from './fresh-harness.ts';
import { byIdDesc, creators, readers, stable } from './companions.ts';
import { DATETIME_RE, INTEGRITY, LIMIT_MAX, LIMIT_MIN, UUID_RE, expectReply, extraForbidden, limitRejected, micros, nearNow, rawField, validation } from './expect.ts';
import { MISSING_ID, OTHER_ID, SLUG_RE, STATE_DETAILS_FIELDS, STATE_FIELDS } from './fields.ts';
import { describeBackends } from '../backends.ts';

const FLOW_RUN_FIELDS = [
  'id',
  'created',
  'updated',
  'name',
  'flow_id',
  'state_id',
  'deployment_id',
  'deployment_version',
  'work_queue_id',
  'work_queue_name',
  'flow_version',
  'parameters',
  'idempotency_key',
  'context',
  'empirical_policy',
  'tags',
  'parent_task_run_id',
  'state_type',
  'state_name',
  'run_count',
  'expected_start_time',
  'next_scheduled_start_time',
  'start_time',
  'end_time',
  'total_run_time',
  'estimated_run_time',
  'estimated_start_time_delta',
  'auto_scheduled',
  'infrastructure_document_id',
  'infrastructure_pid',
  'created_by',
  'work_pool_id',
  'work_pool_name',
  'state',
  'job_variables',
  'labels',
];
const DEFAULT_POLICY = {
  max_retries: 0,
  retry_delay_seconds: 0,
  retries: null,
  retry_delay: null,
  pause_keys: [],
  resuming: false,
};
const RUN_NOT_FOUND = { detail: 'Flow run not found' };
const STATE_TYPES: [string, string][] = [
  ['SCHEDULED', 'Scheduled'],
  ['PENDING', 'Pending'],
  ['RUNNING', 'Running'],
  ['COMPLETED', 'Completed'],
  ['FAILED', 'Failed'],
  ['CANCELLED', 'Cancelled'],
  ['CRASHED', 'Crashed'],
  ['PAUSED', 'Paused'],
  ['CANCELLING', 'Cancelling'],
];

describeBackends('flow runs', (backend) => {
  const h = freshHarness({}, backend);

  const { flow, flowRun, taskRun } = creators(() => h);
  const { read, count, filterIds, rejectsSort } = readers(() => h, '/api/flow_runs');

  async function setState(id: string, state: Record<string, unknown>, force = false): Promise<Reply> {
    return h.call('POST', `/api/flow_runs/${id}/set_state`, { state, force });
  }

  // ── create: shape and defaults ──────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/: shape and defaults', () => {
    test('minimal body → 201 with every field, in Prefect order, plus trailing labels', async () => {
      const f = await flow();
      const before = Date.now();
      const reply = await h.call('POST', '/api/flow_runs/', { flow_id: f.id });
      const after = Date.now();
      expect(reply.status).toBe(201);
      expect(reply.headers.get('content-type')).toContain('application/json');
      const run = reply.body;
      expect(Object.keys(run)).toEqual(FLOW_RUN_FIELDS);
      expect(run.id).toMatch(UUID_RE);
      nearNow(run.created, before, after);
      expect(run.updated).toMatch(DATETIME_RE);
      expect(run.name).toMatch(SLUG_RE);
      expect(run.flow_id).toBe(f.id);
      expect(run).toMatchObject({
        deployment_id: null,
        deployment_version: null,
        work_queue_id: null,
        work_queue_name: null,
        flow_version: null,
        parameters: {},
        idempotency_key: null,
        context: {},
        empirical_policy: DEFAULT_POLICY,
        tags: [],
        parent_task_run_id: null,
        state_type: 'PENDING',
        state_name: 'Pending',
        run_count: 0,
        next_scheduled_start_time: null,
        start_time: null,
        end_time: null,
        total_run_time: 0,
        estimated_run_time: 0,
        auto_scheduled: false,
        infrastructure_document_id: null,
        infrastructure_pid: null,
        created_by: null,
        work_pool_id: null,
        work_pool_name: null,
        job_variables: {},
        labels: {},
      });
      expect(Object.keys(run.empirical_policy)).toEqual(Object.keys(DEFAULT_POLICY));
      expect(typeof run.estimated_start_time_delta).toBe('number');
      expect(run.estimated_start_time_delta).toBeGreaterThanOrEqual(0);
    });

    test('the embedded state: server-stamped PENDING with the full state_details', async () => {
      const f = await flow();
      const before = Date.now();
      const run = await flowRun({ flow_id: f.id });
      const state = run.state;
      expect(Object.keys(state)).toEqual(STATE_FIELDS);
      expect(Object.keys(state.state_details)).toEqual(STATE_DETAILS_FIELDS);
      expect(state.id).toMatch(UUID_RE);
      expect(run.state_id).toBe(state.id);
      expect(state.type).toBe('PENDING');
      expect(state.name).toBe('Pending');
      expect(state.message).toBeNull();
      expect(state.data).toBeNull();
      nearNow(state.timestamp, before);
      expect(run.expected_start_time).toBe(state.timestamp);
      expect(state.state_details).toEqual({
        flow_run_id: run.id,
        task_run_id: null,
        child_flow_run_id: null,
        scheduled_time: null,
        cache_key: null,
        cache_expiration: null,
        deferred: false,
        untrackable_result: false,
        pause_timeout: null,
        pause_reschedule: false,
        pause_key: null,
        run_input_keyset: null,
        refresh_cache: null,
        retriable: null,
        transition_id: null,
        task_parameters_id: null,
      });
    });

    test('durations and retry_delay_seconds are serialized as floats in the raw text', async () => {
      const f = await flow();
      const reply = await h.call('POST', '/api/flow_runs/', { flow_id: f.id });
      expect(rawField(reply.text, 'total_run_time')).toBe('0.0');
      expect(rawField(reply.text, 'estimated_run_time')).toBe('0.0');
      expect(rawField(reply.text, 'retry_delay_seconds')).toBe('0.0');
      expect(rawField(reply.text, 'estimated_start_time_delta')).toMatch(/^\d+(\.\d+)?(e-?\d+)?$/);
      expect(rawField(reply.text, 'estimated_start_time_delta')).toMatch(/[.e]/);
      const got = await h.call('GET', `/api/flow_runs/${reply.body.id}`);
      expect(rawField(got.text, 'total_run_time')).toBe('0.0');
      expect(rawField(got.text, 'run_count')).toBe('0');
    });

    test.each([[{}], [{ name: '' }], [{ name: null }]])('name from %p → a random two-word slug', async (extra) => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, ...extra });
      expect(run.name).toMatch(SLUG_RE);
    });

    test('supplied fields round-trip', async () => {
      const f = await flow();
      const body = {
        flow_id: f.id,
        name: 'my run',
        flow_version: '1.2.3',
        parameters: { x: 1, nested: { list: [1, 'two', null], big: 12345678901 } },
        context: { who: 'tests' },
        tags: ['nightly', 'sales'],
        deployment_id: OTHER_ID, // not checked for existence
        labels: { team: 'data', n: 2 },
        work_queue_name: 'queue-a',
        work_pool_name: 'pool-a',
        job_variables: { image: 'python:3.12', env: { A: '1' } },
        idempotency_key: 'key-1',
      };
      const reply = await h.call('POST', '/api/flow_runs/', body);
      expect(reply.status).toBe(201);
      const { flow_id, ...rest } = body;
      expect(reply.body).toMatchObject({ flow_id, ...rest });
      expect(stable(await read(reply.body.id))).toEqual(stable(reply.body));
    });

    test('explicit nulls for optional fields are accepted', async () => {
      const f = await flow();
      const reply = await h.call('POST', '/api/flow_runs/', {
        flow_id: f.id,
        state: null,
        flow_version: null,
        idempotency_key: null,
        parent_task_run_id: null,
        deployment_id: null,
        infrastructure_document_id: null,
      });
      expect(reply.status).toBe(201);
      expect(reply.body.state_type).toBe('PENDING');
    });

    test('creation times increase and ids are distinct', async () => {
      const f = await flow();
      const a = await flowRun({ flow_id: f.id });
      const b = await flowRun({ flow_id: f.id });
      expect(b.id).not.toBe(a.id);
      expect(micros(b.created)).toBeGreaterThan(micros(a.created));
    });
  });

  // ── create: validation and links ────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/: validation and links', () => {
    test('flow_id is required', async () => {
      const errors = validation(await h.call('POST', '/api/flow_runs/', { name: 'x' }));
      expect(errors).toContainEqual(expect.objectContaining({ type: 'missing', loc: ['body', 'flow_id'] }));
    });

    test('a missing body → 422 missing at ["body"]', async () => {
      const errors = validation(await h.call('POST', '/api/flow_runs/'));
      expect(errors[0]).toMatchObject({ type: 'missing', loc: ['body'] });
    });

    test('a malformed flow_id → 422 uuid_parsing', async () => {
      const errors = validation(await h.call('POST', '/api/flow_runs/', { flow_id: 'nope' }));
      expect(errors[0]).toMatchObject({ type: 'uuid_parsing', loc: ['body', 'flow_id'] });
    });

    test('an unknown flow_id → 409 with the data-integrity text; nothing stored', async () => {
      const reply = await h.call('POST', '/api/flow_runs/', { flow_id: MISSING_ID });
      expectReply(reply, 409, INTEGRITY);
      expect(await count()).toBe(0);
    });

    test('an unknown parent_task_run_id → 409; an existing one is stored', async () => {
      const f = await flow();
      const bad = await h.call('POST', '/api/flow_runs/', { flow_id: f.id, parent_task_run_id: MISSING_ID });
      expectReply(bad, 409, INTEGRITY);
      const parent = await flowRun({ flow_id: f.id });
      const task = await taskRun({ flow_run_id: parent.id });
      const sub = await flowRun({ flow_id: f.id, parent_task_run_id: task.id });
      expect(sub.parent_task_run_id).toBe(task.id);
      expect(await count()).toBe(2);
    });

    test('deployment_id is not checked for existence', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, deployment_id: MISSING_ID });
      expect(run.deployment_id).toBe(MISSING_ID);
    });

    test('a non-null infrastructure_document_id → 409 with a JSON detail (blocks are not stored)', async () => {
      const f = await flow();
      const reply = await h.call('POST', '/api/flow_runs/', { flow_id: f.id, infrastructure_document_id: OTHER_ID });
      expect(reply.status).toBe(409);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(typeof reply.body.detail).toBe('string');
      expect(await count()).toBe(0);
    });

    test.each([
      ['colour', 'teal'],
      ['id', OTHER_ID],
      ['run_count', 3],
      ['state_type', 'RUNNING'],
    ])('an unknown key %p → 422 extra_forbidden', async (key, value) => {
      const f = await flow();
      const errors = validation(await h.call('POST', '/api/flow_runs/', { flow_id: f.id, [key]: value }));
      expect(errors).toContainEqual(extraForbidden(key, value));
      expect(await count()).toBe(0);
    });

    test('wrong types → 422 (tags of numbers, parameters as a list)', async () => {
      const f = await flow();
      expect(validation(await h.call('POST', '/api/flow_runs/', { flow_id: f.id, tags: [1] }))[0]).toMatchObject({
        type: 'string_type',
        loc: ['body', 'tags', 0],
      });
      expect(validation(await h.call('POST', '/api/flow_runs/', { flow_id: f.id, parameters: [1] }))[0]).toMatchObject({
        type: 'dict_type',
        loc: ['body', 'parameters'],
      });
    });

    test('a malformed X-PREFECT-API-VERSION → 400, nothing stored', async () => {
      const f = await flow();
      const reply = await h.call('POST', '/api/flow_runs/', { flow_id: f.id }, { 'x-prefect-api-version': '1.2' });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        detail: "Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received 1.2",
      });
      expect(await count()).toBe(0);
    });
  });

  // ── create: states ──────────────────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/: initial state and denormalized fields', () => {
    test.each(STATE_TYPES)('state type %s gets the default name %p', async (type, name) => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, state: { type } });
      expect(run.state_type).toBe(type);
      expect(run.state_name).toBe(name);
      expect(run.state.type).toBe(type);
      expect(run.state.name).toBe(name);
      expect(run.state_id).toBe(run.state.id);
    });

    test('RUNNING sets start_time = expected_start_time = state timestamp and run_count 1', async () => {
      const f = await flow();
      const before = Date.now();
      const reply = await h.call('POST', '/api/flow_runs/', { flow_id: f.id, state: { type: 'RUNNING' }, tags: ['nightly'] });
      expect(reply.status).toBe(201);
      const run = reply.body;
      nearNow(run.state.timestamp, before);
      expect(run.start_time).toBe(run.state.timestamp);
      expect(run.expected_start_time).toBe(run.state.timestamp);
      expect(run.run_count).toBe(1);
      expect(run.end_time).toBeNull();
      expect(run.next_scheduled_start_time).toBeNull();
      expect(run.estimated_run_time).toBeGreaterThanOrEqual(0);
      expect(rawField(reply.text, 'total_run_time')).toBe('0.0');
    });

    test('SCHEDULED with a scheduled_time sets next_scheduled_start_time and expected_start_time to it', async () => {
      const f = await flow();
      const run = await flowRun({
        flow_id: f.id,
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2030-01-01T02:00:00+02:00' } },
      });
      expect(run.state.state_details.scheduled_time).toBe('2030-01-01T00:00:00Z');
      expect(run.next_scheduled_start_time).toBe('2030-01-01T00:00:00Z');
      expect(run.expected_start_time).toBe('2030-01-01T00:00:00Z');
      expect(run.start_time).toBeNull();
      expect(run.run_count).toBe(0);
      expect(run.state_name).toBe('Scheduled');
      // not late yet: no start delta
      expect(run.estimated_start_time_delta).toBe(0);
    });

    test('SCHEDULED without a scheduled_time is scheduled for now', async () => {
      const f = await flow();
      const before = Date.now();
      const run = await flowRun({ flow_id: f.id, state: { type: 'SCHEDULED' } });
      const scheduled = run.state.state_details.scheduled_time;
      expect(scheduled).not.toBeNull();
      nearNow(scheduled, before);
      expect(run.next_scheduled_start_time).toBe(scheduled);
      expect(run.expected_start_time).toBe(scheduled);
    });

    test('COMPLETED at creation leaves start_time and end_time null', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, state: { type: 'COMPLETED' } });
      expect(run.start_time).toBeNull();
      expect(run.end_time).toBeNull();
      expect(run.run_count).toBe(0);
      expect(run.expected_start_time).toBe(run.state.timestamp);
      expect(run.estimated_start_time_delta).toBe(0);
    });

    test('a custom state name and message are kept', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, state: { type: 'SCHEDULED', name: 'Late', message: 'running behind' } });
      expect(run.state_type).toBe('SCHEDULED');
      expect(run.state_name).toBe('Late');
      expect(run.state.name).toBe('Late');
      expect(run.state.message).toBe('running behind');
      expect((await read(run.id)).state.message).toBe('running behind');
    });

    test('a timestamp in the state → 422 extra_forbidden (the server stamps states)', async () => {
      const f = await flow();
      const errors = validation(
        await h.call('POST', '/api/flow_runs/', {
          flow_id: f.id,
          state: { type: 'RUNNING', timestamp: '2020-01-01T00:00:00Z' },
        }),
      );
      expect(errors[0]).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'state', 'timestamp'] });
      expect(await count()).toBe(0);
    });

    test('unknown keys inside state_details are ignored', async () => {
      const f = await flow();
      const run = await flowRun({
        flow_id: f.id,
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2031-05-06T07:08:09.123456Z', bogus: 1 } },
      });
      expect(Object.keys(run.state.state_details)).toEqual(STATE_DETAILS_FIELDS);
      expect(run.next_scheduled_start_time).toBe('2031-05-06T07:08:09.123456Z');
    });

    test('an unknown state type → 422 enum; a state without type → 422 missing', async () => {
      const f = await flow();
      expect(
        validation(await h.call('POST', '/api/flow_runs/', { flow_id: f.id, state: { type: 'DONE' } }))[0],
      ).toMatchObject({ type: 'enum', loc: ['body', 'state', 'type'] });
      expect(
        validation(await h.call('POST', '/api/flow_runs/', { flow_id: f.id, state: { type: 'running' } }))[0],
      ).toMatchObject({ type: 'enum', loc: ['body', 'state', 'type'] });
      expect(
        validation(await h.call('POST', '/api/flow_runs/', { flow_id: f.id, state: { name: 'x' } }))[0],
      ).toMatchObject({ type: 'missing', loc: ['body', 'state', 'type'] });
    });
  });

  // ── create: empirical_policy ────────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/: empirical_policy', () => {
    test('max_retries/retry_delay_seconds are copied into null retries/retry_delay; floats stay floats', async () => {
      const f = await flow();
      const reply = await h.call('POST', '/api/flow_runs/', {
        flow_id: f.id,
        empirical_policy: { max_retries: 3, retry_delay_seconds: 5 },
      });
      expect(reply.status).toBe(201);
      expect(reply.body.empirical_policy).toEqual({ ...DEFAULT_POLICY, max_retries: 3, retry_delay_seconds: 5, retries: 3, retry_delay: 5 });
      expect(rawField(reply.text, 'retry_delay_seconds')).toBe('5.0');
      expect(rawField(reply.text, 'retry_delay')).toBe('5');
      expect(rawField(reply.text, 'retries')).toBe('3');
    });

    test('retries 0 is also replaced by max_retries; a non-zero retries is kept', async () => {
      const f = await flow();
      const zero = await flowRun({ flow_id: f.id, empirical_policy: { max_retries: 2, retries: 0 } });
      expect(zero.empirical_policy.retries).toBe(2);
      const kept = await flowRun({ flow_id: f.id, empirical_policy: { max_retries: 2, retries: 7, retry_delay: 1 } });
      expect(kept.empirical_policy.retries).toBe(7);
      expect(kept.empirical_policy.retry_delay).toBe(1);
      expect(kept.empirical_policy.max_retries).toBe(2);
    });

    test('retries alone leaves max_retries 0', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, empirical_policy: { retries: 4, retry_delay: 10 } });
      expect(run.empirical_policy).toEqual({ ...DEFAULT_POLICY, retries: 4, retry_delay: 10 });
    });

    test('unknown keys inside empirical_policy are ignored', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, empirical_policy: { retries: 1, bogus: true } });
      expect(run.empirical_policy).toEqual({ ...DEFAULT_POLICY, retries: 1 });
    });
  });

  // ── create: idempotency ─────────────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/: idempotency_key', () => {
    test('a repeated key answers 200 with the original run unchanged (supplied state ignored)', async () => {
      const f = await flow();
      const first = await flowRun({ flow_id: f.id, idempotency_key: 'nightly-2024-09-05', tags: ['a'] });
      const again = await h.call('POST', '/api/flow_runs/', {
        flow_id: f.id,
        idempotency_key: 'nightly-2024-09-05',
        state: { type: 'RUNNING' },
        tags: ['b'],
        name: 'other-name',
      });
      expect(again.status).toBe(200);
      expect(stable(again.body)).toEqual(stable(first));
      expect(again.body.state_type).toBe('PENDING');
      expect(await count()).toBe(1);
    });

    test('keys are scoped per flow', async () => {
      const f1 = await flow('one');
      const f2 = await flow('two');
      const a = await flowRun({ flow_id: f1.id, idempotency_key: 'k' });
      const b = await h.call('POST', '/api/flow_runs/', { flow_id: f2.id, idempotency_key: 'k' });
      expect(b.status).toBe(201);
      expect(b.body.id).not.toBe(a.id);
      expect(b.body.idempotency_key).toBe('k');
      expect(await count()).toBe(2);
    });

    test('different keys or no key always insert', async () => {
      const f = await flow();
      await flowRun({ flow_id: f.id, idempotency_key: 'k1' });
      await flowRun({ flow_id: f.id, idempotency_key: 'k2' });
      await flowRun({ flow_id: f.id });
      await flowRun({ flow_id: f.id, idempotency_key: null });
      expect(await count()).toBe(4);
    });

    test('"" is stored: the first create is 201, a second for the same flow is 409; another flow is fine', async () => {
      const f = await flow('one');
      const g = await flow('two');
      const first = await h.call('POST', '/api/flow_runs/', { flow_id: f.id, idempotency_key: '' });
      expect(first.status).toBe(201);
      expect(first.body.idempotency_key).toBe('');
      const second = await h.call('POST', '/api/flow_runs/', { flow_id: f.id, idempotency_key: '' });
      expectReply(second, 409, INTEGRITY);
      const other = await h.call('POST', '/api/flow_runs/', { flow_id: g.id, idempotency_key: '' });
      expect(other.status).toBe(201);
      expect(await count()).toBe(2);
    });
  });

  // ── GET ─────────────────────────────────────────────────────────────────────────────────────

  describe('GET /api/flow_runs/{id}', () => {
    test('answers the stored run', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, state: { type: 'RUNNING' }, tags: ['x'] });
      const reply = await h.call('GET', `/api/flow_runs/${run.id}`);
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.body)).toEqual(FLOW_RUN_FIELDS);
      expect(stable(reply.body)).toEqual(stable(run));
    });

    test('an unknown id → 404 {"detail": "Flow run not found"}', async () => {
      const reply = await h.call('GET', `/api/flow_runs/${MISSING_ID}`);
      expectReply(reply, 404, RUN_NOT_FOUND);
    });

    test('a malformed id → 422 uuid_parsing at ["path","id"]', async () => {
      const errors = validation(await h.call('GET', '/api/flow_runs/not-a-uuid'));
      expect(errors[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'id'] });
    });
  });

  // ── filter: sorts ───────────────────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/filter: sorts', () => {
    /**
     * Created in this order (t1 < t2 < … by creation):
     *  r1 "delta"   RUNNING at t1             start t1,   expected t1
     *  r2 "alpha"   SCHEDULED for 2030        start null, expected 2030, next 2030
     *  r3 "echo"    SCHEDULED for 2020, later forced RUNNING at t6: start t6, expected 2020, next null
     *  r4 "charlie" PENDING at t4             start null, expected t4
     *  r5 "bravo"   RUNNING at t5, then COMPLETED: start t5, expected t5, end set
     */
    async function seed() {
      const f = await flow();
      const r1 = await flowRun({ flow_id: f.id, name: 'delta', state: { type: 'RUNNING' } });
      const r2 = await flowRun({
        flow_id: f.id,
        name: 'alpha',
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2030-01-01T00:00:00Z' } },
      });
      const r3 = await flowRun({
        flow_id: f.id,
        name: 'echo',
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2020-01-01T00:00:00Z' } },
      });
      const r4 = await flowRun({ flow_id: f.id, name: 'charlie' });
      const r5 = await flowRun({ flow_id: f.id, name: 'bravo', state: { type: 'RUNNING' } });
      expect((await setState(r5.id, { type: 'COMPLETED' })).status).toBe(201);
      expect((await setState(r3.id, { type: 'RUNNING' }, true)).status).toBe(201);
      const r3now = await read(r3.id);
      expect(r3now.expected_start_time).toBe('2020-01-01T00:00:00Z');
      expect(r3now.start_time).not.toBeNull();
      expect(r3now.next_scheduled_start_time).toBeNull();
      return { r1, r2, r3, r4, r5, all: [r1.id, r2.id, r3.id, r4.id, r5.id] };
    }

    test('default is ID_DESC', async () => {
      const s = await seed();
      expect(await filterIds({})).toEqual(byIdDesc(s.all));
      expect(await filterIds({ sort: 'ID_DESC' })).toEqual(byIdDesc(s.all));
      expect(await filterIds({ sort: null })).toEqual(byIdDesc(s.all));
    });

    test('START_TIME_ASC / _DESC use start_time, falling back to expected_start_time', async () => {
      const { r1, r2, r3, r4, r5 } = await seed();
      const asc = [r1.id, r4.id, r5.id, r3.id, r2.id];
      expect(await filterIds({ sort: 'START_TIME_ASC' })).toEqual(asc);
      expect(await filterIds({ sort: 'START_TIME_DESC' })).toEqual([...asc].reverse());
    });

    test('EXPECTED_START_TIME_ASC / _DESC', async () => {
      const { r1, r2, r3, r4, r5 } = await seed();
      const asc = [r3.id, r1.id, r4.id, r5.id, r2.id];
      expect(await filterIds({ sort: 'EXPECTED_START_TIME_ASC' })).toEqual(asc);
      expect(await filterIds({ sort: 'EXPECTED_START_TIME_DESC' })).toEqual([...asc].reverse());
    });

    test('NAME_ASC / NAME_DESC', async () => {
      const { r1, r2, r3, r4, r5 } = await seed();
      const asc = [r2.id, r5.id, r4.id, r1.id, r3.id];
      expect(await filterIds({ sort: 'NAME_ASC' })).toEqual(asc);
      expect(await filterIds({ sort: 'NAME_DESC' })).toEqual([...asc].reverse());
    });

    test('NEXT_SCHEDULED_START_TIME_ASC: NULLs first (ties by id descending), then by time', async () => {
      const { r1, r2, r3, r4, r5 } = await seed();
      const nulls = byIdDesc([r1.id, r3.id, r4.id, r5.id]);
      expect(await filterIds({ sort: 'NEXT_SCHEDULED_START_TIME_ASC' })).toEqual([...nulls, r2.id]);
    });

    test('END_TIME_DESC: runs with an end_time first, NULLs last (ties by id descending)', async () => {
      const { r1, r2, r3, r4, r5 } = await seed();
      const nulls = byIdDesc([r1.id, r2.id, r3.id, r4.id]);
      expect(await filterIds({ sort: 'END_TIME_DESC' })).toEqual([r5.id, ...nulls]);
    });

    test('ties on equal names are broken by id descending', async () => {
      const f = await flow();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await flowRun({ flow_id: f.id, name: 'same' })).id);
      expect(await filterIds({ sort: 'NAME_ASC' })).toEqual(byIdDesc(ids));
      expect(await filterIds({ sort: 'NAME_DESC' })).toEqual(byIdDesc(ids));
    });

    test('an unknown sort → 422 enum', async () => {
      for (const sort of ['CREATED_DESC', 'start_time_asc', 'END_TIME_ASC']) {
        await rejectsSort(sort);
      }
    });

    test('limit and offset', async () => {
      const s = await seed();
      const all = byIdDesc(s.all);
      expect(await filterIds({ limit: 2 })).toEqual(all.slice(0, 2));
      expect(await filterIds({ limit: 2, offset: 2 })).toEqual(all.slice(2, 4));
      expect(await filterIds({ offset: 4 })).toEqual(all.slice(4));
      expect(await filterIds({ offset: 10 })).toEqual([]);
      expect(await filterIds({ limit: 0 })).toEqual([]);
      limitRejected(await h.call('POST', '/api/flow_runs/filter', { limit: 201 }), LIMIT_MAX);
      limitRejected(await h.call('POST', '/api/flow_runs/filter', { limit: -1 }), LIMIT_MIN);
      expect(validation(await h.call('POST', '/api/flow_runs/filter', { offset: -1 }))[0]).toMatchObject({
        type: 'greater_than_equal',
        loc: ['body', 'offset'],
      });
    });

    test('filter answers full FlowRunResponse objects', async () => {
      const s = await seed();
      const reply = await h.call('POST', '/api/flow_runs/filter', { flow_runs: { id: { any_: [s.r5.id] } } });
      expect(reply.body).toHaveLength(1);
      expect(Object.keys(reply.body[0])).toEqual(FLOW_RUN_FIELDS);
      expect(stable(reply.body[0])).toEqual(stable(await read(s.r5.id)));
    });
  });

  // ── filter / count: filters ─────────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/filter and /count: filters', () => {
    /**
     * flows: etl (tags [prod]), ml
     * deployment D of etl; deployment_id MISSING_ID is dangling
     * runs: a (etl, COMPLETED after RUNNING, tags [x, y], deployment D, idempotency "ka", flow_version "1")
     *       b (etl, FAILED, tags [y], dangling deployment)
     *       c (ml, SCHEDULED 2030 named "Late", tags [], work_queue_name "q")
     *       d (ml, RUNNING, sub-flow of a's task run ta)
     * task runs: ta in a (COMPLETED), tb in b (PENDING)
     */
    async function seed() {
      const etl = await flow('etl');
      await h.call('PATCH', `/api/flows/${etl.id}`, { tags: ['prod'] });
      const ml = await flow('ml');
      const dep = await h.call('POST', '/api/deployments/', { name: 'D', flow_id: etl.id, tags: ['dt'] });
      expect(dep.status).toBe(201);
      const D = dep.body;
      const a = await flowRun({
        flow_id: etl.id,
        name: 'run-a',
        state: { type: 'RUNNING' },
        tags: ['x', 'y'],
        deployment_id: D.id,
        idempotency_key: 'ka',
        flow_version: '1',
      });
      expect((await setState(a.id, { type: 'COMPLETED' })).status).toBe(201);
      const b = await flowRun({ flow_id: etl.id, name: 'run-b', state: { type: 'FAILED' }, tags: ['y'], deployment_id: MISSING_ID });
      const c = await flowRun({
        flow_id: ml.id,
        name: 'other-c',
        state: { type: 'SCHEDULED', name: 'Late', state_details: { scheduled_time: '2030-01-01T00:00:00Z' } },
        work_queue_name: 'q',
      });
      const ta = await taskRun({ flow_run_id: a.id, task_key: 'extract', state: { type: 'COMPLETED' } });
      const tb = await taskRun({ flow_run_id: b.id, task_key: 'load' });
      const d = await flowRun({ flow_id: ml.id, name: 'sub-d', state: { type: 'RUNNING' }, parent_task_run_id: ta.id });
      return { etl, ml, D, a, b, c, d, ta, tb };
    }

    const both = async (body: Record<string, unknown>) => {
      const ids = await filterIds(body);
      expect(await count(body)).toBe(ids.length);
      return [...ids].sort();
    };
    const ids = (...runs: any[]) => runs.map((r) => r.id).sort();

    test('count is a bare integer and ignores paging', async () => {
      await seed();
      const reply = await h.call('POST', '/api/flow_runs/count', {});
      expect(reply.text).toBe('4');
      expect(await count({ limit: 1, offset: 3, sort: 'NOPE' })).toBe(4);
      expect(await count(undefined)).toBe(4);
    });

    test('id, name, tags (all_, any_, is_null_), flow_version, idempotency_key', async () => {
      const s = await seed();
      expect(await both({ flow_runs: { id: { any_: [s.a.id, s.c.id] } } })).toEqual(ids(s.a, s.c));
      expect(await both({ flow_runs: { id: { not_any_: [s.a.id] } } })).toEqual(ids(s.b, s.c, s.d));
      expect(await both({ flow_runs: { name: { any_: ['run-a', 'sub-d'] } } })).toEqual(ids(s.a, s.d));
      expect(await both({ flow_runs: { name: { like_: 'RUN-' } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flow_runs: { tags: { all_: ['x', 'y'] } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { tags: { all_: ['y'] } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flow_runs: { tags: { any_: ['x', 'zzz'] } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { tags: { any_: ['x', 'y'] } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flow_runs: { tags: { is_null_: true } } })).toEqual(ids(s.c, s.d));
      expect(await both({ flow_runs: { tags: { is_null_: false } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flow_runs: { flow_version: { any_: ['1'] } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { idempotency_key: { any_: ['ka'] } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { idempotency_key: { not_any_: ['ka'] } } })).toEqual([]);
    });

    test('state type / name, with the operator applied to the flattened leaves', async () => {
      const s = await seed();
      expect(await both({ flow_runs: { state: { type: { any_: ['COMPLETED', 'FAILED'] } } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flow_runs: { state: { type: { not_any_: ['RUNNING'] } } } })).toEqual(ids(s.a, s.b, s.c));
      expect(await both({ flow_runs: { state: { name: { any_: ['Late'] } } } })).toEqual(ids(s.c));
      expect(await both({ flow_runs: { state: { name: { not_any_: ['Late', 'Running'] } } } })).toEqual(ids(s.a, s.b));
      expect(
        await both({ flow_runs: { state: { operator: 'or_', type: { any_: ['FAILED'] }, name: { any_: ['Late'] } } } }),
      ).toEqual(ids(s.b, s.c));
      expect(
        await both({ flow_runs: { state: { type: { any_: ['SCHEDULED'] }, name: { any_: ['Scheduled'] } } } }),
      ).toEqual([]);
    });

    test('deployment_id, work_queue_name, parent_task_run_id, parent_flow_run_id', async () => {
      const s = await seed();
      expect(await both({ flow_runs: { deployment_id: { any_: [s.D.id] } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { deployment_id: { any_: [MISSING_ID] } } })).toEqual(ids(s.b));
      expect(await both({ flow_runs: { deployment_id: { is_null_: true } } })).toEqual(ids(s.c, s.d));
      expect(await both({ flow_runs: { work_queue_name: { any_: ['q'] } } })).toEqual(ids(s.c));
      expect(await both({ flow_runs: { parent_task_run_id: { any_: [s.ta.id] } } })).toEqual(ids(s.d));
      expect(await both({ flow_runs: { parent_task_run_id: { is_null_: false } } })).toEqual(ids(s.d));
      expect(await both({ flow_runs: { parent_flow_run_id: { any_: [s.a.id] } } })).toEqual(ids(s.d));
      expect(await both({ flow_runs: { parent_flow_run_id: { any_: [s.b.id] } } })).toEqual([]);
    });

    test('times: start_time, expected_start_time, next_scheduled_start_time, end_time (HEAD)', async () => {
      const s = await seed();
      expect(await both({ flow_runs: { start_time: { is_null_: true } } })).toEqual(ids(s.b, s.c));
      expect(await both({ flow_runs: { start_time: { is_null_: false } } })).toEqual(ids(s.a, s.d));
      expect(await both({ flow_runs: { expected_start_time: { after_: '2029-01-01T00:00:00Z' } } })).toEqual(ids(s.c));
      expect(await both({ flow_runs: { expected_start_time: { before_: '2029-01-01T00:00:00Z' } } })).toEqual(
        ids(s.a, s.b, s.d),
      );
      expect(
        await both({ flow_runs: { next_scheduled_start_time: { before_: '2030-01-01T00:00:00Z', after_: '2030-01-01T00:00:00Z' } } }),
      ).toEqual(ids(s.c));
      expect(await both({ flow_runs: { end_time: { is_null_: false } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { end_time: { is_null_: true } } })).toEqual(ids(s.b, s.c, s.d));
      const end = (await read(s.a.id)).end_time;
      expect(await both({ flow_runs: { end_time: { after_: end, before_: end } } })).toEqual(ids(s.a));
      expect(await both({ flow_runs: { end_time: { before_: '2000-01-01T00:00:00Z' } } })).toEqual([]);
    });

    test('created_by (HEAD): runs created here have created_by null', async () => {
      const s = await seed();
      expect(await both({ flow_runs: { created_by: { is_null_: true } } })).toEqual(ids(s.a, s.b, s.c, s.d));
      expect(await both({ flow_runs: { created_by: { is_null_: false } } })).toEqual([]);
      expect(await both({ flow_runs: { created_by: { id_: [OTHER_ID] } } })).toEqual([]);
      expect(await both({ flow_runs: { created_by: { type_: ['DEPLOYMENT'] } } })).toEqual([]);
    });

    test('flows: the run\'s flow matches', async () => {
      const s = await seed();
      expect(await both({ flows: { name: { any_: ['etl'] } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flows: { tags: { all_: ['prod'] } } })).toEqual(ids(s.a, s.b));
      expect(await both({ flows: { id: { any_: [s.ml.id] } } })).toEqual(ids(s.c, s.d));
      expect(await both({ flows: {} })).toEqual(ids(s.a, s.b, s.c, s.d));
    });

    test('deployments: the run needs an existing deployment that matches ({} drops dangling and null ids)', async () => {
      const s = await seed();
      expect(await both({ deployments: {} })).toEqual(ids(s.a));
      expect(await both({ deployments: { name: { any_: ['D'] } } })).toEqual(ids(s.a));
      expect(await both({ deployments: { tags: { all_: ['nope'] } } })).toEqual([]);
    });

    test('task_runs: some task run of the run matches ({} = has at least one)', async () => {
      const s = await seed();
      expect(await both({ task_runs: {} })).toEqual(ids(s.a, s.b));
      expect(await both({ task_runs: { state: { type: { any_: ['COMPLETED'] } } } })).toEqual(ids(s.a));
      expect(await both({ task_runs: { subflow_runs: { exists_: true } } })).toEqual(ids(s.a));
      expect(await both({ task_runs: { name: { any_: ['nope'] } } })).toEqual([]);
    });

    test('all parts are ANDed', async () => {
      const s = await seed();
      expect(await both({ flows: { name: { any_: ['etl'] } }, flow_runs: { tags: { all_: ['y'] } }, task_runs: {} })).toEqual(
        ids(s.a, s.b),
      );
      expect(await both({ flows: { name: { any_: ['etl'] } }, flow_runs: { state: { type: { any_: ['FAILED'] } } }, deployments: {} })).toEqual(
        [],
      );
      expect(
        await both({ flows: null, flow_runs: null, task_runs: null, deployments: null, work_pools: null, work_pool_queues: null }),
      ).toEqual(ids(s.a, s.b, s.c, s.d));
    });

    test('non-null work_pools / work_pool_queues → 501 with a JSON detail naming the key', async () => {
      await seed();
      for (const route of ['/api/flow_runs/filter', '/api/flow_runs/count']) {
        for (const key of ['work_pools', 'work_pool_queues']) {
          const reply = await h.call('POST', route, { [key]: {} });
          expect(reply.status).toBe(501);
          expect(reply.headers.get('content-type')).toContain('application/json');
          expect(reply.body.detail).toContain(key);
        }
      }
    });

    test('invalid filter content → 422 at the right location', async () => {
      expect(
        validation(await h.call('POST', '/api/flow_runs/filter', { flow_runs: { state: { type: { any_: ['DONE'] } } } }))[0],
      ).toMatchObject({ type: 'enum', loc: ['body', 'flow_runs', 'state', 'type', 'any_', 0] });
      expect(validation(await h.call('POST', '/api/flow_runs/filter', { flow_runs: { colour: 1 } }))[0]).toMatchObject({
        type: 'extra_forbidden',
        loc: ['body', 'flow_runs', 'colour'],
      });
      expect(
        validation(await h.call('POST', '/api/flow_runs/count', { flow_runs: { end_time: { after_: 'garbage' } } }))[0],
      ).toMatchObject({ type: 'value_error', loc: ['body', 'flow_runs', 'end_time', 'after_'] });
    });
  });

  // ── DELETE ──────────────────────────────────────────────────────────────────────────────────

  describe('DELETE /api/flow_runs/{id}', () => {
    test('204 empty, then 404 "Flow run not found" on read and on a second delete', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id });
      const reply = await h.call('DELETE', `/api/flow_runs/${run.id}`);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      expect((await h.call('GET', `/api/flow_runs/${run.id}`)).body).toEqual(RUN_NOT_FOUND);
      const again = await h.call('DELETE', `/api/flow_runs/${run.id}`);
      expectReply(again, 404, RUN_NOT_FOUND);
      expect((await h.call('GET', `/api/flows/${f.id}`)).status).toBe(200);
    });

    test('deletes its task runs; sub-flow runs of those task runs get parent_task_run_id null; artifacts survive', async () => {
      const f = await flow();
      const parent = await flowRun({ flow_id: f.id });
      const t1 = await taskRun({ flow_run_id: parent.id, task_key: 'a' });
      const t2 = await taskRun({ flow_run_id: parent.id, task_key: 'b' });
      const other = await flowRun({ flow_id: f.id });
      const t3 = await taskRun({ flow_run_id: other.id });
      const sub = await flowRun({ flow_id: f.id, parent_task_run_id: t1.id });
      const artifact = await h.create({ key: 'kept', flow_run_id: parent.id, task_run_id: t1.id });

      expect((await h.call('DELETE', `/api/flow_runs/${parent.id}`)).status).toBe(204);
      expect((await h.call('GET', `/api/task_runs/${t1.id}`)).status).toBe(404);
      expect((await h.call('GET', `/api/task_runs/${t2.id}`)).status).toBe(404);
      expect((await h.call('GET', `/api/task_runs/${t3.id}`)).status).toBe(200);
      expect((await read(sub.id)).parent_task_run_id).toBeNull();
      expect((await h.call('GET', `/api/artifacts/${artifact.id}`)).status).toBe(200);
      expect(await count()).toBe(2);
      expect((await h.call('POST', '/api/task_runs/count', {})).body).toBe(1);
    });

    test('a malformed id → 422', async () => {
      validation(await h.call('DELETE', '/api/flow_runs/not-a-uuid'));
    });
  });

  // ── set_state ───────────────────────────────────────────────────────────────────────────────

  describe('POST /api/flow_runs/{id}/set_state', () => {
    test('PENDING → RUNNING: 201 {state, status: ACCEPT, details}; start_time, run_count, state fields', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id });
      const before = Date.now();
      const reply = await setState(run.id, { type: 'RUNNING' });
      expect(reply.status).toBe(201);
      expect(Object.keys(reply.body)).toEqual(['state', 'status', 'details']);
      expect(reply.body.status).toBe('ACCEPT');
      expect(typeof reply.body.details).toBe('object');
      const state = reply.body.state;
      expect(Object.keys(state)).toEqual(STATE_FIELDS);
      expect(state.type).toBe('RUNNING');
      expect(state.name).toBe('Running');
      expect(state.state_details.flow_run_id).toBe(run.id);
      nearNow(state.timestamp, before);
      const now = await read(run.id);
      expect(now.state_id).toBe(state.id);
      expect(now.state.id).toBe(state.id);
      expect(now.state_type).toBe('RUNNING');
      expect(now.state_name).toBe('Running');
      expect(now.start_time).toBe(state.timestamp);
      expect(now.expected_start_time).toBe(run.expected_start_time);
      expect(now.run_count).toBe(1);
    });

    test('RUNNING → COMPLETED sets end_time and adds the time spent running to total_run_time', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, state: { type: 'RUNNING' } });
      await Bun.sleep(20);
      const reply = await setState(run.id, { type: 'COMPLETED', message: 'done' });
      expect(reply.status).toBe(201);
      expect(reply.body.status).toBe('ACCEPT');
      const done = reply.body.state;
      expect(done.message).toBe('done');
      const got = await h.call('GET', `/api/flow_runs/${run.id}`);
      const now = got.body;
      expect(now.state_type).toBe('COMPLETED');
      expect(now.end_time).toBe(done.timestamp);
      expect(now.start_time).toBe(run.start_time);
      expect(now.run_count).toBe(1);
      const ran = (micros(done.timestamp) - micros(run.state.timestamp)) / 1e6;
      expect(ran).toBeGreaterThan(0.015);
      expect(now.total_run_time).toBeCloseTo(ran, 5);
      expect(now.estimated_run_time).toBeCloseTo(ran, 5);
      expect(now.estimated_start_time_delta).toBe(0);
      expect(rawField(got.text, 'estimated_start_time_delta')).toBe('0.0');
    });

    test('forced COMPLETED → RUNNING clears end_time and counts another run; start_time is kept', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, state: { type: 'RUNNING' } });
      expect((await setState(run.id, { type: 'COMPLETED' })).status).toBe(201);
      expect((await read(run.id)).end_time).not.toBeNull();
      const reply = await setState(run.id, { type: 'RUNNING' }, true);
      expect(reply.status).toBe(201);
      expect(reply.body.status).toBe('ACCEPT');
      const now = await read(run.id);
      expect(now.state_type).toBe('RUNNING');
      expect(now.end_time).toBeNull();
      expect(now.start_time).toBe(run.start_time);
      expect(now.run_count).toBe(2);
    });

    test('leaving SCHEDULED clears next_scheduled_start_time; expected_start_time is kept', async () => {
      const f = await flow();
      const run = await flowRun({
        flow_id: f.id,
        state: { type: 'SCHEDULED', state_details: { scheduled_time: '2020-06-01T00:00:00Z' } },
      });
      expect(run.next_scheduled_start_time).toBe('2020-06-01T00:00:00Z');
      // late and not started: the delta counts from the expected start
      expect(run.estimated_start_time_delta).toBeGreaterThan(60 * 60 * 24 * 365);
      expect((await setState(run.id, { type: 'PENDING' }, true)).status).toBe(201);
      const now = await read(run.id);
      expect(now.next_scheduled_start_time).toBeNull();
      expect(now.expected_start_time).toBe('2020-06-01T00:00:00Z');
      expect((await setState(run.id, { type: 'RUNNING' }, true)).status).toBe(201);
      const started = await read(run.id);
      // started late: delta = start − expected
      const late = (micros(started.start_time) - micros('2020-06-01T00:00:00Z')) / 1e6;
      expect(started.estimated_start_time_delta).toBeCloseTo(late, 3);
    });

    test('entering SCHEDULED sets next_scheduled_start_time', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id });
      const reply = await setState(
        run.id,
        { type: 'SCHEDULED', state_details: { scheduled_time: '2031-01-01T00:00:00Z' } },
        true,
      );
      expect(reply.status).toBe(201);
      const now = await read(run.id);
      expect(now.next_scheduled_start_time).toBe('2031-01-01T00:00:00Z');
      expect(now.expected_start_time).toBe(run.expected_start_time);
    });

    test('an unknown run → 404 {"exception_message": "Flow run with id <id> not found"}', async () => {
      const reply = await setState(MISSING_ID, { type: 'RUNNING' });
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ exception_message: `Flow run with id ${MISSING_ID} not found` });
    });

    test('a missing state or a timestamp in it → 422', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id });
      validation(await h.call('POST', `/api/flow_runs/${run.id}/set_state`, { force: true }));
      expect(
        validation(
          await h.call('POST', `/api/flow_runs/${run.id}/set_state`, {
            state: { type: 'RUNNING', timestamp: '2020-01-01T00:00:00Z' },
          }),
        )[0],
      ).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'state', 'timestamp'] });
      expect((await read(run.id)).state_type).toBe('PENDING');
    });
  });

  // ── PATCH ───────────────────────────────────────────────────────────────────────────────────

  describe('PATCH /api/flow_runs/{id}', () => {
    test('name, flow_version, parameters, tags, infrastructure_pid, job_variables → 204 and stored', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, name: 'before', tags: ['old'], parameters: { a: 1 } });
      const patch = {
        name: 'after',
        flow_version: '2',
        parameters: { b: 2 },
        tags: ['new'],
        infrastructure_pid: 'pid-42',
        job_variables: { image: 'x' },
      };
      const reply = await h.call('PATCH', `/api/flow_runs/${run.id}`, patch);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      const now = await read(run.id);
      expect(now).toMatchObject(patch);
      expect(now.state_type).toBe('PENDING');
      expect(now.flow_id).toBe(f.id);
    });

    test('fields not sent are left alone', async () => {
      const f = await flow();
      const run = await flowRun({ flow_id: f.id, name: 'keep', tags: ['t'] });
      expect((await h.call('PATCH', `/api/flow_runs/${run.id}`, { flow_version: '9' })).status).toBe(204);
      const now = await read(run.id);
      expect(now.name).toBe('keep');
      expect(now.tags).toEqual(['t']);
      expect(now.flow_version).toBe('9');
    });

    test('an unknown run → 404 "Flow run not found"; an unknown key → 422', async () => {
      const missing = await h.call('PATCH', `/api/flow_runs/${MISSING_ID}`, { name: 'x' });
      expectReply(missing, 404, RUN_NOT_FOUND);
      const f = await flow();
      const run = await flowRun({ flow_id: f.id });
      expect(validation(await h.call('PATCH', `/api/flow_runs/${run.id}`, { flow_id: f.id }))[0]).toMatchObject({
        type: 'extra_forbidden',
        loc: ['body', 'flow_id'],
      });
    });
  });
});
