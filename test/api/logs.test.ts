/**
 * `POST /api/logs/` and `POST /api/logs/filter` on every backend, as Prefect 3.0.0 answers them:
 * a batch of LogCreate → 201 with the body `null` (validation in Prefect's 422 shape, an empty
 * batch accepted, a 3,000,000-byte batch — the client's default largest — taken whole); the
 * filter route's embedded body (limit texts as every filter route, offset, LogFilter, sort
 * TIMESTAMP_ASC by default) and the Log JSON in Prefect's field order.
 */
import { describe, expect, test } from 'bun:test';
import { describeBackends } from '../backends.ts';
import { freshHarness } from './fresh-harness.ts';
import { DATETIME_RE, LIMIT_MAX, LIMIT_MIN, UUID_RE, expectReply, issues, nearNow } from './expect.ts';

const LOG_FIELDS = ['id', 'created', 'updated', 'name', 'level', 'message', 'timestamp', 'flow_run_id', 'task_run_id'];
const FLOW_RUN = '8dfa91c0-f9c2-4880-ba19-cda364848c2e';
const OTHER_RUN = '01a24d17-5924-7728-b144-b6d55008b57f';
const TASK_RUN = '47da7627-adc5-41fa-80a2-ab82b653b413';

const line = (i: number, extra: Record<string, unknown> = {}) => ({
  name: i % 2 === 0 ? 'prefect.flow_runs' : 'prefect.task_runs',
  level: [10, 20, 30, 40, 50][i % 5],
  message: `line ${i}`,
  timestamp: new Date(Date.UTC(2026, 11, 6, 20, 41, 0) + i * 1000).toISOString(),
  flow_run_id: i % 3 === 0 ? OTHER_RUN : FLOW_RUN,
  task_run_id: i % 4 === 0 ? TASK_RUN : null,
  ...extra,
});

