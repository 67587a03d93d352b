/**
 * The settings the commands read besides `serve`'s config: each from its flag, then its
 * environment variable (an empty one counts as unset), then the default.
 */
import { expect, test } from 'bun:test';
import { DEFAULTS, clientAuthSetting, columnsSetting, dataDirSetting, loadConfig } from '../src/config.ts';

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
