/**
 * `--map-size` (store/lmdb/map-size.ts): the setting, the address-space check, and what lmdb-js
 * does with a map smaller than the store (uses the file's size) or than what a write needs (grows).
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../../src/app.ts';
import { ConfigError, DEFAULTS, loadConfig, mapSizeSetting } from '../../../src/config.ts';
import { warningsLogger } from '../../../src/observe/log.ts';
import { QueryRunner } from '../../../src/store/lmdb/query/query-thread.ts';
import { LmdbStore } from '../../../src/store/lmdb/store.ts';
import {
  addressSpaceProblem,
  currentAddressSpace,
  DEFAULT_MAP_SIZE,
  GIB,
  largestFittingMap,
  MIB,
  parseAddressSpaceLimit,
  parseAddressSpaceUse,
  SPARE,
} from '../../../src/store/lmdb/map-size.ts';
import { tempDir } from '../../helpers.ts';

const LIMITS = (soft: string, hard = soft) =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max stack size            8388608              unlimited            bytes     ',
    `Max address space         ${soft.padEnd(20)} ${hard.padEnd(20)} bytes     `,
    'Max file locks            unlimited            unlimited            locks     ',
  ].join('\n');

describe('the --map-size setting', () => {
  test('defaults to 64 GiB, unchanged', () => {
    expect(DEFAULTS.mapSize).toBe(64 * GIB);
    expect(mapSizeSetting(undefined, {})).toBe(64 * GIB);
    expect(loadConfig({}, {}).mapSize).toBe(64 * GIB);
  });

  test('takes units and plain bytes, from the flag before ARTIFACTD_MAP_SIZE', () => {
    expect(mapSizeSetting('16GiB', {})).toBe(16 * GIB);
    expect(mapSizeSetting('512MiB', {})).toBe(512 * MIB);
    expect(mapSizeSetting('512m', {})).toBe(512 * MIB);
    expect(mapSizeSetting('1TiB', {})).toBe(1024 * GIB);
    expect(mapSizeSetting(String(128 * MIB), {})).toBe(128 * MIB);
    expect(mapSizeSetting(undefined, { ARTIFACTD_MAP_SIZE: '2GiB' })).toBe(2 * GIB);
    expect(mapSizeSetting('4GiB', { ARTIFACTD_MAP_SIZE: '2GiB' })).toBe(4 * GIB);
    expect(mapSizeSetting(undefined, { ARTIFACTD_MAP_SIZE: '' })).toBe(DEFAULT_MAP_SIZE);
    expect(loadConfig({ 'map-size': '8GiB' }, {}).mapSize).toBe(8 * GIB);
  });

  test('refuses a bad size and one below 64 MiB, in one line', () => {
    for (const bad of ['lots', '12XB', '0', '-1GiB', '1.5GiB', '']) {
      expect(() => mapSizeSetting(bad, {})).toThrow(ConfigError);
    }
    expect(() => mapSizeSetting('lots', {})).toThrow('invalid map size "lots": expected a size such as 64GiB, 16GiB or 512MiB');
    expect(() => mapSizeSetting('63MiB', {})).toThrow('invalid map size "63MiB": expected at least 64MiB');
    expect(() => mapSizeSetting(undefined, { ARTIFACTD_MAP_SIZE: '1k' })).toThrow('expected at least 64MiB');
    expect(mapSizeSetting('64MiB', {})).toBe(64 * MIB);
  });
});

describe('the address-space check', () => {
  test('reads the soft limit and VmSize from /proc', () => {
    expect(parseAddressSpaceLimit(LIMITS('unlimited'))).toBeNull();
    expect(parseAddressSpaceLimit(LIMITS('8589934592', 'unlimited'))).toBe(8 * GIB);
    expect(parseAddressSpaceLimit('no such line')).toBeNull();
    expect(parseAddressSpaceUse('Name:\tbun\nVmPeak:\t 6567904 kB\nVmSize:\t 4194304 kB\n')).toBe(4 * GIB);
    const read = (limits: string, status = 'VmSize:\t 1048576 kB') => (name: 'limits' | 'status') => (name === 'limits' ? limits : status);
    expect(currentAddressSpace(read(LIMITS('unlimited')))).toBeNull();
    expect(currentAddressSpace(read(LIMITS('8589934592')))).toEqual({ limit: 8 * GIB, used: GIB });
    expect(
      currentAddressSpace(() => {
        throw new Error('ENOENT: /proc/self/limits');
      }),
    ).toBeNull();
  });

  test('passes a map that fits beside what is used, with a spare GiB', () => {
    expect(addressSpaceProblem(64 * GIB, null)).toBeNull();
    expect(addressSpaceProblem(2 * GIB, { limit: 8 * GIB, used: 5 * GIB })).toBeNull();
    expect(addressSpaceProblem(2 * GIB + 1, { limit: 8 * GIB, used: 5 * GIB })).not.toBeNull();
    expect(SPARE).toBe(GIB);
  });

  test('names the limit, the map and the fix', () => {
    expect(addressSpaceProblem(64 * GIB, { limit: 8 * GIB, used: 4.3 * GIB })).toBe(
      'the address space is limited to 8 GiB (ulimit -v 8388608), of which the runtime uses 4.3 GiB: no room for the 64 GiB LMDB map and 1 GiB to spare; ' +
        'run with ulimit -v unlimited, or give a smaller map that fits, e.g. --map-size 2GiB (env ARTIFACTD_MAP_SIZE)',
    );
    expect(addressSpaceProblem(64 * GIB, { limit: 3 * GIB, used: 1.4 * GIB })).toContain('e.g. --map-size 576MiB');
    expect(addressSpaceProblem(64 * MIB, { limit: 2 * GIB, used: 1.9 * GIB })).toContain('raise the limit by at least');
    expect(largestFittingMap(63 * MIB)).toBeNull();
    expect(largestFittingMap(1.9 * GIB)).toBe(GIB);
  });
});

describe('a store opened with a smaller map', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const post = (app: ReturnType<typeof createApp>, body: unknown) =>
    app.handle(new Request('http://x/api/artifacts/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  test('grows the map as writes need (64 MiB map, 150 MiB of artifacts), then reopens with a smaller map and reads everything', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = LmdbStore.open(dir, { mapSize: 64 * MIB });
    expect(store.mapSize).toBe(64 * MIB);
    const app = createApp(store, { ...DEFAULTS, mapSize: 64 * MIB }, warningsLogger('text'));
    const payload = 'x'.repeat(MIB);
    for (let i = 0; i < 150; i++) {
      const reply = await post(app, { key: `k-${i % 5}`, type: 'markdown', data: `${payload}${i}` });
      expect(reply.status).toBe(201);
    }
    // lmdb-js's LMDB grows a full map itself (doubling what the write needs): no MDB_MAP_FULL.
    expect((store.dbs.env.getStats() as { mapSize: number }).mapSize).toBeGreaterThan(150 * MIB);
    await app.close();
    await store.close();
    const fileSize = statSync(join(dir, 'data.mdb')).size;
    expect(fileSize).toBeGreaterThan(150 * MIB);

    // The file is larger than the map asked for: LMDB maps the file's size instead.
    const reopened = LmdbStore.open(dir, { mapSize: 64 * MIB });
    try {
      expect((reopened.dbs.env.getStats() as { mapSize: number }).mapSize).toBeGreaterThanOrEqual(fileSize);
      expect(reopened.counts().artifacts).toBe(150);
      const seen = new Set<string>();
      for (const { value } of reopened.dbs.artifactJson.getRange({})) {
        const artifact = JSON.parse(value) as { data: string };
        expect(artifact.data.startsWith(payload)).toBe(true);
        seen.add(artifact.data.slice(payload.length));
      }
      expect(seen.size).toBe(150);
      expect(await reopened.check()).toEqual([]);
    } finally {
      await reopened.close();
    }
  }, 60_000);

  test('the query thread attaches with the store’s map', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = LmdbStore.open(dir, { mapSize: 128 * MIB });
    const app = createApp(store, { ...DEFAULTS, mapSize: 128 * MIB }, warningsLogger('text'));
    for (let i = 0; i < 20; i++) expect((await post(app, { key: `k-${i}`, type: 'link', data: 'x' })).status).toBe(201);
    const runner = new QueryRunner(store, dir, { timeoutMs: 10_000, handOffMs: 0 });
    try {
      expect(await runner.onThread({ route: 'count', values: {}, limit: 0 } as never, 10_000)).toBe(20);
    } finally {
      await runner.close();
      await app.close();
      await store.close();
    }
  });
});
