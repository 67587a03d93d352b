/**
 * The data dir of the commands that work on a store directly (not through a server): the flag,
 * then ARTIFACTD_DATA_DIR, then the default, as `serve` reads it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, dataDirSetting, mapSizeSetting } from '../config.ts';
import { formatSize } from '../store/lmdb/map-size.ts';
import { LmdbStore as Store } from '../store/lmdb/store.ts';
import { UsageError, type OptionSpec } from './command.ts';

export const dataDirOption = (what: string): OptionSpec => ({
  type: 'string',
  value: 'DIR',
  description: `${what} (env ARTIFACTD_DATA_DIR, default ${DEFAULTS.dataDir})`,
});

/** `--map-size`: every command that opens an LMDB store takes it beside `--data-dir`. */
export const mapSizeOption: OptionSpec = {
  type: 'string',
  value: 'SIZE',
  description: `the LMDB map: address space reserved for the store, e.g. 16GiB or 512MiB, at least 64MiB (env ARTIFACTD_MAP_SIZE, default ${formatSize(DEFAULTS.mapSize).replace(' ', '')})`,
};

/** The LMDB map in bytes: the flag, then ARTIFACTD_MAP_SIZE, then 64 GiB (a ConfigError when bad). */
export function mapSize(values: Record<string, unknown>): number {
  return mapSizeSetting(values['map-size'] as string | undefined);
}

export function dataDir(values: Record<string, unknown>): string {
  return dataDirSetting(values['data-dir'] as string | undefined);
}

/** Refuses a directory without a store (exit 2), rather than creating an empty one. */
export function existingStoreDir(values: Record<string, unknown>): string {
  const dir = dataDir(values);
  if (!existsSync(join(dir, 'data.mdb'))) throw new UsageError(`no store in ${dir}`);
  return dir;
}

/**
 * The LMDB store of `--data-dir` (or ARTIFACTD_DATA_DIR) with its `--map-size`; a usage error
 * when none is there, unless `create`.
 */
export function openLocalStore(values: Record<string, unknown>, { create = false } = {}): Store {
  const map = mapSize(values); // a bad --map-size before a missing store
  return Store.open(create ? dataDir(values) : existingStoreDir(values), { mapSize: map });
}
