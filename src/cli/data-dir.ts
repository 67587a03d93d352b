/**
 * The data dir of the commands that work on a store directly (not through a server): the flag,
 * then ARTIFACTD_DATA_DIR, then the default, as `serve` reads it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, dataDirSetting } from '../config.ts';
import { LmdbStore as Store } from '../store/lmdb/store.ts';
import { UsageError, type OptionSpec } from './command.ts';

export const dataDirOption = (what: string): OptionSpec => ({
  type: 'string',
  value: 'DIR',
  description: `${what} (env ARTIFACTD_DATA_DIR, default ${DEFAULTS.dataDir})`,
});

export function dataDir(values: Record<string, unknown>): string {
  return dataDirSetting(values['data-dir'] as string | undefined);
}

/** Refuses a directory without a store (exit 2), rather than creating an empty one. */
export function existingStoreDir(values: Record<string, unknown>): string {
  const dir = dataDir(values);
  if (!existsSync(join(dir, 'data.mdb'))) throw new UsageError(`no store in ${dir}`);
  return dir;
}

/** The store of `--data-dir` (or ARTIFACTD_DATA_DIR); a usage error when none is there. */
export function openLocalStore(values: Record<string, unknown>): Store {
  return Store.open(existingStoreDir(values));
}
