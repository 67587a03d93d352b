/**
 * The settings the commands read besides `serve`'s config: each from its flag, then its
 * environment variable (an empty one counts as unset), then the default.
 */
import { expect, test } from 'bun:test';
import { ConfigError, DEFAULTS, clientAuthSetting, columnsSetting, dataDirSetting, databaseSettings, databaseUrlSetting, loadConfig } from '../src/config.ts';
import { serveCommand } from '../src/cli/serve.ts';

test('the data dir: flag, then ARTIFACTD_DATA_DIR, then the default — the same for serve and every command', () => {
  expect(dataDirSetting('/flag', { ARTIFACTD_DATA_DIR: '/env' })).toBe('/flag');
  expect(dataDirSetting(undefined, { ARTIFACTD_DATA_DIR: '/env' })).toBe('/env');
  expect(dataDirSetting(undefined, { ARTIFACTD_DATA_DIR: '' })).toBe(DEFAULTS.dataDir);
  expect(dataDirSetting(undefined, {})).toBe(DEFAULTS.dataDir);
  expect(loadConfig({}, { ARTIFACTD_DATA_DIR: '/env' }).dataDir).toBe('/env');
});

test('the client auth string: flag, then PREFECT_API_AUTH_STRING (Prefect client setting)', () => {
  expect(clientAuthSetting('a:b', { PREFECT_API_AUTH_STRING: 'c:d' })).toBe('a:b');
  expect(clientAuthSetting(undefined, { PREFECT_API_AUTH_STRING: 'c:d' })).toBe('c:d');
  expect(clientAuthSetting(undefined, { PREFECT_API_AUTH_STRING: '' })).toBeUndefined();
});

test('COLUMNS counts only as a positive integer', () => {
  expect(columnsSetting({ COLUMNS: '120' })).toBe(120);
  for (const columns of ['', '0', '-3', '80.5', 'wide', undefined]) expect(columnsSetting({ COLUMNS: columns })).toBeUndefined();
});

test('the query thread hand-off: milliseconds or off, flag then ARTIFACTD_QUERY_THREAD_AFTER, default 20', () => {
  expect(loadConfig({}, {}).queryThreadAfterMs).toBe(20);
  expect(loadConfig({ 'query-thread-after': '0' }, { ARTIFACTD_QUERY_THREAD_AFTER: '50' }).queryThreadAfterMs).toBe(0);
  expect(loadConfig({}, { ARTIFACTD_QUERY_THREAD_AFTER: '50' }).queryThreadAfterMs).toBe(50);
  expect(loadConfig({}, { ARTIFACTD_QUERY_THREAD_AFTER: 'OFF' }).queryThreadAfterMs).toBeNull();
  for (const bad of ['-1', '2.5', 'soon']) expect(() => loadConfig({ 'query-thread-after': bad }, {})).toThrow(/query thread hand-off/);
});

test('the database URL: flag, then ARTIFACTD_DATABASE_URL, then Prefect’s PREFECT_SERVER_/PREFECT_API_DATABASE_CONNECTION_URL; none: LMDB', () => {
  const all = {
    ARTIFACTD_DATABASE_URL: 'postgres://a@h/a',
    PREFECT_SERVER_DATABASE_CONNECTION_URL: 'postgresql+asyncpg://s@h/s',
    PREFECT_API_DATABASE_CONNECTION_URL: 'postgresql://p@h/p',
  };
  expect(DEFAULTS.databaseUrl).toBeNull();
  expect(loadConfig({}, {}).databaseUrl).toBeNull();
  expect(loadConfig({ 'database-url': 'postgres://f@h/f' }, all).databaseUrl).toBe('postgres://f@h/f');
  expect(loadConfig({}, all).databaseUrl).toBe('postgres://a@h/a');
  expect(loadConfig({}, { ...all, ARTIFACTD_DATABASE_URL: '' }).databaseUrl).toBe('postgresql+asyncpg://s@h/s');
  expect(loadConfig({}, { PREFECT_API_DATABASE_CONNECTION_URL: 'postgresql://p@h/p' }).databaseUrl).toBe('postgresql://p@h/p');
  expect(databaseUrlSetting('  postgres://h/db  ', {})).toBe('postgres://h/db');
  expect(databaseUrlSetting(undefined, { ARTIFACTD_DATABASE_URL: '' })).toBeNull();
  // The URL is kept as given (the store parses it); printing goes through redactDatabaseUrl.
  expect(loadConfig({ 'database-url': 'postgres://u:s3cret@h/db?sslmode=require' }, {}).databaseUrl).toBe('postgres://u:s3cret@h/db?sslmode=require');
});

