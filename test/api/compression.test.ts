/**
 * gzip as Prefect's server does it (Starlette's GZipMiddleware with its defaults): replies of
 * 500 bytes or more are gzipped when the request's Accept-Encoding names gzip, with
 * `Content-Encoding: gzip` and `Vary: Accept-Encoding`; smaller or empty replies, and clients
 * that do not ask, get the plain body. `--no-gzip` (config.gzip false) turns it off.
 */
import { afterEach, expect, test } from 'bun:test';
import { GZIP_MIN_BYTES, acceptsGzip } from '../../src/http/compress.ts';
import { harness, type Harness } from '../helpers.ts';
import { describeBackends } from '../backends.ts';

describeBackends('gzip', (backend) => {
  let h: Harness;
  let opened: Harness | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
  const open = async (overrides?: Parameters<typeof harness>[0]) => (h = opened = await harness(overrides, backend));

  const GZIP = { 'accept-encoding': 'gzip, deflate' };

  async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await h.app.handle(
      new Request(`http://127.0.0.1${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) }),
    );
    return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
  }

  const gunzip = (bytes: Uint8Array<ArrayBuffer>) => JSON.parse(new TextDecoder().decode(Bun.gunzipSync(bytes)));

  test('a filter page is gzipped for a client that accepts gzip, and decodes to the plain reply', async () => {
    await open();
    for (let i = 0; i < 20; i++) await h.create({ key: `report-${i}`, type: 'markdown', data: `# Report ${i}\n${'row\n'.repeat(20)}` });
    const plain = await raw('POST', '/api/artifacts/filter', {});
    expect(plain.response.headers.get('content-encoding')).toBeNull();
    const zipped = await raw('POST', '/api/artifacts/filter', {}, GZIP);
    expect(zipped.response.status).toBe(200);
    expect(zipped.response.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.response.headers.get('vary')).toBe('Accept-Encoding');
    expect(zipped.response.headers.get('content-type')).toBe('application/json');
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length / 3);
    expect(gunzip(zipped.bytes)).toEqual(JSON.parse(new TextDecoder().decode(plain.bytes)));
  });

  test('the direct reads (GET by id, latest by key) are gzipped too when large enough', async () => {
    await open();
    const big = await h.create({ key: 'big', data: 'x'.repeat(2000) });
    const small = await h.create({ key: 'small', data: 1 });
    for (const path of [`/api/artifacts/${big.id}`, '/api/artifacts/big/latest']) {
      const { response, bytes } = await raw('GET', path, undefined, GZIP);
      expect(response.headers.get('content-encoding')).toBe('gzip');
      expect(gunzip(bytes).data).toBe('x'.repeat(2000));
    }
    const { response, bytes } = await raw('GET', `/api/artifacts/${small.id}`, undefined, GZIP);
    expect(bytes.length).toBeLessThan(GZIP_MIN_BYTES);
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('vary')).toBeNull();
  });

  test('the threshold is 500 bytes of body, counted in bytes (Starlette minimum_size)', async () => {
    await open();
    // A body of exactly n bytes: the create reply minus its data, padded with data.
    const probe = await h.create({ key: 'probe', data: '' });
    const base = new TextEncoder().encode(JSON.stringify(probe)).length;
    const sized = async (n: number, char = 'x') => {
      const made = await h.create({ key: 'probe', data: char.repeat((n - base) / new TextEncoder().encode(char).length) });
      const { response, bytes } = await raw('GET', `/api/artifacts/${made.id}`, undefined, GZIP);
      return { encoding: response.headers.get('content-encoding'), bytes };
    };
    expect((await sized(GZIP_MIN_BYTES - 1)).encoding).toBeNull();
    expect((await sized(GZIP_MIN_BYTES - 1)).bytes.length).toBe(GZIP_MIN_BYTES - 1);
    expect((await sized(GZIP_MIN_BYTES)).encoding).toBe('gzip');
    // Fewer than 500 UTF-16 units, but 500 bytes and more in UTF-8.
    const accented = await sized(base + 3 * Math.ceil((GZIP_MIN_BYTES - base) / 3), '€');
    expect(accented.encoding).toBe('gzip');
  });

  test("errors and other routes' large replies are gzipped; 204s and small replies are not", async () => {
    await open();
    const invalid = await raw('POST', '/api/artifacts/filter', { artifacts: { key: { like_: 'y'.repeat(600) }, bogus: 1 } }, GZIP);
    expect(invalid.response.status).toBe(422);
    expect(invalid.response.headers.get('content-encoding')).toBe('gzip');
    expect(gunzip(invalid.bytes).exception_message).toBe('Invalid request received.');
    const doc = await raw('GET', '/docs/json', undefined, GZIP);
    expect(doc.response.headers.get('content-encoding')).toBe('gzip');
    expect(gunzip(doc.bytes).paths['/api/artifacts/filter']).toBeDefined();
    const made = await h.create({ key: 'k', data: 'z'.repeat(1000) });
    const deleted = await raw('DELETE', `/api/artifacts/${made.id}`, undefined, GZIP);
    expect(deleted.response.status).toBe(204);
    expect(deleted.response.headers.get('content-encoding')).toBeNull();
    const health = await raw('GET', '/api/health', undefined, GZIP);
    expect(health.response.headers.get('content-encoding')).toBeNull();
    expect(new TextDecoder().decode(health.bytes)).toBe('true');
  });

  test('--no-gzip (config.gzip false) sends every reply plain', async () => {
    await open({ gzip: false });
    const made = await h.create({ key: 'k', data: 'z'.repeat(5000) });
    const { response, bytes } = await raw('GET', `/api/artifacts/${made.id}`, undefined, GZIP);
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(JSON.parse(new TextDecoder().decode(bytes)).data).toBe('z'.repeat(5000));
  });

  test('Accept-Encoding: gzip anywhere in the list, or *, accepts it; q=0 or other codings do not', () => {
    const accepts = (value: string | null) => acceptsGzip(new Request('http://x/', { headers: value === null ? {} : { 'accept-encoding': value } }));
    expect(accepts('gzip')).toBe(true);
    expect(accepts('gzip, deflate, br')).toBe(true);
    expect(accepts('br;q=1.0, gzip;q=0.8')).toBe(true);
    expect(accepts('*')).toBe(true);
    expect(accepts('GZIP')).toBe(true);
    expect(accepts(null)).toBe(false);
    expect(accepts('identity')).toBe(false);
    expect(accepts('br, deflate')).toBe(false);
    expect(accepts('gzip;q=0')).toBe(false);
    expect(accepts('gzip;q=0.0, br')).toBe(false);
    expect(accepts('x-gzip2')).toBe(false);
  });

  test('a gzipped reply keeps the headers added after the route: CORS on a direct read and a filter', async () => {
    await open();
    const made = await h.create({ key: 'k', data: 'z'.repeat(2000) });
    for (const [method, path, body] of [
      ['GET', `/api/artifacts/${made.id}`, undefined],
      ['POST', '/api/artifacts/filter', {}],
    ] as const) {
      const { response, bytes } = await raw(method, path, body, { ...GZIP, origin: 'https://ui.example' });
      expect(response.headers.get('content-encoding')).toBe('gzip');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(JSON.stringify(gunzip(bytes))).toContain('z'.repeat(2000));
    }
  });
});
