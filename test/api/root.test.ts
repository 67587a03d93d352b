/**
 * The routes every Prefect client touches besides artifacts (health, version, readiness, CSRF
 * token), the API-version header check on them, what unmatched requests get (404, 405, 307),
 * CORS, and the OpenAPI document / Swagger UI. Sources: shared/spec/artifacts-api.md §1, §3, §8,
 * §12.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';
import { describeBackends } from '../backends.ts';

const CLIENT = '6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12';
const BAD_FORMAT = (v: string) =>
  `Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received ${v}`;
const TOO_OLD = (v: string) => `The request specified API version ${v} but this server requires version 0.8.0 or higher.`;

describeBackends('root routes, unmatched requests, CORS and docs', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({}, backend);
  });
  afterAll(async () => {
    await h.close();
  });

  const get = (path: string, headers?: Record<string, string>) => h.call('GET', path, undefined, headers);

  describe('root routes', () => {
    test('GET /api/health → true', async () => {
      const reply = await get('/api/health');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(reply.text).toBe('true');
    });

    test('GET /api/version → "0.8.4"', async () => {
      const reply = await get('/api/version');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(reply.body).toBe('0.8.4');
    });

    test('GET /api/admin/version → a 3.x.y version string', async () => {
      const reply = await get('/api/admin/version');
      expect(reply.status).toBe(200);
      expect(typeof reply.body).toBe('string');
      expect(reply.body).toMatch(/^3\.\d+\.\d+/);
    });

    test('GET /api/ready → {"message": "OK"}', async () => {
      const reply = await get('/api/ready');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ message: 'OK' });
    });

    test('GET /api/hello → "👋"', async () => {
      const reply = await get('/api/hello');
      expect(reply.status).toBe(200);
      expect(reply.body).toBe('👋');
    });

    test('GET /api/csrf-token?client=… → 422 "CSRF protection is disabled."', async () => {
      const reply = await get(`/api/csrf-token?client=${CLIENT}`);
      expect(reply.status).toBe(422);
      expect(reply.body).toEqual({ detail: 'CSRF protection is disabled.' });
    });

    test('GET /api/csrf-token without client → 422 missing at ["query", "client"]', async () => {
      const reply = await get('/api/csrf-token');
      expect(reply.status).toBe(422);
      expect(reply.body.exception_message).toBe('Invalid request received.');
      expect(reply.body.exception_detail).toHaveLength(1);
      expect(reply.body.exception_detail[0].type).toBe('missing');
      expect(reply.body.exception_detail[0].loc).toEqual(['query', 'client']);
      expect(reply.body.exception_detail[0].msg).toBe('Field required');
      expect(reply.body.request_body).toBeNull();
    });
  });

  describe('X-PREFECT-API-VERSION on root routes', () => {
    test.each(['/api/health', '/api/version'])('%s skips the check', async (path) => {
      for (const value of ['abc', '0.7.9', '1.2.3.4']) {
        const reply = await get(path, { 'x-prefect-api-version': value });
        expect(reply.status).toBe(200);
      }
    });

    test.each(['/api/ready', '/api/hello', '/api/admin/version', `/api/csrf-token?client=${CLIENT}`])(
      '%s runs the check',
      async (path) => {
        for (const value of ['abc', '1.2', '1.2.3.4', '0.8.a']) {
          const reply = await get(path, { 'x-prefect-api-version': value });
          expect(reply.status).toBe(400);
          expect(reply.body).toEqual({ detail: BAD_FORMAT(value) });
        }
        const old = await get(path, { 'x-prefect-api-version': '0.7.9' });
        expect(old.status).toBe(400);
        expect(old.body).toEqual({ detail: TOO_OLD('0.7.9') });
        for (const value of ['0.8.0', '0.8.4', '9.9.9']) {
          const ok = await get(path, { 'x-prefect-api-version': value });
          expect(ok.status).not.toBe(400);
        }
      },
    );

    test('the check runs before the missing-client error of /csrf-token', async () => {
      const reply = await get('/api/csrf-token', { 'x-prefect-api-version': 'abc' });
      expect(reply.status).toBe(400);
    });
  });

  describe('unmatched requests', () => {
    test('an unknown path → 404 {"detail": "Not Found"}', async () => {
      for (const path of ['/api/nope', '/api/artifacts/a/b/c', '/nope']) {
        const reply = await get(path);
        expect(reply.status).toBe(404);
        expect(reply.body).toEqual({ detail: 'Not Found' });
        expect(reply.headers.get('content-type')).toContain('application/json');
      }
    });

    test('PUT /api/artifacts/filter → 405 with Allow: GET', async () => {
      const reply = await h.call('PUT', '/api/artifacts/filter', {});
      expect(reply.status).toBe(405);
      expect(reply.body).toEqual({ detail: 'Method Not Allowed' });
      expect(reply.headers.get('allow')).toBe('GET');
    });

    test('GET /api/artifacts/ → 405 with Allow: POST', async () => {
      const reply = await get('/api/artifacts/');
      expect(reply.status).toBe(405);
      expect(reply.body).toEqual({ detail: 'Method Not Allowed' });
      expect(reply.headers.get('allow')).toBe('POST');
    });

    test('POST /api/artifacts → 307 to /api/artifacts/', async () => {
      const reply = await h.call('POST', '/api/artifacts', { key: 'no-slash' });
      expect(reply.status).toBe(307);
      expect(reply.headers.get('location')).toEndWith('/api/artifacts/');
      // Nothing was created.
      expect((await h.call('POST', '/api/artifacts/count', {})).body).toBe(0);
    });

    test('POST /api/artifacts/filter/ → 307 to /api/artifacts/filter', async () => {
      const reply = await h.call('POST', '/api/artifacts/filter/', {});
      expect(reply.status).toBe(307);
      expect(reply.headers.get('location')).toEndWith('/api/artifacts/filter');
    });

    test('GET /api/health/ → 307 to /api/health', async () => {
      const reply = await get('/api/health/');
      expect(reply.status).toBe(307);
      expect(reply.headers.get('location')).toEndWith('/api/health');
    });
  });

  describe('CORS', () => {
    const ORIGIN = 'http://127.0.0.1:4201';

    test('a request with an Origin header gets access-control-allow-origin: *', async () => {
      const health = await get('/api/health', { origin: ORIGIN });
      expect(health.status).toBe(200);
      expect(health.headers.get('access-control-allow-origin')).toBe('*');
      const filter = await h.call('POST', '/api/artifacts/filter', {}, { origin: ORIGIN });
      expect(filter.status).toBe(200);
      expect(filter.headers.get('access-control-allow-origin')).toBe('*');
      const error = await h.call('POST', '/api/artifacts/filter', { limit: 500 }, { origin: ORIGIN });
      expect(error.status).toBe(422);
      expect(error.headers.get('access-control-allow-origin')).toBe('*');
    });

    test('a preflight answers 200 allowing any origin, the method and the requested headers', async () => {
      const reply = await h.call('OPTIONS', '/api/artifacts/filter', undefined, {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-prefect-api-version',
      });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
      expect(reply.headers.get('access-control-allow-methods')).toContain('POST');
      const allowed = (reply.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      expect(allowed).toContain('x-prefect-api-version');
      expect(allowed).toContain('content-type');
    });

    test('a preflight for PATCH on an artifact path is allowed too', async () => {
      const reply = await h.call('OPTIONS', `/api/artifacts/${CLIENT}`, undefined, {
        origin: ORIGIN,
        'access-control-request-method': 'PATCH',
      });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
      expect(reply.headers.get('access-control-allow-methods')).toContain('PATCH');
    });
  });

  describe('API documentation', () => {
    const PATHS = [
      '/api/artifacts/',
      '/api/artifacts/{id}',
      '/api/artifacts/{key}/latest',
      '/api/artifacts/filter',
      '/api/artifacts/latest/filter',
      '/api/artifacts/count',
      '/api/artifacts/latest/count',
    ];

    test('GET /docs/json is an OpenAPI document with every artifact route', async () => {
      const reply = await get('/docs/json');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('application/json');
      const doc = reply.body;
      expect(String(doc.openapi)).toMatch(/^3\./);
      expect(typeof doc.info?.title).toBe('string');
      for (const path of PATHS) expect(Object.keys(doc.paths)).toContain(path);
      expect(Object.keys(doc.paths['/api/artifacts/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
      expect(Object.keys(doc.paths['/api/artifacts/']).sort()).toEqual(['post']);
      for (const path of PATHS.slice(3)) expect(Object.keys(doc.paths[path])).toEqual(['post']);
      // The artifact routes carry no `:param` router syntax.
      for (const path of Object.keys(doc.paths)) expect(path).not.toContain(':');
    });

    test('GET /docs serves an HTML page', async () => {
      const reply = await get('/docs');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('text/html');
      expect(reply.text.toLowerCase()).toContain('<html');
      expect(reply.text).toContain('swagger-ui-bundle.js'); // Swagger UI, from this server (test/ui/docs-server.test.ts)
    });
  });
});
