/** Basic auth, CSRF and CORS, configured as Prefect's settings configure them. */
import { afterEach, describe, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';
import { describeBackends } from '../backends.ts';

describeBackends('basic auth, CSRF and CORS', (backend) => {
  let h: Harness;
  afterEach(() => h.close());

  const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });

  describe('basic auth (PREFECT_SERVER_API_AUTH_STRING)', () => {
    test('every route needs the credentials; health and readiness do not', async () => {
      h = await harness({ authString: 'admin:s3cret' }, backend);
      for (const [method, path, body] of [
        ['POST', '/api/artifacts/', {}],
        ['POST', '/api/artifacts/filter', {}],
        ['GET', '/api/artifacts/6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12', undefined],
        ['GET', '/api/version', undefined],
        ['POST', '/api/flows/', { name: 'f' }],
        ['GET', '/docs/json', undefined],
      ] as const) {
        const reply = await h.call(method, path, body);
        expect(reply.status, `${method} ${path}`).toBe(401);
        expect(reply.body).toEqual({ exception_message: 'Unauthorized' });
      }
      expect((await h.call('GET', '/api/health')).body).toBe(true);
      expect((await h.call('GET', '/api/ready')).body).toEqual({ message: 'OK' });
      expect((await h.call('POST', '/api/health')).status).toBe(401); // only GET is open
      expect((await h.store.counts()).artifacts).toBe(0);
    });

    test('the right credentials pass; wrong, malformed or other schemes do not', async () => {
      h = await harness({ authString: 'admin:s3cret' }, backend);
      expect((await h.call('POST', '/api/artifacts/', { key: 'k' }, basic('admin:s3cret'))).status).toBe(201);
      for (const headers of [
        basic('admin:wrong'),
        basic('admin:s3cret '),
        basic('admin'),
        { authorization: 'Bearer admin:s3cret' },
        { authorization: 'Basic !!!not-base64' },
        { authorization: 'Basic' },
        { authorization: `basic ${Buffer.from('admin:s3cret').toString('base64')}` },
      ]) {
        expect((await h.call('GET', '/api/version', undefined, headers)).status, JSON.stringify(headers)).toBe(401);
      }
    });

    test('a password with a colon works', async () => {
      h = await harness({ authString: 'user:pa:ss' }, backend);
      expect((await h.call('GET', '/api/version', undefined, basic('user:pa:ss'))).body).toBe('0.8.4');
    });
  });

  describe('CSRF protection (PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED)', () => {
    const client = 'b5d1a5a0-6c7f-4c55-9f0c-5a5b2f7d9e11';

    test('off by default: the token route says so and writes need no token', async () => {
      h = await harness({}, backend);
      expect((await h.call('GET', `/api/csrf-token?client=${client}`)).body).toEqual({ detail: 'CSRF protection is disabled.' });
      expect((await h.call('POST', '/api/artifacts/', {})).status).toBe(201);
    });

    test('on: writes need a valid token for their client; reads do not', async () => {
      h = await harness({ csrf: { enabled: true, tokenExpirationSeconds: 3600 } }, backend);
      expect((await h.call('POST', '/api/artifacts/', {})).body).toEqual({ detail: 'Missing CSRF token.' });
      expect((await h.call('POST', '/api/artifacts/', {}, { 'prefect-csrf-token': 'x' })).body).toEqual({
        detail: 'Missing client identifier.',
      });
      const issued = await h.call('GET', `/api/csrf-token?client=${client}`);
      expect(issued.status).toBe(200);
      expect(Object.keys(issued.body)).toEqual(['id', 'created', 'updated', 'token', 'client', 'expiration']);
      expect(issued.body.client).toBe(client);
      expect(issued.body.token).toMatch(/^[0-9a-f]{64}$/);
      const headers = { 'prefect-csrf-token': issued.body.token, 'prefect-csrf-client': client };
      expect((await h.call('POST', '/api/artifacts/', {}, headers)).status).toBe(201);
      const wrong = await h.call('POST', '/api/artifacts/', {}, { ...headers, 'prefect-csrf-token': 'f'.repeat(64) });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual({ detail: 'Invalid CSRF token or client identifier.' });
      const otherClient = await h.call('DELETE', `/api/artifacts/${client}`, undefined, { ...headers, 'prefect-csrf-client': 'other' });
      expect(otherClient.status).toBe(403);
      expect((await h.call('POST', '/api/artifacts/filter', {})).status).toBe(403); // POST, even when it reads
      expect((await h.call('GET', '/api/health')).status).toBe(200);
      // A new token replaces the old one.
      const again = await h.call('GET', `/api/csrf-token?client=${client}`);
      expect(again.body.token).not.toBe(issued.body.token);
      expect((await h.call('POST', '/api/artifacts/', {}, headers)).status).toBe(403);
    });

    test('expired tokens are refused', async () => {
      h = await harness({ csrf: { enabled: true, tokenExpirationSeconds: 0.05 } }, backend);
      const issued = await h.call('GET', `/api/csrf-token?client=${client}`);
      await Bun.sleep(80);
      const reply = await h.call('POST', '/api/artifacts/', {}, { 'prefect-csrf-token': issued.body.token, 'prefect-csrf-client': client });
      expect(reply.status).toBe(403);
    });
  });

  describe('CORS (PREFECT_SERVER_API_CORS_ALLOWED_*)', () => {
    test('allow-all by default', async () => {
      h = await harness({}, backend);
      const reply = await h.call('GET', '/api/health', undefined, { origin: 'https://ui.example' });
      expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    });

    test('a configured origin list is enforced on responses and preflights', async () => {
      h = await harness({ cors: { origins: ['https://ui.example'], methods: ['GET', 'POST'], headers: ['content-type'] } }, backend);
      const ok = await h.call('GET', '/api/health', undefined, { origin: 'https://ui.example' });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://ui.example');
      const other = await h.call('GET', '/api/health', undefined, { origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = (origin: string, method: string, headers = 'content-type') =>
        h.app.handle(
          new Request('http://127.0.0.1/api/artifacts/filter', {
            method: 'OPTIONS',
            headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
          }),
        );
      const good = await preflight('https://ui.example', 'POST');
      expect(good.status).toBe(200);
      expect(good.headers.get('access-control-allow-origin')).toBe('https://ui.example');
      expect(good.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect((await preflight('https://evil.example', 'POST')).status).toBe(400);
      expect((await preflight('https://ui.example', 'DELETE')).status).toBe(400);
      expect((await preflight('https://ui.example', 'POST', 'x-secret')).status).toBe(400);
    });
  });
});
