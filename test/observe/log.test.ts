/** The request log: line shapes, level filtering, buffering and order. */
import { expect, test } from 'bun:test';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { createLogger, parseLogLevel, type LogOutput } from '../../src/observe/log.ts';

function capture() {
  const lines = { out: '', err: '' };
  const output: LogOutput = {
    out: (text) => void (lines.out += text),
    err: (text) => void (lines.err += text),
    drain: async () => {},
  };
  return { lines, output };
}

test('text request lines: time, level, method, path, status, duration in ms', async () => {
  const { lines, output } = capture();
  const log = createLogger({ level: 'info', format: 'text' }, output);
  log.request('GET', '/api/artifacts/filter', 200, 1.2345);
  await log.flush();
  expect(lines.out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  GET \/api\/artifacts\/filter 200 1\.23ms\n$/);
});

test('json request lines carry the same facts as fields', async () => {
  const { lines, output } = capture();
  const log = createLogger({ level: 'info', format: 'json' }, output);
  log.request('POST', '/api/artifacts/"odd"', 201, 12.3456);
  log.info('hello', { port: 4200 });
  await log.flush();
  const [request, info] = lines.out.trim().split('\n').map((l) => JSON.parse(l));
  expect(request).toEqual({ time: expect.stringMatching(/Z$/), level: 'info', method: 'POST', path: '/api/artifacts/"odd"', status: 201, duration_ms: 12.35 });
  expect(info).toEqual({ time: expect.any(String), level: 'info', message: 'hello', port: 4200 });
});

test('request lines are buffered until flushed, and kept in order before other lines', async () => {
  const { lines, output } = capture();
  const log = createLogger({ level: 'info', format: 'text' }, output);
  log.request('GET', '/a', 200, 1);
  log.request('GET', '/b', 404, 1);
  expect(lines.out).toBe(''); // nothing written per request
  log.info('after the requests');
  const messages = lines.out.trim().split('\n').map((l) => l.replace(/^\S+ INFO {2}/, ''));
  expect(messages).toEqual(['GET /a 200 1.00ms', 'GET /b 404 1.00ms', 'after the requests']);
});

test('pending request lines are written within the flush interval without an explicit flush', async () => {
  const { lines, output } = capture();
  const log = createLogger({ level: 'info', format: 'text' }, output);
  log.request('GET', '/later', 200, 1);
  // The flush timer (50 ms) fires by itself; a busy machine may run it late, so wait up to 10 s.
  for (let waited = 0; !lines.out.includes('GET /later') && waited < 10_000; waited += 10) await Bun.sleep(10);
  expect(lines.out).toContain('GET /later 200');
});

test('a large burst is written in a few large writes, not one per request', async () => {
  let writes = 0;
  const log = createLogger({ level: 'info', format: 'text' }, { out: () => void writes++, err() {}, drain: async () => {} });
  for (let i = 0; i < 10_000; i++) log.request('GET', `/api/artifacts/${i}`, 200, 0.5);
  await log.flush();
  expect(writes).toBeGreaterThan(0);
  expect(writes).toBeLessThan(20);
});

test('--log-level warning drops request and info lines; warnings and errors go to stderr', async () => {
  const { lines, output } = capture();
  const log = createLogger({ level: 'warning', format: 'text' }, output);
  expect(log.logsRequests).toBe(false);
  log.request('GET', '/x', 200, 1);
  log.info('not shown');
  log.debug('not shown');
  log.warning('careful');
  log.error('GET /x failed', { error: 'Error: boom\n    at here', cors: { origins: ['*'] }, absent: undefined });
  log.announce('always shown');
  await log.flush();
  expect(lines.out).not.toContain('/x');
  expect(lines.out).not.toContain('not shown');
  expect(lines.out).toContain('INFO  always shown');
  expect(lines.err).toContain('WARN  careful');
  expect(lines.err).toContain('ERROR GET /x failed\n  error: Error: boom\n      at here\n  cors: {"origins":["*"]}\n');
});

test('debug shows everything; error shows only errors', async () => {
  for (const [level, shown] of [['debug', ['d', 'i', 'w', 'e']], ['error', ['e']]] as const) {
    const { lines, output } = capture();
    const log = createLogger({ level, format: 'json' }, output);
    log.debug('d');
    log.info('i');
    log.warning('w');
    log.error('e');
    await log.flush();
    const messages = (lines.out + lines.err).trim().split('\n').map((l) => JSON.parse(l).message);
    expect(messages.sort()).toEqual([...shown].sort());
  }
});

test('a path with control characters is quoted in text lines', async () => {
  const { lines, output } = capture();
  const log = createLogger({ level: 'info', format: 'text' }, output);
  log.request('GET', '/a\nINFO forged', 404, 1);
  await log.flush();
  expect(lines.out.trim().split('\n')).toHaveLength(1);
  expect(lines.out).toContain('GET "/a\\nINFO forged" 404');
});

test('level names as Prefect takes them', () => {
  expect(parseLogLevel('WARNING')).toBe('warning');
  expect(parseLogLevel('warn')).toBe('warning');
  expect(parseLogLevel('Critical')).toBe('error');
  expect(parseLogLevel(' debug ')).toBe('debug');
  expect(parseLogLevel('verbose')).toBeUndefined();
});

test('config: flags over Prefect env names over defaults; bad values are clear errors', () => {
  expect(loadConfig({}, {}).log).toEqual({ level: 'info', format: 'text' });
  expect(loadConfig({}, {}).metrics).toBe(false);
  expect(loadConfig({}, { PREFECT_LOGGING_SERVER_LEVEL: 'WARNING', ARTIFACTD_LOG_FORMAT: 'json' }).log).toEqual({ level: 'warning', format: 'json' });
  expect(loadConfig({}, { PREFECT_SERVER_LOGGING_LEVEL: 'error', PREFECT_LOGGING_SERVER_LEVEL: 'debug' }).log.level).toBe('error');
  expect(loadConfig({ 'log-level': 'debug' }, { PREFECT_SERVER_LOGGING_LEVEL: 'error' }).log.level).toBe('debug');
  expect(loadConfig({}, { PREFECT_API_ENABLE_METRICS: 'true' }).metrics).toBe(true);
  expect(loadConfig({}, { PREFECT_SERVER_METRICS_ENABLED: '1' }).metrics).toBe(true);
  expect(loadConfig({ metrics: true }, {}).metrics).toBe(true);
  expect(() => loadConfig({ 'log-level': 'loud' }, {})).toThrow(ConfigError);
  expect(() => loadConfig({ 'log-format': 'xml' }, {})).toThrow('invalid log format "xml"');
  expect(() => loadConfig({}, { PREFECT_API_ENABLE_METRICS: 'maybe' })).toThrow(ConfigError);
});
