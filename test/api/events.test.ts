/**
 * The REST half of `/api/events` on every backend: `POST /api/events` (a list of Events → 204
 * once durable; Prefect's Event validation, resource checks included; task runs made from the
 * clients' task-run events), `POST /api/events/filter` and `GET /api/events/filter/next` (Prefect
 * 3.0.0's EventPage, newest first, at most 50 a page, the next page's link followed to the end,
 * tokens that are not ours refused 403), and the 501s of what is not served.
 */
import { describe, expect, test } from 'bun:test';
import { describeBackends } from '../backends.ts';
import { freshHarness } from './fresh-harness.ts';
import { creators } from './companions.ts';
import { expectReply, issues, nearNow } from './expect.ts';
import { COMPLETED, PENDING, RUNNING, plainEvent, taskRunEvent } from './event-builders.ts';

const EVENT_FIELDS = ['occurred', 'event', 'resource', 'related', 'payload', 'id', 'follows', 'received'];
const HOUR = 3_600_000;

const event = plainEvent;

describeBackends('events over REST', (backend) => {
  const h = freshHarness({}, backend);
  const { flow, flowRun } = creators(() => h);
  const post = (events: unknown) => h.call('POST', '/api/events', events);
  const page = async (body: unknown) => {
    const reply = await h.call('POST', '/api/events/filter', body);
    expect(reply.status).toBe(200);
    return reply.body;
  };
  /** Follows `next_page` links to the end (through the app, path and query of each link). */
  const follow = async (first: any) => {
    const pages = [first];
    for (let at = first; at.next_page !== null; ) {
      const url = new URL(at.next_page);
      expect(url.pathname).toBe('/api/events/filter/next');
      const reply = await h.call('GET', `${url.pathname}${url.search}`);
      expect(reply.status).toBe(200);
      pages.push((at = reply.body));
      expect(pages.length).toBeLessThan(100);
    }
    return pages;
  };

  describe('POST /api/events', () => {
    test('204 with no body; read back as ReceivedEvent, in Prefect’s field order, defaults filled', async () => {
      const follows = crypto.randomUUID();
      const e = event(1, { payload: { big: 12345678901234567890, nested: { a: [1, null] } }, follows });
      const before = Date.now();
      const reply = await post([e]);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      const { events, total, next_page } = await page({});
      expect(total).toBe(1);
      expect(next_page).toBeNull();
      expect(Object.keys(events[0])).toEqual(EVENT_FIELDS);
      expect(events[0]).toMatchObject({ event: 'test.happened', resource: e.resource, related: [], id: e.id, follows, payload: { nested: { a: [1, null] } } });
      expect(Date.parse(events[0].occurred)).toBe(Date.parse(e.occurred));
      nearNow(events[0].received, before);
    });

    test('an empty list is 204; the same event twice is stored once', async () => {
      expect((await post([])).status).toBe(204);
      const e = event(1);
      expect((await post([e, e])).status).toBe(204);
      expect((await post([e])).status).toBe(204);
      expect((await page({})).total).toBe(1);
    });

    test('Prefect’s validation: the whole list refused, each issue at its item', async () => {
      const good = event(1);
      const bad = [
        good,
        { occurred: 'soon', event: 5, resource: { 'prefect.resource.id': 'x', n: 1 }, id: 'nope' },
        event(1, { resource: { name: 'no id' } }),
        event(1, { resource: { 'prefect.resource.id': '' } }),
        event(1, { related: [{ 'prefect.resource.id': 'x' }] }),
        event(1, { related: [{ 'prefect.resource.id': 'x', 'prefect.resource.role': '' }] }),
        event(1, { related: Array.from({ length: 501 }, (_, i) => ({ 'prefect.resource.id': `r${i}`, 'prefect.resource.role': 'r' })) }),
      ];
      const detail = issues(await post(bad), bad);
      expect(detail.map((d: any) => [d.type, d.loc, d.msg])).toEqual([
        ['value_error', ['body', 1, 'occurred'], 'Value error, Unable to parse string [soon]'],
        ['string_type', ['body', 1, 'event'], 'Input should be a valid string'],
        ['string_type', ['body', 1, 'resource', 'n'], 'Input should be a valid string'],
        ['uuid_parsing', ['body', 1, 'id'], expect.stringContaining('Input should be a valid UUID')],
        ['value_error', ['body', 2, 'resource'], 'Value error, Resources must include the prefect.resource.id label'],
        ['value_error', ['body', 3, 'resource'], 'Value error, The prefect.resource.id label must be non-empty'],
        ['value_error', ['body', 4, 'related', 0], 'Value error, Related Resources must include the prefect.resource.role label'],
        ['value_error', ['body', 5, 'related', 0], 'Value error, The prefect.resource.role label must be non-empty'],
        ['value_error', ['body', 6, 'related'], 'Value error, The maximum number of related resources is 500'],
      ]);
      expect((await page({})).total).toBe(0);
      const labels = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`l${i}`, 'v']));
      const tooMany = [event(1, { resource: { 'prefect.resource.id': 'x', ...labels } })];
      expect(issues(await post(tooMany))[0]).toMatchObject({ loc: ['body', 0, 'resource'], msg: 'Value error, The maximum number of labels per resource is 500' });
      expect(issues(await post(event(1)))[0]).toMatchObject({ type: 'list_type', loc: ['body'] });
      expect(issues(await post(undefined))[0]).toMatchObject({ type: 'missing', loc: ['body'] });
    });

    test('unknown top-level keys of an event are ignored, as Prefect’s Event model ignores them', async () => {
      expect((await post([event(1, { received: '2000-01-01T00:00:00Z', extra: true })])).status).toBe(204);
      const [stored] = (await page({})).events;
      expect(stored.extra).toBeUndefined();
      expect(stored.received.startsWith('2000')).toBe(false);
    });

    test('a client’s task-run events make its task run (order of arrival does not matter)', async () => {
      const run = await flowRun({ flow_id: (await flow('f')).id });
      const task = crypto.randomUUID();
      const t0 = Date.now() - HOUR;
      const pending = taskRunEvent(task, run.id, PENDING, t0);
      const running = taskRunEvent(task, run.id, RUNNING, t0 + 10, { start_time: new Date(t0 + 10).toISOString() });
      const completed = taskRunEvent(task, run.id, COMPLETED, t0 + 20, {
        start_time: new Date(t0 + 10).toISOString(),
        end_time: new Date(t0 + 20).toISOString(),
        total_run_time: 0.01,
      });
      expect((await post([completed, pending])).status).toBe(204);
      expect((await post([running])).status).toBe(204);
      const reply = await h.call('GET', `/api/task_runs/${task}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({
        id: task,
        flow_run_id: run.id,
        name: 'work-1',
        task_key: 'work-abc',
        tags: ['etl'],
        state_type: 'COMPLETED',
        state_name: 'Completed',
        state_id: completed.id,
        run_count: 1,
        total_run_time: 0.01,
        state: { id: completed.id, type: 'COMPLETED', state_details: { task_run_id: task, flow_run_id: run.id } },
      });
      expect(Date.parse(reply.body.end_time)).toBe(t0 + 20);
      const listed = await h.call('POST', '/api/task_runs/filter', { flow_runs: { id: { any_: [run.id] } } });
      expect(listed.body.map((t: any) => t.id)).toEqual([task]);
    });

    test('events that are not a client’s task-run events make no task run', async () => {
      const run = await flowRun({ flow_id: (await flow('f')).id });
      const task = crypto.randomUUID();
      const server = taskRunEvent(task, run.id, RUNNING, Date.now());
      server.resource['prefect.orchestration'] = 'server';
      const malformed = taskRunEvent(task, run.id, RUNNING, Date.now());
      (malformed.payload.task_run as any).task_key = undefined;
      expect((await post([server, malformed])).status).toBe(204);
      expect((await page({})).total).toBe(2); // stored all the same
      expect((await h.call('GET', `/api/task_runs/${task}`)).status).toBe(404);
    });
  });

  describe('POST /api/events/filter and GET /api/events/filter/next', () => {
    test('EventPage: newest first by default, 50 a page, total, next_page followed to the end', async () => {
      const sent = Array.from({ length: 120 }, (_, i) => event(i));
      expect((await post(sent)).status).toBe(204);
      const first = await page({});
      expect(Object.keys(first)).toEqual(['events', 'total', 'next_page']);
      expect(first.total).toBe(120);
      expect(first.events).toHaveLength(50);
      expect(first.next_page).toStartWith('http://127.0.0.1/api/events/filter/next?page-token=');
      const pages = await follow(first);
      expect(pages.map((p) => p.events.length)).toEqual([50, 50, 20]);
      expect(pages.every((p) => p.total === 120)).toBe(true);
      expect(pages.flatMap((p) => p.events.map((e: any) => e.id))).toEqual(sent.map((e) => e.id));
    });

    test('ASC, a smaller limit; events added after the first page: behind the cursor never shown, ahead of it shown, past `until` not', async () => {
      const sent = Array.from({ length: 7 }, (_, i) => event(10 + i));
      await post(sent);
      const first = await page({ filter: { order: 'ASC' }, limit: 3 });
      const behind = event(20);
      const ahead = event(12.5);
      const later = event(-1); // after the first page's `until` (now, then), which the token keeps
      await post([behind, ahead, later]);
      const pages = await follow(first);
      const ids = pages.flatMap((p) => p.events.map((e: any) => e.id));
      expect(pages.map((p) => p.events.length)).toEqual([3, 3, 2]);
      expect(pages.every((p) => p.total === 7)).toBe(true); // the first page's count, as Prefect's token carries it
      expect(ids).toEqual([sent[6], sent[5], sent[4], sent[3], ahead, sent[2], sent[1], sent[0]].map((e) => e.id));
      expect(ids).not.toContain(behind.id);
      expect(ids).not.toContain(later.id);
    });

    test('limit 0: no events, the total, no next page; the limit is at most 50', async () => {
      await post([event(1), event(2)]);
      expectReply(await h.call('POST', '/api/events/filter', { limit: 0 }), 200, { events: [], total: 2, next_page: null });
      const [over] = issues(await h.call('POST', '/api/events/filter', { limit: 51 }), { limit: 51 });
      expect(over).toEqual({ type: 'less_than_equal', loc: ['body', 'limit'], msg: 'Input should be less than or equal to 50', input: 51, ctx: { le: 50 } });
      const [under] = issues(await h.call('POST', '/api/events/filter', { limit: -1 }));
      expect(under).toMatchObject({ type: 'greater_than_equal', loc: ['body', 'limit'] });
    });

    test('the filter: time range (default 180 days back), names, resources, related, ids', async () => {
      const run = '8dfa91c0-f9c2-4880-ba19-cda364848c2e';
      const a = event(5, { event: 'prefect.task-run.Running', related: [{ 'prefect.resource.id': `prefect.flow-run.${run}`, 'prefect.resource.role': 'flow-run' }] });
      const b = event(4, { event: 'prefect.flow-run.heartbeat', resource: { 'prefect.resource.id': `prefect.flow-run.${run}` } });
      const c = event(3, { event: 'prefect.artifact.created' });
      const old = event(200 * 24 * 60);
      await post([a, b, c, old]);
      const ids = async (filter: unknown) => (await page({ filter })).events.map((e: any) => e.id);
      expect(await ids({})).toEqual([c.id, b.id, a.id]);
      expect(await ids({ occurred: { since: '2000-01-01T00:00:00Z' } })).toEqual([c.id, b.id, a.id, old.id]);
      expect(await ids({ occurred: { since: a.occurred, until: b.occurred } })).toEqual([b.id, a.id]);
      expect(await ids({ event: { prefix: ['prefect.task-run.', 'prefect.artifact.'] } })).toEqual([c.id, a.id]);
      expect(await ids({ event: { exclude_prefix: ['prefect.flow-run.'], exclude_name: ['prefect.artifact.created'] } })).toEqual([a.id]);
      expect(await ids({ event: { name: ['prefect.flow-run.heartbeat'] } })).toEqual([b.id]);
      expect(await ids({ resource: { id: [`prefect.flow-run.${run}`] } })).toEqual([b.id]);
      expect(await ids({ resource: { id_prefix: ['prefect.flow-run.'] } })).toEqual([b.id]);
      expect(await ids({ any_resource: { id: [`prefect.flow-run.${run}`] } })).toEqual([b.id, a.id]);
      expect(await ids({ related: { role: ['flow-run'] } })).toEqual([a.id]);
      expect(await ids({ related: { id: [`prefect.flow-run.${run}`] } })).toEqual([a.id]);
      expect(await ids({ id: { id: [a.id, c.id] } })).toEqual([c.id, a.id]);
      expect(await ids({ id: { id: [] }, event: { prefix: [] } })).toEqual([c.id, b.id, a.id]);
    });

    test('an invalid filter is Prefect’s 422; labels, distinct and resources_in_roles are 501', async () => {
      const [first] = issues(await h.call('POST', '/api/events/filter', { filter: { events: {} } }));
      expect(first).toMatchObject({ type: 'extra_forbidden', loc: ['body', 'filter', 'events'] });
      const [order] = issues(await h.call('POST', '/api/events/filter', { filter: { order: 'asc' } }));
      expect(order).toMatchObject({ type: 'enum', loc: ['body', 'filter', 'order'] });
      for (const filter of [{ resource: { labels: { a: 'b' } } }, { resource: { distinct: true } }, { related: { resources_in_roles: [['a', 'b']] } }, { any_resource: { labels: { a: ['b'] } } }]) {
        const reply = await h.call('POST', '/api/events/filter', { filter });
        expect(reply.status).toBe(501);
        expect(reply.body.detail).toStartWith('Filtering events by ');
      }
    });

    test('next pages: a missing token is 422, one that is not ours 403 {"detail": "Forbidden"}', async () => {
      const [missing] = issues(await h.call('GET', '/api/events/filter/next'));
      expect(missing).toMatchObject({ type: 'missing', loc: ['query', 'page-token'] });
      for (const token of ['', 'abc', 'eyJub3BlIjp0cnVlfQ', '%2B%2F']) {
        expectReply(await h.call('GET', `/api/events/filter/next?page-token=${token}`), 403, { detail: 'Forbidden' });
      }
    });

    test('POST /api/events/count-by/{countable} is 501', async () => {
      const reply = await h.call('POST', '/api/events/count-by/day', { filter: {} });
      expect(reply.status).toBe(501);
      expect(reply.body.detail).toContain('not supported');
    });

    test('GET /api/events/in without an upgrade is 404, as on Prefect (the route is a websocket)', async () => {
      expectReply(await h.call('GET', '/api/events/in'), 404, { detail: 'Not Found' });
    });
  });
});

describe('events over REST with basic auth', () => {
  const h = freshHarness({ authString: 'admin:pw' });
  test('401 without credentials, 204 with them', async () => {
    expectReply(await h.call('POST', '/api/events', [event(1)]), 401, { exception_message: 'Unauthorized' });
    const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
    expect((await h.call('POST', '/api/events', [event(1)], auth)).status).toBe(204);
    expect((await h.call('POST', '/api/events/filter', {}, auth)).body.total).toBe(1);
  });
});