test('a SQLite URL is refused with one line: the embedded store is LMDB, --data-dir chooses where', () => {
  for (const env of [{ PREFECT_API_DATABASE_CONNECTION_URL: 'sqlite+aiosqlite:////root/.prefect/prefect.db' }, { PREFECT_SERVER_DATABASE_CONNECTION_URL: 'sqlite:///x.db' }]) {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(/^artifactd's embedded store is LMDB, not SQLite: .*--data-dir/);
  }
});

test('any other database URL is a ConfigError that never shows the password', () => {
  for (const url of ['mysql://root:hunter22@h/db', 'postgres://u:hunter22@h:0/db', 'postgres://u:hunter22@h/db?sslmode=sometimes', 'hunter22']) {
    let error: unknown;
    try {
      loadConfig({ 'database-url': url }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toStartWith('invalid database URL');
    expect((error as Error).message).not.toContain('hunter22');
  }
});

test('database timeouts: flags (seconds or ISO-8601), then Prefect’s settings in seconds; defaults 5 s and 10 s as Prefect’s', () => {
  expect(loadConfig({}, {})).toMatchObject({ databaseConnectTimeoutMs: 5000, databaseStatementTimeoutMs: 10_000 });
  expect(DEFAULTS).toMatchObject({ databaseConnectTimeoutMs: 5000, databaseStatementTimeoutMs: 10_000 });
  expect(loadConfig({ 'database-connect-timeout': '2.5', 'database-statement-timeout': 'PT1M' }, { PREFECT_API_DATABASE_CONNECTION_TIMEOUT: '9' })).toMatchObject({
    databaseConnectTimeoutMs: 2500,
    databaseStatementTimeoutMs: 60_000,
  });
  expect(loadConfig({}, { PREFECT_API_DATABASE_CONNECTION_TIMEOUT: '7.5', PREFECT_API_DATABASE_TIMEOUT: '0.25' })).toMatchObject({
    databaseConnectTimeoutMs: 7500,
    databaseStatementTimeoutMs: 250,
  });
  expect(
    loadConfig({}, { PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT: '3', PREFECT_API_DATABASE_CONNECTION_TIMEOUT: '7', PREFECT_SERVER_DATABASE_TIMEOUT: '4', PREFECT_API_DATABASE_TIMEOUT: '8' }),
  ).toMatchObject({ databaseConnectTimeoutMs: 3000, databaseStatementTimeoutMs: 4000 });
  expect(loadConfig({}, { ARTIFACTD_DATABASE_CONNECT_TIMEOUT: '1', ARTIFACTD_DATABASE_STATEMENT_TIMEOUT: '2', PREFECT_SERVER_DATABASE_TIMEOUT: '4' })).toMatchObject({
    databaseConnectTimeoutMs: 1000,
    databaseStatementTimeoutMs: 2000,
  });
  expect(loadConfig({ 'database-statement-timeout': '0' }, {}).databaseStatementTimeoutMs).toBe(0); // no limit
  expect(() => loadConfig({ 'database-connect-timeout': '0' }, {})).toThrow(/database connect timeout/);
  expect(() => loadConfig({ 'database-connect-timeout': 'soon' }, {})).toThrow(/invalid database connect timeout "soon"/);
  expect(() => loadConfig({ 'database-statement-timeout': '-1' }, {})).toThrow(/invalid database statement timeout "-1"/);
  // The commands that open a store read the same three settings.
  expect(databaseSettings({ 'database-url': 'postgres://h/db', 'database-connect-timeout': '1' }, {})).toEqual({
    databaseUrl: 'postgres://h/db',
    databaseConnectTimeoutMs: 1000,
    databaseStatementTimeoutMs: 10_000,
    databasePoolSize: 10,
  });
  expect(databaseSettings({ 'database-pool-size': '32' }, {}).databasePoolSize).toBe(32);
  expect(() => databaseSettings({ 'database-pool-size': '0' }, {})).toThrow(/invalid database pool size "0"/);
});

test('serve lists the database flags with their environment variables and defaults', () => {
  const options = serveCommand.options ?? {};
  for (const [flag, words] of [
    ['database-url', ['ARTIFACTD_DATABASE_URL', 'PREFECT_SERVER_DATABASE_CONNECTION_URL', 'PREFECT_API_DATABASE_CONNECTION_URL', '--data-dir']],
    ['database-connect-timeout', ['PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT', 'PREFECT_API_DATABASE_CONNECTION_TIMEOUT', 'default 5']],
    ['database-statement-timeout', ['PREFECT_SERVER_DATABASE_TIMEOUT', 'PREFECT_API_DATABASE_TIMEOUT', 'default 10']],
  ] as const) {
    const spec = options[flag];
    expect(spec?.type).toBe('string');
    for (const word of words) expect(spec?.description).toContain(word);
  }
});

test('event retention: 7 days by default as Prefect; flag, then ARTIFACTD_EVENT_RETENTION, then Prefect’s PREFECT_SERVER_/PREFECT_EVENTS_RETENTION_PERIOD', () => {
  const DAY = 86_400_000;
  expect(DEFAULTS.eventRetentionMs).toBe(7 * DAY);
  expect(loadConfig({}, {}).eventRetentionMs).toBe(7 * DAY);
  const all = { ARTIFACTD_EVENT_RETENTION: '2d', PREFECT_SERVER_EVENTS_RETENTION_PERIOD: '3600', PREFECT_EVENTS_RETENTION_PERIOD: 'P30D' };
  expect(loadConfig({ 'event-retention': '12h' }, all).eventRetentionMs).toBe(12 * 3_600_000);
  expect(loadConfig({}, all).eventRetentionMs).toBe(2 * DAY);
  expect(loadConfig({}, { ...all, ARTIFACTD_EVENT_RETENTION: '' }).eventRetentionMs).toBe(3_600_000); // seconds, as Prefect reads a number
  expect(loadConfig({}, { PREFECT_EVENTS_RETENTION_PERIOD: 'P30D' }).eventRetentionMs).toBe(30 * DAY); // ISO-8601
  expect(loadConfig({}, { PREFECT_EVENTS_RETENTION_PERIOD: 'PT1H30M' }).eventRetentionMs).toBe(5_400_000);
  for (const off of ['off', 'OFF', 'never', '0']) expect(loadConfig({ 'event-retention': off }, {}).eventRetentionMs).toBeNull();
  for (const bad of ['soon', '-1', '7 days', '0.5', 'P']) expect(() => loadConfig({ 'event-retention': bad }, {})).toThrow(ConfigError);
  expect(() => loadConfig({ 'event-retention': 'soon' }, {})).toThrow(/event retention/);
});

test('log retention: off by default (Prefect keeps logs); flag, then ARTIFACTD_LOG_RETENTION', () => {
  expect(DEFAULTS.logRetentionMs).toBeNull();
  expect(loadConfig({}, {}).logRetentionMs).toBeNull();
  expect(loadConfig({}, { ARTIFACTD_LOG_RETENTION: '90d' }).logRetentionMs).toBe(90 * 86_400_000);
  expect(loadConfig({ 'log-retention': 'off' }, { ARTIFACTD_LOG_RETENTION: '90d' }).logRetentionMs).toBeNull();
  expect(() => loadConfig({ 'log-retention': 'forever' }, {})).toThrow(/log retention/);
});

test('serve lists the retention flags with their environment variables and defaults', () => {
  const options = serveCommand.options ?? {};
  for (const [flag, words] of [
    ['event-retention', ['ARTIFACTD_EVENT_RETENTION', 'PREFECT_SERVER_EVENTS_RETENTION_PERIOD', 'PREFECT_EVENTS_RETENTION_PERIOD', 'default 7d', 'off']],
    ['log-retention', ['ARTIFACTD_LOG_RETENTION', 'default off']],
  ] as const) {
    const spec = options[flag];
    expect(spec?.type).toBe('string');
    for (const word of words) expect(spec?.description).toContain(word);
  }
});

test('the default body size takes the log batches Prefect clients send (PREFECT_LOGGING_TO_API_BATCH_SIZE: 3,000,000 bytes)', () => {
  expect(DEFAULTS.maxBodyBytes).toBeGreaterThanOrEqual(3_000_000);
});
