/**
 * Opens the store the configuration names: PostgreSQL when a database URL is given (migrated to
 * this build's schema first), otherwise the embedded LMDB store in the data dir. The one place
 * above the backends that knows both.
 */
import type { Store } from './contract.ts';
import { LmdbStore } from './lmdb/store.ts';
import { PostgresStore } from './postgres/store.ts';

export interface StoreSettings {
  dataDir: string;
  /** A PostgreSQL URL; null: the embedded LMDB store at `dataDir`. */
  databaseUrl: string | null;
  databaseConnectTimeoutMs?: number;
  databaseStatementTimeoutMs?: number;
  databasePoolSize?: number;
  /** LMDB: how long a log or event query may run (default 10 s); PostgreSQL's statement timeout covers its own. */
  queryTimeoutMs?: number;
  /** LMDB: the map in bytes (`--map-size`); default 64 GiB. */
  mapSize?: number;
}

export async function openStore(settings: StoreSettings): Promise<Store> {
  if (settings.databaseUrl === null) return LmdbStore.open(settings.dataDir, { queryTimeoutMs: settings.queryTimeoutMs, mapSize: settings.mapSize });
  return PostgresStore.open(settings.databaseUrl, {
    connectTimeoutMs: settings.databaseConnectTimeoutMs,
    statementTimeoutMs: settings.databaseStatementTimeoutMs,
    max: settings.databasePoolSize,
  });
}
