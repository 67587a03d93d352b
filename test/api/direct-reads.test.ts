/**
 * The direct answers for GET by id and latest by key (src/api/direct-reads.ts) must be
 * indistinguishable from the router's: each plain request is compared with a spelling the
 * router answers (upper-case UUID, percent-encoded key), and every header-dependent rule
 * (API version, CORS, basic auth) still applies to them.
 *
 * LMDB only: direct reads are LMDB's optional capability (`store.direct`, answered without a
 * promise from the memory map); a PostgreSQL store has none, and its reads go through the router,
 * which the other API suites test on both backends.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test';
import { directRead } from '../../src/api/direct-reads.ts';
import { harness, type LmdbHarness } from '../helpers.ts';

let h: LmdbHarness;
let first: any;
let latest: any;

beforeEach(async () => {
  h = harness();
  first = await h.create({ key: 'nightly-report', type: 'markdown', data: '# one' });
  latest = await h.create({ key: 'nightly-report', type: 'table', data: '[[1, 2]]', description: 'two' });
});
afterEach(() => h.close());

const get = (path: string) => new Request(`http://127.0.0.1${path}`);

test('answers only plain GETs of existing artifacts, leaving every other spelling to the router', () => {
  expect(directRead(h.store.direct, get(''), `/api/artifacts/${first.id}`)).toBeInstanceOf(Response);
  expect(directRead(h.store.direct, get(''), '/api/artifacts/nightly-report/latest')).toBeInstanceOf(Response);
  for (const path of [
    `/api/artifacts/${first.id.toUpperCase()}`,
    `/api/artifacts/${first.id.replaceAll('-', '')}`,
    '/api/artifacts/00000000-0000-0000-0000-000000000000',
    '/api/artifacts/nightly%2Dreport/latest',
    '/api/artifacts/no-such-key/latest',
    '/api/artifacts//latest',
    '/api/artifacts/filter',
    `/api/flows/${first.id}`,
  ]) {
    expect(directRead(h.store.direct, get(''), path)).toBeUndefined();
  }
});

test('GET by id answers exactly what the router answers', async () => {
  const direct = await h.call('GET', `/api/artifacts/${first.id}`);
  const routed = await h.call('GET', `/api/artifacts/${first.id.toUpperCase()}`);
  expect(direct.status).toBe(200);
  expect(direct.text).toBe(routed.text);
  expect(direct.headers.get('content-type')).toBe(routed.headers.get('content-type'));
  expect(direct.body).toEqual(first);
});

test('GET latest by key answers exactly what the router answers', async () => {
  const direct = await h.call('GET', '/api/artifacts/nightly-report/latest');
  const routed = await h.call('GET', '/api/artifacts/nightly%2Dreport/latest');
  expect(direct.status).toBe(200);
  expect(direct.text).toBe(routed.text);
  expect(direct.body.type).toBe(latest.type); // the collection row, mirroring the newest version
});

test('a bad X-PREFECT-API-VERSION is a 400 whether or not the artifact exists', async () => {
  const headers = { 'x-prefect-api-version': 'nonsense' };
  const hit = await h.call('GET', `/api/artifacts/${first.id}`, undefined, headers);
  const miss = await h.call('GET', '/api/artifacts/00000000-0000-0000-0000-000000000000', undefined, headers);
  expect(hit.status).toBe(400);
  expect(hit.body).toEqual(miss.body);
  expect((await h.call('GET', '/api/artifacts/nightly-report/latest', undefined, { 'x-prefect-api-version': '0.3.0' })).status).toBe(400);
});

test('direct answers carry the CORS header like every other answer', async () => {
  const reply = await h.call('GET', `/api/artifacts/${first.id}`, undefined, { origin: 'http://example.test' });
  expect(reply.status).toBe(200);
  expect(reply.headers.get('access-control-allow-origin')).toBe('*');
});

test('basic auth guards the direct reads', async () => {
  const guarded = harness({ authString: 'admin:secret' });
  try {
    const created = await guarded.call('POST', '/api/artifacts/', { key: 'k', data: 1 }, { authorization: `Basic ${btoa('admin:secret')}` });
    expect(created.status).toBe(201);
    expect((await guarded.call('GET', `/api/artifacts/${created.body.id}`)).status).toBe(401);
    expect((await guarded.call('GET', '/api/artifacts/k/latest')).status).toBe(401);
    const allowed = await guarded.call('GET', `/api/artifacts/${created.body.id}`, undefined, { authorization: `Basic ${btoa('admin:secret')}` });
    expect(allowed.body).toEqual(created.body);
  } finally {
    await guarded.close();
  }
});
