/**
 * The "latest" lifecycle of keyed artifacts: GET /api/artifacts/{key}/latest and how creates,
 * PATCHes and DELETEs move a key's collection row (shared/spec/artifacts-api.md §4.2, §6.1–6.5,
 * and the recorded Prefect 3.0.0 exchanges). Collection rows are observed through
 * `/{key}/latest`, `/latest/filter` and `/latest/count`.
 */
import { beforeEach, describe, expect, test } from 'bun:test';
import { freshHarness } from './fresh-harness.ts';
import { UUID_RE, expectReply, micros } from './expect.ts';
import { ARTIFACT_FIELDS, ARTIFACT_NOT_FOUND as NOT_FOUND, COLLECTION_FIELDS } from './fields.ts';
import { describeBackends } from '../backends.ts';

const MIRRORED = ['key', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id'] as const;
const FLOW_RUN = '8411fade-9f89-4be4-98a8-b401a1945a63';
const TASK_RUN = '33333333-3333-3333-3333-333333333333';

function mirrored(artifact: Record<string, unknown>) {
  return Object.fromEntries(MIRRORED.map((name) => [name, artifact[name]]));
}

describeBackends('the latest version of a key', (backend) => {
  const h = freshHarness({}, backend);

  const latest = (key: string, headers?: Record<string, string>) =>
    h.call('GET', `/api/artifacts/${encodeURIComponent(key)}/latest`, undefined, headers);

  /** The collection row of `key` from POST /latest/filter, or undefined. */
  async function row(key: string): Promise<any> {
    const reply = await h.call('POST', '/api/artifacts/latest/filter', { artifacts: { key: { any_: [key] } } });
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBeLessThanOrEqual(1);
    return reply.body[0];
  }

  const latestCount = async () => (await h.call('POST', '/api/artifacts/latest/count', {})).body as number;
  const allRows = async () => (await h.call('POST', '/api/artifacts/latest/filter', {})).body as any[];
  const patch = (id: string, body: unknown) => h.call('PATCH', `/api/artifacts/${id}`, body);
  const remove = (id: string) => h.call('DELETE', `/api/artifacts/${id}`);
  const read = async (id: string) => (await h.call('GET', `/api/artifacts/${id}`)).body;

  /** Both views of one collection agree: /{key}/latest is the row without latest_id. */
  async function collection(key: string) {
    const viaGet = await latest(key);
    expect(viaGet.status).toBe(200);
    const viaFilter = await row(key);
    expect(viaFilter).toBeDefined();
    const { latest_id, ...withoutLatest } = viaFilter;
    expect(viaGet.body).toEqual(withoutLatest);
    return { ...viaGet.body, latest_id } as any;
  }

  describe('GET /api/artifacts/{key}/latest', () => {
    test('answers the Artifact field set without latest_id; id is the collection id, not the artifact id', async () => {
      const artifact = await h.create({
        key: 'my-key',
        type: 'markdown',
        description: 'first',
        data: '# hi',
        metadata_: { k: 'v' },
        flow_run_id: FLOW_RUN,
        task_run_id: TASK_RUN,
      });
      const reply = await latest('my-key');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(Object.keys(reply.body)).toEqual(ARTIFACT_FIELDS);
      expect(reply.body).not.toHaveProperty('latest_id');
      expect(reply.body.id).toMatch(UUID_RE);
      expect(reply.body.id).not.toBe(artifact.id);
      expect(mirrored(reply.body)).toEqual(mirrored(artifact));
      // first version: the collection was inserted in the same moment as the artifact
      expect(reply.body.created).toBe(artifact.created);
      expect(reply.body.updated).toBe(artifact.created);
    });

    test('the /latest/filter row has the collection field order, the same id and points at the artifact', async () => {
      const artifact = await h.create({ key: 'my-key', data: 1 });
      const viaFilter = await row('my-key');
      expect(Object.keys(viaFilter)).toEqual(COLLECTION_FIELDS);
      expect(viaFilter.latest_id).toBe(artifact.id);
      expect(viaFilter.id).toBe((await latest('my-key')).body.id);
      expect(viaFilter.created).toBe(viaFilter.updated);
    });

    test('returns the newest version\'s key, data, description, metadata_ and flow_run_id', async () => {
      await h.create({ key: 'voltaic', data: { v: 1 }, description: 'one', metadata_: { n: '1' }, flow_run_id: FLOW_RUN });
      const second = await h.create({
        key: 'voltaic',
        data: { v: 2 },
        description: 'two',
        metadata_: { n: '2' },
        flow_run_id: '22222222-2222-2222-2222-222222222222',
      });
      const reply = await latest('voltaic');
      expect(reply.status).toBe(200);
      expect(reply.body.key).toBe('voltaic');
      expect(reply.body.data).toEqual({ v: 2 });
      expect(reply.body.description).toBe('two');
      expect(reply.body.metadata_).toEqual({ n: '2' });
      expect(reply.body.flow_run_id).toBe('22222222-2222-2222-2222-222222222222');
      expect((await row('voltaic')).latest_id).toBe(second.id);
    });

    test('an unknown key is 404 "Artifact not found."', async () => {
      await h.create({ key: 'other-key' });
      const reply = await latest('no-such-key');
      expectReply(reply, 404, NOT_FOUND);
    });

    test('keys are matched exactly (case-sensitive, no prefix match)', async () => {
      await h.create({ key: 'upper' });
      await h.create({ key: 'abc-def' });
      for (const key of ['UPPER', 'Upper', 'upp', 'abc', 'abc-de', 'abc-def-']) {
        const reply = await latest(key);
        expect(`${key}: ${reply.status}`).toBe(`${key}: 404`);
        expect(reply.body).toEqual(NOT_FOUND);
      }
      expect((await latest('upper')).status).toBe(200);
    });

    test('data is returned exactly, big integers included', async () => {
      await h.call('POST', '/api/artifacts/', '{"key":"big","data":[9007199254740993,{"x":12345678901234567890123}]}');
      const reply = await latest('big');
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('"data":[9007199254740993,{"x":12345678901234567890123}]');
    });

    test('an artifact keyed "" makes a collection that /{key}/latest cannot address (404 Not Found)', async () => {
      const artifact = await h.create({ key: '' });
      expect(await latestCount()).toBe(1);
      expect((await row('')).latest_id).toBe(artifact.id);
      const reply = await h.call('GET', '/api/artifacts//latest');
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ detail: 'Not Found' });
    });

    test('a key with a trailing newline has a collection reachable only through the filter routes', async () => {
      const artifact = await h.create({ key: 'report\n' });
      expect((await row('report\n')).latest_id).toBe(artifact.id);
      expect(await row('report')).toBeUndefined();
      const reply = await h.call('GET', '/api/artifacts/report%0A/latest');
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ detail: 'Not Found' });
      expect((await latest('report')).status).toBe(404);
    });
  });

  describe('creating versions', () => {
    test('keyless artifacts (absent or null key) never make collections', async () => {
      await h.create({ type: 'table', data: [1] });
      await h.create({ key: null, data: 2 });
      await h.create({});
      expect(await latestCount()).toBe(0);
      expect(await allRows()).toEqual([]);
      expect((await h.call('POST', '/api/artifacts/count', {})).body).toBe(3);
    });

    test('one collection per key, whatever the number of versions', async () => {
      await h.create({ key: 'a', data: 1 });
      await h.create({ key: 'a', data: 2 });
      await h.create({ key: 'b', data: 3 });
      await h.create({ data: 4 });
      await h.create({ key: 'a', data: 5 });
      expect(await latestCount()).toBe(2);
      const rows = await allRows();
      expect(rows.map((r) => r.key).sort()).toEqual(['a', 'b']);
      expect(rows.find((r) => r.key === 'a').data).toBe(5);
      expect(rows.find((r) => r.key === 'b').data).toBe(3);
    });

    test('a new version moves latest_id and updated; the collection id and created stay', async () => {
      const first = await h.create({ key: 'my-key', type: 'markdown', data: '# hi' });
      const before = await collection('my-key');
      const second = await h.create({ key: 'my-key', type: 'markdown', data: '# hi v2', description: 'second version' });
      const after = await collection('my-key');
      expect(after.id).toBe(before.id);
      expect(after.created).toBe(first.created);
      expect(after.updated).toBe(second.created);
      expect(micros(after.updated)).toBeGreaterThan(micros(after.created));
      expect(after.latest_id).toBe(second.id);
      expect(mirrored(after)).toEqual(mirrored(second));

      const third = await h.create({ key: 'my-key', data: 3 });
      const last = await collection('my-key');
      expect(last.id).toBe(before.id);
      expect(last.created).toBe(first.created);
      expect(last.updated).toBe(third.created);
      expect(last.latest_id).toBe(third.id);
    });

    test('a new version overwrites every mirrored field, nulls included', async () => {
      await h.create({
        key: 'my-key',
        type: 'markdown',
        description: 'described',
        data: { rich: true },
        metadata_: { k: 'v' },
        flow_run_id: FLOW_RUN,
        task_run_id: TASK_RUN,
      });
      const bare = await h.create({ key: 'my-key' });
      const after = await collection('my-key');
      expect(after.latest_id).toBe(bare.id);
      expect(mirrored(after)).toEqual({
        key: 'my-key',
        type: null,
        description: null,
        data: null,
        metadata_: null,
        flow_run_id: null,
        task_run_id: null,
      });
    });

    test('the collection mirrors canonical run ids and cut metadata of the latest version', async () => {
      await h.create({
        key: 'norm',
        flow_run_id: FLOW_RUN.toUpperCase(),
        task_run_id: `{${TASK_RUN}}`,
        metadata_: { long: 'z'.repeat(600) },
      });
      const after = await collection('norm');
      expect(after.flow_run_id).toBe(FLOW_RUN);
      expect(after.task_run_id).toBe(TASK_RUN);
      expect(after.metadata_).toEqual({ long: 'z'.repeat(500) + '...' });
    });

    test('versions of one key do not touch the collection of another', async () => {
      await h.create({ key: 'b', data: 'b1' });
      const b = await collection('b');
      await h.create({ key: 'a', data: 'a1' });
      await h.create({ key: 'a', data: 'a2' });
      await h.create({ data: 'keyless' });
      expect(await collection('b')).toEqual(b);
    });

    test('a rejected create changes no collection', async () => {
      await h.create({ key: 'k', data: 1 });
      const before = await collection('k');
      expect((await h.call('POST', '/api/artifacts/', { key: 'k', data: 2, bogus: 1 })).status).toBe(422);
      expect((await h.call('POST', '/api/artifacts/', { key: 'k', metadata_: { n: 1 } })).status).toBe(422);
      expect(await collection('k')).toEqual(before);
    });
  });

  describe('updating versions', () => {
    test('PATCH of the latest version copies the given fields and bumps the collection updated', async () => {
      const artifact = await h.create({
        key: 'pl',
        type: 'markdown',
        data: 'v1',
        metadata_: { keep: 'me' },
        flow_run_id: FLOW_RUN,
      });
      const before = await collection('pl');
      expect((await patch(artifact.id, { data: 'v1-patched', description: 'd' })).status).toBe(204);
      const after = await collection('pl');
      expect(after.id).toBe(before.id);
      expect(after.created).toBe(before.created);
      expect(after.latest_id).toBe(artifact.id);
      expect(after.data).toBe('v1-patched');
      expect(after.description).toBe('d');
      expect(after.type).toBe('markdown');
      expect(after.metadata_).toEqual({ keep: 'me' });
      expect(after.flow_run_id).toBe(FLOW_RUN);
      expect(micros(after.updated)).toBeGreaterThan(micros(before.updated));
      // the collection now reads like the patched artifact
      expect(mirrored(after)).toEqual(mirrored(await read(artifact.id)));
    });

    test('explicit nulls in a PATCH of the latest version reach the collection', async () => {
      const artifact = await h.create({ key: 'nul', description: 'd', data: 'x', metadata_: { a: 'b' } });
      expect((await patch(artifact.id, { description: null, data: null, metadata_: null })).status).toBe(204);
      const after = await collection('nul');
      expect(after.description).toBeNull();
      expect(after.data).toBeNull();
      expect(after.metadata_).toBeNull();
    });

    test('metadata_ cut on PATCH is what the collection mirrors', async () => {
      const artifact = await h.create({ key: 'cut' });
      expect((await patch(artifact.id, { metadata_: { v: '😀'.repeat(501) } })).status).toBe(204);
      expect((await collection('cut')).metadata_).toEqual({ v: '😀'.repeat(500) + '...' });
    });

    test('PATCH {} of the latest version still bumps the collection updated, nothing else', async () => {
      const artifact = await h.create({ key: 'empty-patch', data: 'same' });
      const before = await collection('empty-patch');
      expect((await patch(artifact.id, {})).status).toBe(204);
      const after = await collection('empty-patch');
      expect(micros(after.updated)).toBeGreaterThan(micros(before.updated));
      expect({ ...after, updated: before.updated }).toEqual(before);
    });

    test('PATCH of an older version leaves the collection untouched', async () => {
      const older = await h.create({ key: 'my-key', data: 'old', description: 'old' });
      await h.create({ key: 'my-key', data: 'new', description: 'new' });
      const before = await latest('my-key');
      const beforeRow = await row('my-key');
      expect((await patch(older.id, { data: 'old-patched', description: 'x', metadata_: { a: 'b' } })).status).toBe(204);
      expect((await read(older.id)).data).toBe('old-patched');
      const after = await latest('my-key');
      expect(after.text).toBe(before.text);
      expect(await row('my-key')).toEqual(beforeRow);
    });

    test('a rejected PATCH of the latest version changes nothing in the collection', async () => {
      const artifact = await h.create({ key: 'k', data: 1 });
      const before = await collection('k');
      expect((await patch(artifact.id, { data: 2, key: 'other' })).status).toBe(422);
      expect(await collection('k')).toEqual(before);
      expect(await row('other')).toBeUndefined();
    });

    test('PATCH of a keyless artifact makes no collection', async () => {
      const artifact = await h.create({ type: 'progress', data: 0 });
      expect((await patch(artifact.id, { data: 50 })).status).toBe(204);
      expect(await latestCount()).toBe(0);
    });
  });

  describe('deleting versions', () => {
    test('deleting the only version removes the key everywhere', async () => {
      const artifact = await h.create({ key: 'voltaic', data: 1 });
      await h.create({ key: 'other-key', data: 2 });
      expect(await latestCount()).toBe(2);
      expect((await remove(artifact.id)).status).toBe(204);

      const reply = await latest('voltaic');
      expectReply(reply, 404, NOT_FOUND);
      expect(await row('voltaic')).toBeUndefined();
      expect(await latestCount()).toBe(1);
      expect((await allRows()).map((r) => r.key)).toEqual(['other-key']);
      const counted = await h.call('POST', '/api/artifacts/latest/count', { artifacts: { key: { any_: ['voltaic'] } } });
      expect(counted.body).toBe(0);
    });

    test('a key created again after its last version was deleted gets a fresh collection', async () => {
      const first = await h.create({ key: 'again', data: 1 });
      const old = await collection('again');
      expect((await remove(first.id)).status).toBe(204);
      const second = await h.create({ key: 'again', data: 2 });
      const fresh = await collection('again');
      expect(fresh.id).not.toBe(old.id);
      expect(fresh.created).toBe(second.created);
      expect(fresh.updated).toBe(second.created);
      expect(fresh.latest_id).toBe(second.id);
      expect(fresh.data).toBe(2);
    });

    test('deleting a non-latest version leaves the collection untouched', async () => {
      const older = await h.create({ key: 'my-key', data: 'old' });
      await h.create({ key: 'my-key', data: 'new' });
      const before = await latest('my-key');
      const beforeRow = await row('my-key');
      expect((await remove(older.id)).status).toBe(204);
      expect((await latest('my-key')).text).toBe(before.text);
      expect(await row('my-key')).toEqual(beforeRow);
    });

    test('deleting the latest falls back to the remaining version, with its own timestamps and the collection id kept', async () => {
      // the recorded exchange: A, then B (latest), PATCH A, DELETE B
      const a = await h.create({ key: 'my-key', type: 'markdown', data: '# hi', flow_run_id: FLOW_RUN });
      const b = await h.create({
        key: 'my-key',
        type: 'markdown',
        data: '# hi v2',
        description: 'second version',
        metadata_: { k: 'v' },
      });
      const before = await collection('my-key');
      expect(before.latest_id).toBe(b.id);
      expect((await patch(a.id, { data: '# updated', description: 'patched' })).status).toBe(204);
      const patchedA = await read(a.id);
      expect((await collection('my-key')).data).toBe('# hi v2'); // A is not latest: untouched

      expect((await remove(b.id)).status).toBe(204);
      const after = await collection('my-key');
      expect(after.id).toBe(before.id);
      expect(after.latest_id).toBe(a.id);
      expect(after.created).toBe(patchedA.created);
      expect(after.updated).toBe(patchedA.updated);
      expect(mirrored(after)).toEqual({
        key: 'my-key',
        type: 'markdown',
        description: 'patched',
        data: '# updated',
        metadata_: null,
        flow_run_id: FLOW_RUN,
        task_run_id: null,
      });

      expect((await remove(a.id)).status).toBe(204);
      expect((await latest('my-key')).status).toBe(404);
    });

    test('after a fallback the collection created can move forward in time', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      const b = await h.create({ key: 'k', data: 'b' });
      const c = await h.create({ key: 'k', data: 'c' });
      expect((await collection('k')).created).toBe(a.created);
      expect((await remove(a.id)).status).toBe(204);
      expect((await collection('k')).created).toBe(a.created); // non-latest delete: untouched
      expect((await remove(c.id)).status).toBe(204);
      const after = await collection('k');
      expect(after.latest_id).toBe(b.id);
      expect(after.created).toBe(b.created);
      expect(after.updated).toBe(b.updated);
      expect(micros(after.created)).toBeGreaterThan(micros(a.created));
    });

    test('the fallback is the newest remaining version by created, not the most recently updated', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      const b = await h.create({ key: 'k', data: 'b' });
      const c = await h.create({ key: 'k', data: 'c' });
      expect((await patch(a.id, { data: 'a-patched' })).status).toBe(204); // A is now the most recently updated
      expect((await remove(c.id)).status).toBe(204);
      const after = await collection('k');
      expect(after.latest_id).toBe(b.id);
      expect(after.data).toBe('b');
      expect(after.created).toBe(b.created);
    });

    test('fallback only considers versions of the same key', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      await h.create({ key: 'other', data: 'o' });
      await h.create({ data: 'keyless' });
      const b = await h.create({ key: 'k', data: 'b' });
      await h.create({ key: 'k-2', data: 'prefix-sibling' });
      expect((await remove(b.id)).status).toBe(204);
      const after = await collection('k');
      expect(after.latest_id).toBe(a.id);
      expect(after.data).toBe('a');
      expect((await collection('other')).data).toBe('o');
      expect((await collection('k-2')).data).toBe('prefix-sibling');
    });

    test('a PATCH of the fallback version then updates the collection', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      const b = await h.create({ key: 'k', data: 'b' });
      expect((await remove(b.id)).status).toBe(204);
      const before = await collection('k');
      expect((await patch(a.id, { data: 'a2' })).status).toBe(204);
      const after = await collection('k');
      expect(after.data).toBe('a2');
      expect(micros(after.updated)).toBeGreaterThan(micros(before.updated));
    });

    test('a new version after a fallback becomes latest again', async () => {
      const a = await h.create({ key: 'k', data: 'a' });
      const b = await h.create({ key: 'k', data: 'b' });
      const id = (await collection('k')).id;
      expect((await remove(b.id)).status).toBe(204);
      const c = await h.create({ key: 'k', data: 'c' });
      const after = await collection('k');
      expect(after.id).toBe(id);
      expect(after.latest_id).toBe(c.id);
      expect(after.created).toBe(a.created);
      expect(after.updated).toBe(c.created);
    });

    test('deleting a keyless artifact touches no collection', async () => {
      await h.create({ key: 'k', data: 1 });
      const before = await collection('k');
      const keyless = await h.create({ data: 2 });
      expect((await remove(keyless.id)).status).toBe(204);
      expect(await collection('k')).toEqual(before);
      expect(await latestCount()).toBe(1);
    });

    test('a failed delete (unknown id) changes no collection', async () => {
      await h.create({ key: 'k', data: 1 });
      const before = await collection('k');
      expect((await remove('00000000-0000-0000-0000-000000000000')).status).toBe(404);
      expect(await collection('k')).toEqual(before);
    });

    describe('three versions', () => {
      let v: any[];
      let initial: any;
      beforeEach(async () => {
        v = [];
        for (const n of [1, 2, 3]) v.push(await h.create({ key: 'tri', data: n, description: `v${n}` }));
        initial = await collection('tri');
        expect(initial.latest_id).toBe(v[2].id);
      });

      test('deleting the earliest leaves the collection untouched', async () => {
        expect((await remove(v[0].id)).status).toBe(204);
        expect(await collection('tri')).toEqual(initial);
        expect((await h.call('GET', `/api/artifacts/${v[0].id}`)).status).toBe(404);
      });

      test('deleting the middle leaves the collection untouched', async () => {
        expect((await remove(v[1].id)).status).toBe(204);
        expect(await collection('tri')).toEqual(initial);
      });

      test('deleting the latest makes the middle one latest', async () => {
        expect((await remove(v[2].id)).status).toBe(204);
        const after = await collection('tri');
        expect(after.id).toBe(initial.id);
        expect(after.latest_id).toBe(v[1].id);
        expect(after.data).toBe(2);
        expect(after.description).toBe('v2');
        expect(after.created).toBe(v[1].created);
        expect(after.updated).toBe(v[1].updated);
      });

      test('deleting latest, then latest again, then the last walks back to removal', async () => {
        expect((await remove(v[2].id)).status).toBe(204);
        expect((await remove(v[1].id)).status).toBe(204);
        const after = await collection('tri');
        expect(after.id).toBe(initial.id);
        expect(after.latest_id).toBe(v[0].id);
        expect(after.data).toBe(1);
        expect(after.created).toBe(v[0].created);
        expect((await remove(v[0].id)).status).toBe(204);
        expect((await latest('tri')).status).toBe(404);
        expect(await latestCount()).toBe(0);
        expect(await allRows()).toEqual([]);
      });

      test('deleting the middle, then the latest, falls back to the earliest', async () => {
        expect((await remove(v[1].id)).status).toBe(204);
        expect((await remove(v[2].id)).status).toBe(204);
        const after = await collection('tri');
        expect(after.latest_id).toBe(v[0].id);
        expect(after.data).toBe(1);
        expect(after.created).toBe(v[0].created);
        expect(after.updated).toBe(v[0].updated);
      });
    });
  });

  describe('X-PREFECT-API-VERSION on GET /api/artifacts/{key}/latest', () => {
    beforeEach(async () => {
      await h.create({ key: 'versioned', data: 1 });
    });

    test.each([[undefined], ['0.8.4'], ['0.8.0'], ['9.9.9']])('%p is accepted', async (v) => {
      const reply = await latest('versioned', v === undefined ? {} : { 'X-PREFECT-API-VERSION': v });
      expect(reply.status).toBe(200);
      expect(reply.body.data).toBe(1);
    });

    test.each([['abc'], ['1.2'], ['1.2.3.4'], ['0.8.a']])('%p is 400 with the format message', async (v) => {
      const reply = await latest('versioned', { 'X-PREFECT-API-VERSION': v });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        detail: `Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received ${v}`,
      });
    });

    test('0.7.9 is 400 with the minimum-version message', async () => {
      const reply = await latest('versioned', { 'X-PREFECT-API-VERSION': '0.7.9' });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        detail: 'The request specified API version 0.7.9 but this server requires version 0.8.0 or higher.',
      });
    });

    test('the header is checked before the key is looked up', async () => {
      const reply = await latest('no-such-key', { 'X-PREFECT-API-VERSION': 'abc' });
      expect(reply.status).toBe(400);
    });
  });
});
