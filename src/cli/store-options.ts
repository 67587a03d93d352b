/**
 * Which store a command works on: PostgreSQL when `--database-url` (or ARTIFACTD_DATABASE_URL,
 * or Prefect's PREFECT_*_DATABASE_CONNECTION_URL) names one, otherwise the LMDB store of
 * `--data-dir`, as `serve` chooses. The commands that read or change a store take these options.
 */
import { databaseSettings, type DatabaseFlags } from '../config.ts';
import type { Store } from '../store/contract.ts';
import { openStore } from '../store/open.ts';
import { redactDatabaseUrl } from '../store/postgres/url.ts';
import { UsageError, type OptionSpec } from './command.ts';
import { dataDir, dataDirOption, mapSizeOption, openLocalStore } from './data-dir.ts';

export const databaseUrlOption: OptionSpec = {
  type: 'string',
  value: 'URL',
  description: 'use this PostgreSQL database instead of --data-dir (env ARTIFACTD_DATABASE_URL or PREFECT_API_DATABASE_CONNECTION_URL)',
};

/** `--data-dir` and `--database-url`, described for `what`. */
export const storeOptions = (what: string): Record<string, OptionSpec> => ({
  'data-dir': dataDirOption(what),
  'map-size': mapSizeOption,
  'database-url': databaseUrlOption,
  'database-connect-timeout': { type: 'string', value: 'SECONDS', description: 'give up connecting to the database after this long (default 5)' },
});

/** The database settings the command's flags and the environment give; `databaseUrl` null: LMDB. */
export function databaseOf(values: Record<string, unknown>) {
  return databaseSettings(values as DatabaseFlags);
}

/**
 * Opens the store the options name. An LMDB data dir must already hold a store unless
 * `create` (import): a typo in `--data-dir` should not silently open an empty one.
 */
export async function openCommandStore(values: Record<string, unknown>, { create = false } = {}): Promise<Store> {
  const database = databaseOf(values);
  if (database.databaseUrl === null) return openLocalStore(values, { create });
  return openStore({ dataDir: dataDir(values), ...database });
}

/**
 * `backup` and `restore` copy LMDB's file; a PostgreSQL database is backed up with its own tools,
 * which copy it consistently while artifactd keeps writing. An explicit `--data-dir` wins over a
 * database URL from the environment.
 */
export function refuseDatabase(values: Record<string, unknown>, command: 'backup' | 'restore'): void {
  if (values['data-dir'] !== undefined && values['database-url'] === undefined) return;
  if (databaseOf(values).databaseUrl === null) return;
  const tool = command === 'backup' ? 'pg_dump --format=custom' : 'pg_restore';
  throw new UsageError(`${command} works on the LMDB data dir; for PostgreSQL use ${tool} (README: Scaling out → Backups)`);
}

/** Where the command's store is, for messages: the data dir, or the URL without its password. */
export function storePlace(values: Record<string, unknown>): string {
  const { databaseUrl } = databaseOf(values);
  return databaseUrl === null ? dataDir(values) : redactDatabaseUrl(databaseUrl);
}
