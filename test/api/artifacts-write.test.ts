/**
 * HTTP behaviour of the single-artifact routes: create (POST /api/artifacts/), read by id
 * (GET /api/artifacts/{id}), update (PATCH) and delete (DELETE), as a Prefect 3.0.0 server
 * answers them (shared/spec/artifacts-api.md §1–6.4 and the recorded reference exchanges).
 */
import { describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { startServer } from '../../src/cli/serve.ts';
import { DEFAULTS } from '../../src/config.ts';
import { tempDir } from '../helpers.ts';
import { freshHarness } from './fresh-harness.ts';
import { DATETIME_RE, UUID_RE, expectReply, extraForbidden, invalidUuid, micros, validationError } from './expect.ts';
import { ARTIFACT_FIELDS, ARTIFACT_NOT_FOUND as NOT_FOUND, MISSING_ID } from './fields.ts';
import { describeBackends } from '../backends.ts';

const KEY_MSG = 'Value error, Artifact key must only contain lowercase letters, numbers, and dashes.';
const FLOW_RUN = '1c9e7a52-3d7c-4f0e-8a43-5b2f0d6e9a10';
const TASK_RUN = '33333333-3333-3333-3333-333333333333';

describeBackends('single-artifact routes', (backend) => {
  const h = freshHarness({}, backend);

  const count = async () => (await h.call('POST', '/api/artifacts/count', {})).body as number;
  const read = (id: string) => h.call('GET', `/api/artifacts/${id}`);

  describe('POST /api/artifacts/ (create)', () => {
    test('answers 201 with every field echoed, in Prefect field order, with canonical ids and timestamps', async () => {
      const body = {
        key: 'nightly-sales',
        type: 'table',
        description: '# Nightly sales',
        data: '[{"region": "north", "total": 12}]',
        metadata_: { owner: 'ops', team: 'data' },
        flow_run_id: FLOW_RUN,
        task_run_id: TASK_RUN,
      };
      const before = Date.now();
      const reply = await h.call('POST', '/api/artifacts/', body);
      expect(reply.status).toBe(201);
      expect(reply.headers.get('content-type')).toContain('application/json');
      const artifact = reply.body;
      expect(Object.keys(artifact)).toEqual(ARTIFACT_FIELDS);
      expect(artifact.id).toMatch(UUID_RE);
      expect(artifact.created).toMatch(DATETIME_RE);
      expect(artifact.updated).toBe(artifact.created);
      // the timestamp is the server's current time
      const createdMs = micros(artifact.created) / 1000;
      expect(createdMs).toBeGreaterThanOrEqual(before - 1000);
      expect(createdMs).toBeLessThanOrEqual(Date.now() + 1000);
      const { id, created, updated, ...rest } = artifact;
      expect(rest).toEqual(body);
    });

    test('an empty object is a valid body: every field null', async () => {
      const reply = await h.call('POST', '/api/artifacts/', {});
      expect(reply.status).toBe(201);
      expect(Object.keys(reply.body)).toEqual(ARTIFACT_FIELDS);
      const { id, created, updated, ...rest } = reply.body;
      expect(rest).toEqual({
        key: null,
        type: null,
        description: null,
        data: null,
        metadata_: null,
        flow_run_id: null,
        task_run_id: null,
      });
      expect(id).toMatch(UUID_RE);
      expect(updated).toBe(created);
    });

    test('a second artifact with an existing key is also 201 and both versions are kept', async () => {
      const first = await h.call('POST', '/api/artifacts/', { key: 'voltaic', data: 1 });
      const second = await h.call('POST', '/api/artifacts/', { key: 'voltaic', data: 2 });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.body.id).not.toBe(first.body.id);
      expect((await read(first.body.id)).body.data).toBe(1);
      expect((await read(second.body.id)).body.data).toBe(2);
      expect(await count()).toBe(2);
    });

    test('ids are unique and creation times increase', async () => {
      const a = await h.create({});
      const b = await h.create({});
      const c = await h.create({});
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      expect(micros(b.created)).toBeGreaterThan(micros(a.created));
      expect(micros(c.created)).toBeGreaterThan(micros(b.created));
    });

    test('a missing body is 422 "missing" at ["body"] with request_body null', async () => {
      const reply = await h.call('POST', '/api/artifacts/');
      expect(reply.status).toBe(422);
      expect(Object.keys(reply.body)).toEqual(['exception_message', 'exception_detail', 'request_body']);
      expect(reply.body.exception_message).toBe('Invalid request received.');
      expect(reply.body.exception_detail).toHaveLength(1);
      expect(reply.body.exception_detail[0]).toMatchObject({ type: 'missing', loc: ['body'], msg: 'Field required' });
      expect(reply.body.exception_detail[0]).not.toHaveProperty('url');
      expect(reply.body.request_body).toBeNull();
      expect(await count()).toBe(0);
    });

    test.each([
      ['id', '11111111-1111-1111-1111-111111111111'],
      ['created', '2024-09-05T12:00:00Z'],
      ['updated', '2024-09-05T12:00:00Z'],
      ['bogus', 1],
      ['latest_id', MISSING_ID],
      ['colour', 'teal'],
    ])('an extra key %p is 422 extra_forbidden and nothing is stored', async (name, value) => {
      const body = { key: 'daily-report', [name]: value };
      const reply = await h.call('POST', '/api/artifacts/', body);
      expect(reply.status).toBe(422);
      expect(reply.body).toEqual(validationError([extraForbidden(name, value)], body));
      expect(Object.keys(reply.body)).toEqual(['exception_message', 'exception_detail', 'request_body']);
      expect(await count()).toBe(0);
    });

    test('several problems are all reported in one 422', async () => {
      const body = { key: 'Bad', metadata_: { n: 1 }, bogus: true };
      const reply = await h.call('POST', '/api/artifacts/', body);
      expect(reply.status).toBe(422);
      const found = reply.body.exception_detail.map((e: any) => `${e.type}@${e.loc.join('.')}`).sort();
      expect(found).toEqual(['extra_forbidden@body.bogus', 'string_type@body.metadata_.n', 'value_error@body.key']);
      expect(reply.body.request_body).toEqual(body);
    });

    describe('key', () => {
      test.each([
        ['empty string', ''],
        ['one trailing newline', 'report\n'],
        ['a lone dash', '-'],
        ['300 characters', 'a'.repeat(300)],
        ['letters, digits, dashes', 'nightly-sales-2024'],
      ])('accepts %s and stores it as given', async (_label, key) => {
        const reply = await h.call('POST', '/api/artifacts/', { key });
        expect(reply.status).toBe(201);
        expect(reply.body.key).toBe(key);
        expect((await read(reply.body.id)).body.key).toBe(key);
      });

      test('accepts null', async () => {
        const reply = await h.call('POST', '/api/artifacts/', { key: null });
        expect(reply.status).toBe(201);
        expect(reply.body.key).toBeNull();
      });

      test.each([
        ['two trailing newlines', 'report\n\n'],
        ['upper case', 'Report'],
        ['underscore', 'a_b'],
        ['space', 'a b'],
        ['non-ASCII letter', 'é'],
        ['camel case', 'camelCase_Key'],
        ['punctuation', 'Bad Key!'],
        ['leading newline', '\nreport'],
      ])('rejects %s with the exact Prefect error', async (_label, key) => {
        const body = { key, data: 1 };
        const reply = await h.call('POST', '/api/artifacts/', body);
        expect(reply.status).toBe(422);
        expect(reply.body).toEqual(
          validationError([{ type: 'value_error', loc: ['body', 'key'], msg: KEY_MSG, input: key, ctx: { error: {} } }], body),
        );
        expect(await count()).toBe(0);
      });

      test('a number is string_type', async () => {
        const reply = await h.call('POST', '/api/artifacts/', { key: 5 });
        expect(reply.status).toBe(422);
        expect(reply.body.exception_detail).toHaveLength(1);
        expect(reply.body.exception_detail[0]).toMatchObject({
          type: 'string_type',
          loc: ['body', 'key'],
          msg: 'Input should be a valid string',
          input: 5,
        });
      });
    });

    describe('type and description', () => {
      test.each([['type'], ['description']])('%s must be a string (a number is string_type)', async (field) => {
        const reply = await h.call('POST', '/api/artifacts/', { [field]: 7 });
        expect(reply.status).toBe(422);
        expect(reply.body.exception_detail).toEqual([
          { type: 'string_type', loc: ['body', field], msg: 'Input should be a valid string', input: 7 },
        ]);
      });

      test('long type and description are stored without limit', async () => {
        const long = 'x'.repeat(20_000);
        const artifact = await h.create({ type: long, description: long });
        expect(artifact.type).toBe(long);
        expect(artifact.description).toBe(long);
      });
    });

    describe('metadata_', () => {
      test.each([
        ['null', null],
        ['a number', 1],
        ['a boolean', true],
        ['an object', { a: 'b' }],
        ['a list', ['a']],
      ])('a %s value is 422 string_type at ["body","metadata_",<key>]', async (_label, value) => {
        const body = { key: 'meta', metadata_: { ok: 'fine', n: value } };
        const reply = await h.call('POST', '/api/artifacts/', body);
        expect(reply.status).toBe(422);
        expect(reply.body).toEqual(
          validationError(
            [{ type: 'string_type', loc: ['body', 'metadata_', 'n'], msg: 'Input should be a valid string', input: value }],
            body,
          ),
        );
        expect(await count()).toBe(0);
      });

      test.each([
        ['a list', ['a', 'b']],
        ['a string', 'owner=ops'],
        ['a number', 3],
      ])('%s instead of an object is 422 dict_type', async (_label, value) => {
        const reply = await h.call('POST', '/api/artifacts/', { metadata_: value });
        expect(reply.status).toBe(422);
        expect(reply.body.exception_detail).toEqual([
          { type: 'dict_type', loc: ['body', 'metadata_'], msg: 'Input should be a valid dictionary', input: value },
        ]);
      });

      test('null and {} are accepted', async () => {
        expect((await h.create({ metadata_: null })).metadata_).toBeNull();
        expect((await h.create({ metadata_: {} })).metadata_).toEqual({});
      });

      test('a value of 501 characters is cut to its first 500 plus "..."; 500 stays; keys are never cut', async () => {
        const longKey = 'k'.repeat(600);
        const v501 = 'abcdefghij'.repeat(50) + 'Z';
        const v500 = 'y'.repeat(500);
        const artifact = await h.create({ key: 'meta', metadata_: { long: v501, exact: v500, [longKey]: 'short', empty: '' } });
        const expected = { long: v501.slice(0, 500) + '...', exact: v500, [longKey]: 'short', empty: '' };
        expect(artifact.metadata_).toEqual(expected);
        expect(artifact.metadata_.long).toHaveLength(503);
        expect(artifact.metadata_.long.endsWith('j...')).toBe(true);
        // stored cut, not just echoed cut
        expect((await read(artifact.id)).body.metadata_).toEqual(expected);
      });

      test('a very long value is cut to 503 characters too', async () => {
        const artifact = await h.create({ metadata_: { big: 'q'.repeat(100_000) } });
        expect(artifact.metadata_.big).toBe('q'.repeat(500) + '...');
      });

      test('lengths count Unicode code points, not UTF-16 units', async () => {
        const emoji500 = '😀'.repeat(500); // 1000 UTF-16 units, 500 code points: untouched
        const emoji501 = '😀'.repeat(501);
        const accent501 = 'é'.repeat(501);
        const mixed = 'a'.repeat(499) + '😀😀'; // 501 code points
        const artifact = await h.create({ metadata_: { emoji500, emoji501, accent501, mixed } });
        expect(artifact.metadata_).toEqual({
          emoji500,
          emoji501: '😀'.repeat(500) + '...',
          accent501: 'é'.repeat(500) + '...',
          mixed: 'a'.repeat(499) + '😀...',
        });
        expect(Array.from(artifact.metadata_.emoji501)).toHaveLength(503);
      });

      test('cutting is idempotent: an already cut 503-character value comes back unchanged', async () => {
        const cut = 'w'.repeat(500) + '...';
        const artifact = await h.create({ metadata_: { v: cut } });
        expect(artifact.metadata_.v).toBe(cut);
        const again = await h.create({ metadata_: artifact.metadata_ });
        expect(again.metadata_).toEqual({ v: cut });
      });
    });

    describe('data', () => {
      test.each([
        ['null', null],
        ['a list', [1, 'a', null, { b: [true] }]],
        ['an empty list', []],
        ['a float', 42.5],
        ['zero', 0],
        ['a negative integer', -3],
        ['true', true],
        ['false', false],
        ['a string', '# hi'],
        ['an empty string', ''],
        ['a nested object', { a: { b: [1, { c: null }], 'd e': 'ü😀' }, n: -1.25e-7 }],
        ['an empty object', {}],
        ['a JSON-encoded table string', '[{"a": 1, "b": "x"}]'],
      ])('%s round-trips through create and read', async (_label, data) => {
        const artifact = await h.create({ key: 'payload', data });
        expect(artifact.data).toEqual(data);
        expect((await read(artifact.id)).body.data).toEqual(data);
      });

      test('absent data is stored as null', async () => {
        const artifact = await h.create({ key: 'payload' });
        expect(artifact.data).toBeNull();
        expect(Object.hasOwn(artifact, 'data')).toBe(true);
      });

      test('integers beyond 2^53 come back exactly', async () => {
        const text = '{"key":"big","data":{"n":9007199254740993,"list":[12345678901234567890123,1]}}';
        const created = await h.call('POST', '/api/artifacts/', text);
        expect(created.status).toBe(201);
        expect(created.text).toContain('"data":{"n":9007199254740993,"list":[12345678901234567890123,1]}');
        const fetched = await read(created.body.id);
        expect(fetched.text).toContain('9007199254740993');
        expect(fetched.text).toContain('12345678901234567890123');

        const bare = await h.call('POST', '/api/artifacts/', '{"data": 9007199254740993}');
        expect(bare.status).toBe(201);
        expect(bare.text).toMatch(/"data":\s*9007199254740993\s*,/);
      });

      test('a data value that looks like another field does not confuse storage', async () => {
        const text = '{"description":"has \\"data\\": 1 inside","data":{"data":"inner","key":"x"},"key":"k"}';
        const created = await h.call('POST', '/api/artifacts/', text);
        expect(created.status).toBe(201);
        expect(created.body.data).toEqual({ data: 'inner', key: 'x' });
        expect(created.body.description).toBe('has "data": 1 inside');
        expect(created.body.key).toBe('k');
      });
    });

    describe('run ids', () => {
      const canonical = '8411fade-9f89-4be4-98a8-b401a1945a63';
      test.each([
        ['canonical', canonical],
        ['32 hex digits', canonical.replaceAll('-', '')],
        ['32 upper-case hex digits', canonical.replaceAll('-', '').toUpperCase()],
        ['upper-case hyphenated', canonical.toUpperCase()],
        ['braces', `{${canonical}}`],
        ['urn:uuid: prefix', `urn:uuid:${canonical}`],
      ])('accepts the %s form and answers the canonical form', async (_label, form) => {
        const artifact = await h.create({ flow_run_id: form, task_run_id: form });
        expect(artifact.flow_run_id).toBe(canonical);
        expect(artifact.task_run_id).toBe(canonical);
        expect((await read(artifact.id)).body.flow_run_id).toBe(canonical);
      });

      test.each([['flow_run_id'], ['task_run_id']])('%s: urn:uuid: with 32 bare hex digits is 422 uuid_parsing', async (field) => {
        const body = { [field]: `urn:uuid:${canonical.replaceAll('-', '')}` };
        const reply = await h.call('POST', '/api/artifacts/', body);
        expect(reply.status).toBe(422);
        expect(reply.body.exception_detail).toHaveLength(1);
        expect(reply.body.exception_detail[0]).toMatchObject({ type: 'uuid_parsing', loc: ['body', field], input: body[field] });
        expect(reply.body.request_body).toEqual(body);
      });

      test('a non-UUID is 422 uuid_parsing with Pydantic\'s message', async () => {
        const reply = await h.call('POST', '/api/artifacts/', { flow_run_id: 'not-a-uuid' });
        expect(reply.status).toBe(422);
        expect(reply.body).toEqual(validationError([invalidUuid(['body', 'flow_run_id'], 'not-a-uuid', 'n', 1)], { flow_run_id: 'not-a-uuid' }));
      });

      test('run ids are not foreign keys: ids of runs that do not exist are accepted', async () => {
        const reply = await h.call('POST', '/api/artifacts/', {
          key: 'fr-missing',
          flow_run_id: '22222222-2222-2222-2222-222222222222',
          task_run_id: TASK_RUN,
        });
        expect(reply.status).toBe(201);
        expect(reply.body.flow_run_id).toBe('22222222-2222-2222-2222-222222222222');
        expect(reply.body.task_run_id).toBe(TASK_RUN);
      });
    });

    describe('bodies that are not valid JSON', () => {
      test('"not json" is 422 json_invalid with the raw text as request_body', async () => {
        const reply = await h.call('POST', '/api/artifacts/', 'not json');
        expect(reply.status).toBe(422);
        expect(reply.body).toEqual({
          exception_message: 'Invalid request received.',
          exception_detail: [
            { type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } },
          ],
          request_body: 'not json',
        });
        expect(await count()).toBe(0);
      });

      test('a truncated object reports the offset of the problem', async () => {
        const text = '{"key": ';
        const reply = await h.call('POST', '/api/artifacts/', text);
        expect(reply.status).toBe(422);
        expect(reply.body.request_body).toBe(text);
        expect(reply.body.exception_detail).toEqual([
          { type: 'json_invalid', loc: ['body', 8], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } },
        ]);
      });
    });
  });

  describe('GET /api/artifacts/{id}', () => {
    test('returns the stored artifact exactly as create answered it', async () => {
      const created = await h.call('POST', '/api/artifacts/', {
        key: 'my-key',
        type: 'markdown',
        data: '# hi',
        metadata_: { k: 'v' },
        flow_run_id: FLOW_RUN,
      });
      const reply = await read(created.body.id);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(reply.text).toBe(created.text);
      expect(Object.keys(reply.body)).toEqual(ARTIFACT_FIELDS);
    });

    test('reads the right artifact among several', async () => {
      const a = await h.create({ key: 'a', data: 'A' });
      const b = await h.create({ key: 'b', data: 'B' });
      const keyless = await h.create({ data: 'C' });
      expect((await read(b.id)).body).toEqual(b);
      expect((await read(a.id)).body).toEqual(a);
      expect((await read(keyless.id)).body).toEqual(keyless);
    });

    test('accepts the id in any UUID form Pydantic accepts', async () => {
      const artifact = await h.create({ data: 1 });
      for (const form of [artifact.id.toUpperCase(), artifact.id.replaceAll('-', ''), `{${artifact.id}}`]) {
        const reply = await read(form);
        expect(reply.status).toBe(200);
        expect(reply.body.id).toBe(artifact.id);
      }
    });

    test('an unknown id is 404 "Artifact not found."', async () => {
      await h.create({ key: 'x' });
      const reply = await read(MISSING_ID);
      expectReply(reply, 404, NOT_FOUND);
    });

    test('an id that is not a UUID is 422 uuid_parsing at ["path","id"] with request_body null', async () => {
      const reply = await read('not-a-uuid');
      expect(reply.status).toBe(422);
      expect(reply.body).toEqual(validationError([invalidUuid(['path', 'id'], 'not-a-uuid', 'n', 1)], null));
    });

    test('GET /api/artifacts/filter is read as an id: 422 uuid_parsing', async () => {
      const reply = await h.call('GET', '/api/artifacts/filter');
      expect(reply.status).toBe(422);
      expect(reply.body).toEqual(validationError([invalidUuid(['path', 'id'], 'filter', 'i', 2)], null));
    });

    test('GET /api/artifacts/latest (one segment) is read as an id: 422 uuid_parsing', async () => {
      await h.create({ key: 'latest' });
      const reply = await h.call('GET', '/api/artifacts/latest');
      expect(reply.status).toBe(422);
      expect(reply.body.exception_detail).toHaveLength(1);
      expect(reply.body.exception_detail[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'id'], input: 'latest' });
      expect(reply.body.request_body).toBeNull();
    });
  });

  describe('PATCH /api/artifacts/{id}', () => {
    const patch = (id: string, body?: unknown, headers?: Record<string, string>) =>
      h.call('PATCH', `/api/artifacts/${id}`, body, headers);

    test('answers 204 with an empty body, writes the given fields and keeps the rest', async () => {
      const artifact = await h.create({
        key: 'voltaic',
        type: 'table',
        description: 'before',
        data: { a: 1 },
        metadata_: { m: 'x' },
        flow_run_id: FLOW_RUN,
        task_run_id: TASK_RUN,
      });
      const reply = await patch(artifact.id, { data: { b: [2, 3] } });
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');

      const after = (await read(artifact.id)).body;
      expect(Object.keys(after)).toEqual(ARTIFACT_FIELDS);
      expect(after).toEqual({ ...artifact, data: { b: [2, 3] }, updated: after.updated });
      expect(after.created).toBe(artifact.created);
      expect(after.updated).toMatch(DATETIME_RE);
      expect(micros(after.updated)).toBeGreaterThan(micros(artifact.created));
    });

    test('description and metadata_ can be changed together; absent data is untouched', async () => {
      const artifact = await h.create({ description: 'd0', data: 'keep', metadata_: { a: 'b' } });
      expect((await patch(artifact.id, { description: 'd1', metadata_: { c: 'd' } })).status).toBe(204);
      const after = (await read(artifact.id)).body;
      expect(after.description).toBe('d1');
      expect(after.metadata_).toEqual({ c: 'd' });
      expect(after.data).toBe('keep');
    });

    test('explicit nulls are written', async () => {
      const artifact = await h.create({ key: 'k', type: 'markdown', description: 'd', data: 'x', metadata_: { a: 'b' } });
      expect((await patch(artifact.id, { data: null, description: null, metadata_: null })).status).toBe(204);
      const after = (await read(artifact.id)).body;
      expect(after.data).toBeNull();
      expect(after.description).toBeNull();
      expect(after.metadata_).toBeNull();
      expect(after.key).toBe('k');
      expect(after.type).toBe('markdown');
    });

    test('{} changes nothing but still moves "updated" forward', async () => {
      const artifact = await h.create({ key: 'k', data: 'same', description: 'same' });
      const first = await patch(artifact.id, {});
      expect(first.status).toBe(204);
      const once = (await read(artifact.id)).body;
      expect(once).toEqual({ ...artifact, updated: once.updated });
      expect(micros(once.updated)).toBeGreaterThan(micros(artifact.updated));

      expect((await patch(artifact.id, {})).status).toBe(204);
      const twice = (await read(artifact.id)).body;
      expect(micros(twice.updated)).toBeGreaterThan(micros(once.updated));
      expect(twice.created).toBe(artifact.created);
    });

    test('metadata_ values are cut to 500 characters plus "..." on update too', async () => {
      const artifact = await h.create({});
      const long = 'é'.repeat(750);
      expect((await patch(artifact.id, { metadata_: { long, short: 'ok' } })).status).toBe(204);
      expect((await read(artifact.id)).body.metadata_).toEqual({ long: 'é'.repeat(500) + '...', short: 'ok' });
    });

    test('data of any JSON type can be written, and big integers stay exact', async () => {
      const artifact = await h.create({ data: 'x' });
      for (const data of [[1, 2], 42.5, true, { nested: { list: [] } }, 'str']) {
        expect((await patch(artifact.id, { data })).status).toBe(204);
        expect((await read(artifact.id)).body.data).toEqual(data);
      }
      expect((await patch(artifact.id, '{"data": {"n": 9007199254740993}}')).status).toBe(204);
      expect((await read(artifact.id)).text).toContain('9007199254740993');
    });

    test('keyless artifacts (e.g. progress) are updatable', async () => {
      const artifact = await h.create({ type: 'progress', data: 0 });
      expect((await patch(artifact.id, { data: 42.5 })).status).toBe(204);
      const after = (await read(artifact.id)).body;
      expect(after.data).toBe(42.5);
      expect(after.key).toBeNull();
      expect(after.type).toBe('progress');
    });

    test('updates only the addressed artifact', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      const b = await h.create({ key: 'k', data: 'b' });
      expect((await patch(a.id, { data: 'a2' })).status).toBe(204);
      expect((await read(b.id)).body).toEqual(b);
    });

    test.each([
      ['key', 'nope'],
      ['type', 'table'],
      ['flow_run_id', FLOW_RUN],
      ['task_run_id', TASK_RUN],
      ['id', MISSING_ID],
      ['created', '2024-01-01T00:00:00Z'],
      ['bogus', 1],
    ])('%p cannot be updated: 422 extra_forbidden and the artifact is unchanged', async (name, value) => {
      const artifact = await h.create({ key: 'k', type: 'markdown', data: 'x' });
      const body = { data: 'changed', [name]: value };
      const reply = await patch(artifact.id, body);
      expect(reply.status).toBe(422);
      expect(reply.body).toEqual(validationError([extraForbidden(name, value)], body));
      expect((await read(artifact.id)).body).toEqual(artifact);
    });

    test('invalid field values are 422 and change nothing', async () => {
      const artifact = await h.create({ description: 'd', metadata_: { a: 'b' } });
      const badMeta = await patch(artifact.id, { metadata_: { a: 1 } });
      expect(badMeta.status).toBe(422);
      expect(badMeta.body.exception_detail).toEqual([
        { type: 'string_type', loc: ['body', 'metadata_', 'a'], msg: 'Input should be a valid string', input: 1 },
      ]);
      const badDescription = await patch(artifact.id, { description: 5 });
      expect(badDescription.status).toBe(422);
      expect(badDescription.body.exception_detail[0]).toMatchObject({ type: 'string_type', loc: ['body', 'description'] });
      expect((await read(artifact.id)).body).toEqual(artifact);
    });

    test('an unknown id is 404 "Artifact not found."', async () => {
      const reply = await patch(MISSING_ID, { data: 'x' });
      expectReply(reply, 404, NOT_FOUND);
    });

    test('an id that is not a UUID is 422 uuid_parsing at ["path","id"]', async () => {
      const body = { data: 'x' };
      const reply = await patch('not-a-uuid', body);
      expect(reply.status).toBe(422);
      expect(reply.body.exception_message).toBe('Invalid request received.');
      expect(reply.body.exception_detail).toHaveLength(1);
      expect(reply.body.exception_detail[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'id'], input: 'not-a-uuid' });
      expect(reply.body.request_body).toEqual(body);
    });

    test('a missing body is 422 "missing" at ["body"] and changes nothing', async () => {
      const artifact = await h.create({ data: 'x' });
      const reply = await patch(artifact.id);
      expect(reply.status).toBe(422);
      expect(reply.body.exception_detail).toHaveLength(1);
      expect(reply.body.exception_detail[0]).toMatchObject({ type: 'missing', loc: ['body'], msg: 'Field required' });
      expect(reply.body.request_body).toBeNull();
      expect((await read(artifact.id)).body).toEqual(artifact);
    });

    test('invalid JSON is 422 json_invalid with the raw text', async () => {
      const artifact = await h.create({ data: 'x' });
      const reply = await patch(artifact.id, 'not json');
      expect(reply.status).toBe(422);
      expect(reply.body.exception_detail[0]).toMatchObject({ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error' });
      expect(reply.body.request_body).toBe('not json');
    });
  });

  describe('DELETE /api/artifacts/{id}', () => {
    const remove = (id: string, headers?: Record<string, string>) => h.call('DELETE', `/api/artifacts/${id}`, undefined, headers);

    test('answers 204 with an empty body; the artifact is gone; a second delete is 404', async () => {
      const artifact = await h.create({ key: 'voltaic', data: 1 });
      const reply = await remove(artifact.id);
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');

      const after = await read(artifact.id);
      expectReply(after, 404, NOT_FOUND);

      const again = await remove(artifact.id);
      expectReply(again, 404, NOT_FOUND);
      expect(await count()).toBe(0);
    });

    test('deletes only the addressed artifact', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      const b = await h.create({ key: 'k', data: 'b' });
      const c = await h.create({ data: 'c' });
      expect((await remove(a.id)).status).toBe(204);
      expect((await read(b.id)).body).toEqual(b);
      expect((await read(c.id)).body).toEqual(c);
      expect(await count()).toBe(2);
      const listed = await h.call('POST', '/api/artifacts/filter', {});
      expect(listed.body.map((x: any) => x.id).sort()).toEqual([b.id, c.id].sort());
    });

    test('a deleted artifact can no longer be patched', async () => {
      const artifact = await h.create({ data: 1 });
      expect((await remove(artifact.id)).status).toBe(204);
      const reply = await h.call('PATCH', `/api/artifacts/${artifact.id}`, { data: 2 });
      expectReply(reply, 404, NOT_FOUND);
    });

    test('accepts the id in upper case', async () => {
      const artifact = await h.create({ data: 1 });
      expect((await remove(artifact.id.toUpperCase())).status).toBe(204);
      expect((await read(artifact.id)).status).toBe(404);
    });

    test('an unknown id is 404', async () => {
      const reply = await remove(MISSING_ID);
      expectReply(reply, 404, NOT_FOUND);
    });

    test('an id that is not a UUID is 422 uuid_parsing at ["path","id"] with request_body null', async () => {
      const reply = await remove('not-a-uuid');
      expect(reply.status).toBe(422);
      expect(reply.body.exception_detail).toHaveLength(1);
      expect(reply.body.exception_detail[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'id'], input: 'not-a-uuid' });
      expect(reply.body.request_body).toBeNull();
    });
  });

  describe('X-PREFECT-API-VERSION on create, read, update and delete', () => {
    const formatError = (v: string) => ({
      detail: `Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received ${v}`,
    });
    const tooOld = (v: string) => ({
      detail: `The request specified API version ${v} but this server requires version 0.8.0 or higher.`,
    });
    const withVersion = (v: string | undefined): Record<string, string> => (v === undefined ? {} : { 'X-PREFECT-API-VERSION': v });
    /** Sends `headers` to create (with `createBody`), read, update and delete of `id`: each is 400 with `expected`. */
    async function rejectedOnEveryRoute(id: string, createBody: object, headers: Record<string, string>, expected: object) {
      for (const [method, path, body] of [
        ['POST', '/api/artifacts/', createBody],
        ['GET', `/api/artifacts/${id}`, undefined],
        ['PATCH', `/api/artifacts/${id}`, { data: 2 }],
        ['DELETE', `/api/artifacts/${id}`, undefined],
      ] as const) {
        const reply = await h.call(method, path, body, headers);
        expect(reply.status).toBe(400);
        expect(reply.body).toEqual(expected);
      }
    }

    test.each([[undefined], ['0.8.4'], ['0.8.0'], ['9.9.9'], ['0.9.0'], ['1.0.0']])('%p is accepted on every route', async (v) => {
      const headers = withVersion(v);
      const created = await h.call('POST', '/api/artifacts/', { key: 'k', data: 1 }, headers);
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect((await h.call('GET', `/api/artifacts/${id}`, undefined, headers)).status).toBe(200);
      expect((await h.call('PATCH', `/api/artifacts/${id}`, { data: 2 }, headers)).status).toBe(204);
      expect((await h.call('DELETE', `/api/artifacts/${id}`, undefined, headers)).status).toBe(204);
    });

    test.each([['abc'], ['1.2'], ['1.2.3.4'], ['0.8.a'], ['0.8.'], ['x.y.z']])(
      '%p is 400 with the format message on every route, and nothing changes',
      async (v) => {
        const artifact = await h.create({ key: 'k', data: 1 });
        await rejectedOnEveryRoute(artifact.id, { key: 'k', data: 2 }, withVersion(v), formatError(v));
        expect(await count()).toBe(1);
        expect((await read(artifact.id)).body).toEqual(artifact);
      },
    );

    test.each([['0.7.9'], ['0.0.1'], ['0.7.99']])('%p is 400 below the minimum version', async (v) => {
      const artifact = await h.create({ data: 1 });
      await rejectedOnEveryRoute(artifact.id, {}, withVersion(v), tooOld(v));
      expect(await count()).toBe(1);
    });

    test('the header is checked before the body, the path id and the existence of the artifact', async () => {
      const bad = withVersion('1.2');
      const cases: [string, string, unknown][] = [
        ['POST', '/api/artifacts/', { key: 'Bad Key', bogus: 1 }],
        ['POST', '/api/artifacts/', undefined],
        ['GET', '/api/artifacts/not-a-uuid', undefined],
        ['GET', `/api/artifacts/${MISSING_ID}`, undefined],
        ['PATCH', `/api/artifacts/${MISSING_ID}`, { data: 1 }],
        ['PATCH', '/api/artifacts/not-a-uuid', { key: 'x' }],
        ['PATCH', `/api/artifacts/${MISSING_ID}`, undefined],
        ['DELETE', '/api/artifacts/not-a-uuid', undefined],
        ['DELETE', `/api/artifacts/${MISSING_ID}`, undefined],
      ];
      for (const [method, path, body] of cases) {
        const reply = await h.call(method, path, body, bad);
        expect(`${method} ${path} ${reply.status}`).toBe(`${method} ${path} 400`);
        expect(reply.body).toEqual(formatError('1.2'));
      }
      const old = await h.call('POST', '/api/artifacts/', { bogus: 1 }, withVersion('0.7.9'));
      expect(old.status).toBe(400);
      expect(old.body).toEqual(tooOld('0.7.9'));
    });
  });
});