describeBackends('logs', (backend) => {
  const h = freshHarness({}, backend);
  const filter = async (body: unknown) => {
    const reply = await h.call('POST', '/api/logs/filter', body);
    expect(reply.status).toBe(200);
    return reply.body as any[];
  };
  const seed = async (n: number) => expectReply(await h.call('POST', '/api/logs/', Array.from({ length: n }, (_, i) => line(i))), 201, null);

  describe('POST /api/logs/', () => {
    test('201 with the body null; each line read back as Prefect’s Log', async () => {
      const before = Date.now();
      const reply = await h.call('POST', '/api/logs/', [line(1, { message: 'héllo "quoted" \\ \u0000 ✓' })]);
      expect(reply.status).toBe(201);
      expect(reply.text).toBe('null');
      expect(reply.headers.get('content-type')).toContain('application/json');
      const [log] = await filter({});
      expect(Object.keys(log)).toEqual(LOG_FIELDS);
      expect(log.id).toMatch(UUID_RE);
      nearNow(log.created, before);
      expect(log.updated).toBe(log.created);
      expect(log).toMatchObject({ name: 'prefect.task_runs', level: 20, message: 'héllo "quoted" \\ \u0000 ✓', timestamp: '2026-12-06T20:41:01Z', flow_run_id: FLOW_RUN, task_run_id: null });
    });

    test('timestamps keep microseconds and are read back in UTC; ids canonical; worker_id accepted', async () => {
      await h.call('POST', '/api/logs/', [
        line(0, { timestamp: '2026-12-06T21:41:45.555906+01:00', flow_run_id: FLOW_RUN.toUpperCase(), task_run_id: `{${TASK_RUN}}`, worker_id: TASK_RUN }),
      ]);
      const [log] = await filter({});
      expect(log.timestamp).toBe('2026-12-06T20:41:45.555906Z');
      expect(log.timestamp).toMatch(DATETIME_RE);
      expect(log.flow_run_id).toBe(FLOW_RUN);
      expect(log.task_run_id).toBe(TASK_RUN);
    });

    test('flow_run_id and task_run_id may be absent or null (unknown runs are accepted, as Prefect has no foreign key here)', async () => {
      expectReply(await h.call('POST', '/api/logs/', [{ name: 'n', level: 5, message: 'm', timestamp: '2026-01-01T00:00:00Z' }]), 201, null);
      const [log] = await filter({});
      expect(log).toMatchObject({ flow_run_id: null, task_run_id: null, level: 5 });
    });

    test('an empty batch is 201 null and stores nothing', async () => {
      expectReply(await h.call('POST', '/api/logs/', []), 201, null);
      expect(await filter({})).toEqual([]);
    });

    test('a 3,000,000-byte batch (the client’s default PREFECT_LOGGING_TO_API_BATCH_SIZE) is taken whole', async () => {
      const message = 'x'.repeat(2900);
      const batch = Array.from({ length: 1000 }, (_, i) => line(i, { message }));
      expect(JSON.stringify(batch).length).toBeGreaterThan(2_900_000);
      expect(JSON.stringify(batch).length).toBeLessThan(3_100_000);
      expectReply(await h.call('POST', '/api/logs/', batch), 201, null);
      expect(await filter({ limit: 200, offset: 800 })).toHaveLength(200);
      expect(await filter({ limit: 200, offset: 1000 })).toHaveLength(0);
    });

    test('invalid batches: Prefect’s 422, nothing stored', async () => {
      const bad = [line(0), { name: 'n', level: 'loud', message: 5, timestamp: 'yesterday', flow_run_id: 'x', extra: 1 }];
      const detail = issues(await h.call('POST', '/api/logs/', bad), bad);
      expect(detail.map((d: any) => [d.type, d.loc])).toEqual([
        ['int_parsing', ['body', 1, 'level']],
        ['string_type', ['body', 1, 'message']],
        ['value_error', ['body', 1, 'timestamp']],
        ['uuid_parsing', ['body', 1, 'flow_run_id']],
        ['extra_forbidden', ['body', 1, 'extra']],
      ]);
      expect(await filter({})).toEqual([]);
      const missing = issues(await h.call('POST', '/api/logs/', [{}]), [{}]);
      expect(missing.map((d: any) => d.loc)).toEqual([
        ['body', 0, 'name'],
        ['body', 0, 'level'],
        ['body', 0, 'message'],
        ['body', 0, 'timestamp'],
      ]);
      expect(issues(await h.call('POST', '/api/logs/', line(0)))[0]).toMatchObject({ type: 'list_type', loc: ['body'] });
      expect(issues(await h.call('POST', '/api/logs/'))[0]).toMatchObject({ type: 'missing', loc: ['body'] });
      expect(issues(await h.call('POST', '/api/logs/', '[{'))[0]).toMatchObject({ type: 'json_invalid' });
    });

    test('a bad X-PREFECT-API-VERSION is 400 before validation', async () => {
      const reply = await h.call('POST', '/api/logs/', [{}], { 'x-prefect-api-version': '0.7.0' });
      expect(reply.status).toBe(400);
    });
  });

  describe('POST /api/logs/filter', () => {
    test('empty body, {} and null: every line, TIMESTAMP_ASC', async () => {
      await h.call('POST', '/api/logs/', [line(2), line(0), line(1)]);
      for (const body of [undefined, {}, null, { sort: null, limit: null, offset: null, logs: null }]) {
        expect((await filter(body)).map((l) => l.message)).toEqual(['line 0', 'line 1', 'line 2']);
      }
    });

    test('TIMESTAMP_DESC, limit and offset', async () => {
      await seed(7);
      expect((await filter({ sort: 'TIMESTAMP_DESC', limit: 3 })).map((l) => l.message)).toEqual(['line 6', 'line 5', 'line 4']);
      expect((await filter({ sort: 'TIMESTAMP_DESC', limit: 3, offset: 3 })).map((l) => l.message)).toEqual(['line 3', 'line 2', 'line 1']);
      expect(await filter({ limit: 0 })).toEqual([]);
      expect(await filter({ offset: 100 })).toEqual([]);
    });

    test('the filters: level bounds, timestamp bounds, flow runs, task runs and no task run', async () => {
      await seed(12);
      const messages = async (logs: unknown) => (await filter({ logs })).map((l) => Number(l.message.slice(5)));
      expect(await messages({ level: { ge_: 40 } })).toEqual([3, 4, 8, 9]);
      expect(await messages({ level: { ge_: 20, le_: 30 } })).toEqual([1, 2, 6, 7, 11]);
      expect(await messages({ timestamp: { after_: line(3).timestamp, before_: line(5).timestamp } })).toEqual([3, 4, 5]);
      expect(await messages({ flow_run_id: { any_: [OTHER_RUN] } })).toEqual([0, 3, 6, 9]);
      expect(await messages({ task_run_id: { any_: [TASK_RUN] } })).toEqual([0, 4, 8]);
      expect(await messages({ task_run_id: { is_null_: false } })).toEqual([0, 4, 8]);
      expect(await messages({ task_run_id: { is_null_: true }, flow_run_id: { any_: [OTHER_RUN] } })).toEqual([3, 6, 9]);
      expect(await messages({ operator: 'or_', level: { ge_: 50 }, task_run_id: { any_: [TASK_RUN] } })).toEqual([0, 4, 8, 9]);
      expect(await messages({ flow_run_id: { any_: [] } })).toEqual([]);
    });

    test('limit: the default limit is also the maximum, with Prefect’s texts', async () => {
      await seed(3);
      expectReply(await h.call('POST', '/api/logs/filter', { limit: 201 }), 422, LIMIT_MAX);
      expectReply(await h.call('POST', '/api/logs/filter', { limit: -1 }), 422, LIMIT_MIN);
      expect(await filter({ limit: 200 })).toHaveLength(3);
    });

    test('invalid bodies: 422 in Prefect’s shape', async () => {
      const cases: [unknown, string, (string | number)[]][] = [
        [{ sort: 'timestamp_asc' }, 'enum', ['body', 'sort']],
        [{ offset: -1 }, 'greater_than_equal', ['body', 'offset']],
        [{ logs: { level: { gt_: 1 } } }, 'extra_forbidden', ['body', 'logs', 'level', 'gt_']],
        [{ logs: { flow_run_id: { any_: ['x'] } } }, 'uuid_parsing', ['body', 'logs', 'flow_run_id', 'any_', 0]],
        [{ logs: { name: 'x' } }, 'extra_forbidden', ['body', 'logs', 'name']],
      ];
      for (const [body, type, loc] of cases) {
        const [first] = issues(await h.call('POST', '/api/logs/filter', body), body);
        expect([first.type, first.loc]).toEqual([type, loc]);
      }
    });
  });
});

describe('logs: the default limit follows --default-limit', () => {
  const h = freshHarness({ defaultLimit: 5 });
  test('6 is refused with the configured maximum; no limit gives 5', async () => {
    await h.call('POST', '/api/logs/', Array.from({ length: 8 }, (_, i) => line(i)));
    expectReply(await h.call('POST', '/api/logs/filter', { limit: 6 }), 422, { detail: 'Invalid limit: must be less than or equal to 5.' });
    expect((await h.call('POST', '/api/logs/filter', {})).body).toHaveLength(5);
  });
});
