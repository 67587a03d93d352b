/**
 * The app logs every answer once — routed ones and the wrapper's own (401, CSRF 403, preflight,
 * the encoded-newline 404) — and a 500 as an error line with the request and the reason.
 */
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { createApp } from '../../src/app.ts';
import { DEFAULTS } from '../../src/config.ts';
import { createLogger, type LogOutput } from '../../src/observe/log.ts';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir();
const store = Store.open(dir);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function appWithLog(overrides = {}) {
  const lines = { out: '', err: '' };
  const output: LogOutput = { out: (t) => void (lines.out += t), err: (t) => void (lines.err += t), drain: async () => {} };
  const logger = createLogger({ level: 'info', format: 'json' }, output);
  const app = createApp(store, { ...DEFAULTS, dataDir: dir, ...overrides }, logger);
  const send = (method: string, path: string, headers: Record<string, string> = {}) =>
    app.handle(new Request(`http://127.0.0.1${path}`, { method, headers }));
  const logged = async () => {
    await logger.flush();
    return lines.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  };
  return { send, logged, lines };
}

test("the wrapper's own answers are logged like routed ones", async () => {
  const { send, logged } = appWithLog({ authString: 'a:b', csrf: { enabled: true, tokenExpirationSeconds: 60 } });
  expect((await send('GET', '/api/health')).status).toBe(200);
  expect((await send('POST', '/api/artifacts/count', { authorization: `Basic ${btoa('a:b')}` })).status).toBe(403);
  expect((await send('GET', '/api/artifacts/count')).status).toBe(401);
  expect((await send('OPTIONS', '/api/artifacts/filter', { origin: 'http://x', 'access-control-request-method': 'POST' })).status).toBe(200);
  expect((await send('GET', '/api/artifacts/report%0a/latest')).status).toBe(404);
  expect((await logged()).map((l) => `${l.method} ${l.path} ${l.status}`)).toEqual([
    'GET /api/health 200',
    'POST /api/artifacts/count 403',
    'GET /api/artifacts/count 401',
    'OPTIONS /api/artifacts/filter 200',
    'GET /api/artifacts/report%0a/latest 404',
  ]);
});

test('a 500 is one request line plus an error line with the request and the reason', async () => {
  const { send, logged, lines } = appWithLog();
  const original = store.artifacts.getJson;
  store.artifacts.getJson = () => {
    throw new Error('disk on fire');
  };
  try {
    expect((await send('GET', '/api/artifacts/00000000-0000-4000-8000-000000000001')).status).toBe(500);
  } finally {
    store.artifacts.getJson = original;
  }
  expect((await logged()).map((l) => l.status)).toEqual([500]);
  const error = JSON.parse(lines.err);
  expect(error).toMatchObject({ level: 'error', message: 'GET /api/artifacts/00000000-0000-4000-8000-000000000001 failed: Error: disk on fire' });
  expect(error.stack).toContain('disk on fire');
});