// LMDB only: startServer opens the store its configuration names, the data directory here.
describe('through a real listening server', () => {
  test('create, read, update and delete over 127.0.0.1, and data survives a restart', async () => {
    const dataDir = tempDir('artifactd-serve-test-');
    let server = startServer({ ...DEFAULTS, host: '127.0.0.1', port: 0, dataDir });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const json = { 'content-type': 'application/json', 'X-PREFECT-API-VERSION': '0.8.4' };

      const created = await fetch(`${server.url}/api/artifacts/`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ key: 'over-http', type: 'markdown', data: '# hi', metadata_: { a: 'b' } }),
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('content-type')).toContain('application/json');
      const artifact = (await created.json()) as any;
      expect(Object.keys(artifact)).toEqual(ARTIFACT_FIELDS);
      expect(artifact.key).toBe('over-http');

      const fetched = await fetch(`${server.url}/api/artifacts/${artifact.id}`, { headers: json });
      expect(fetched.status).toBe(200);
      expect(await fetched.json()).toEqual(artifact);

      const patched = await fetch(`${server.url}/api/artifacts/${artifact.id}`, {
        method: 'PATCH',
        headers: json,
        body: JSON.stringify({ data: '# patched' }),
      });
      expect(patched.status).toBe(204);
      expect(await patched.text()).toBe('');

      // a restart on the same data directory keeps what was acknowledged
      await server.stop();
      server = startServer({ ...DEFAULTS, host: '127.0.0.1', port: 0, dataDir });
      const reread = await fetch(`${server.url}/api/artifacts/${artifact.id}`);
      expect(reread.status).toBe(200);
      expect(((await reread.json()) as any).data).toBe('# patched');

      const deleted = await fetch(`${server.url}/api/artifacts/${artifact.id}`, { method: 'DELETE', headers: json });
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');

      const gone = await fetch(`${server.url}/api/artifacts/${artifact.id}`);
      expect(gone.status).toBe(404);
      expect(await gone.json()).toEqual(NOT_FOUND);

      const badVersion = await fetch(`${server.url}/api/artifacts/${artifact.id}`, { headers: { 'X-PREFECT-API-VERSION': 'abc' } });
      expect(badVersion.status).toBe(400);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
