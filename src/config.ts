/**
 * The server's configuration: one typed object built at start from flags, then environment
 * variables (Prefect's names where Prefect has one, old and new spellings), then defaults.
 * Nothing else reads `process.env`: the commands get their few settings from here too.
 */
import { parseLogLevel, type LogFormat, type LogLevel, type LogSettings } from './observe/log.ts';

import { parseDuration } from './duration.ts';
import { DatabaseUrlError, parseDatabaseUrl } from './store/postgres/url.ts';
import { DEFAULT_MAP_SIZE, formatSize, MIN_MAP_SIZE } from './store/lmdb/map-size.ts';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** The LMDB map in bytes (address space, not memory; store/lmdb/map-size.ts). */
  mapSize: number;
  /**
   * The PostgreSQL database to store in (`postgresql+asyncpg://…`, `postgresql://…` or
   * `postgres://…`, store/postgres/url.ts); null: the embedded LMDB store at `dataDir`. Holds the
   * password as given: print it only through `redactDatabaseUrl`.
   */
  databaseUrl: string | null;
  /** How long connecting to the database may take (Prefect's database connection timeout). */
  databaseConnectTimeoutMs: number;
  /** Each statement's timeout on the database, answered 503 past it (Prefect's database timeout); 0: none. */
  databaseStatementTimeoutMs: number;
  /** Connections each instance's pool may open to the database. */
  databasePoolSize: number;
  /** Default and maximum `limit` of the filter routes (Prefect's PREFECT_API_DEFAULT_LIMIT). */
  defaultLimit: number;
  /** `user:pass` for HTTP Basic auth on every route but health and readiness; off when null. */
  authString: string | null;
  csrf: { enabled: boolean; tokenExpirationSeconds: number };
  cors: { origins: string[]; methods: string[]; headers: string[] };
  /** Largest accepted request body, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Deepest accepted nesting of arrays and objects in a JSON body. */
  maxJsonDepth: number;
  /** Serve HTTPS with this certificate and key (PEM files); plain HTTP when null. */
  tls: { certFile: string; keyFile: string } | null;
  /** Prune artifact versions older than this many ms (keeping each key's latest); off when null. */
  retentionMs: number | null;
  /**
   * Delete events that occurred longer ago than this many ms (Prefect's events retention period,
   * 7 days by default); kept forever when null.
   */
  eventRetentionMs: number | null;
  /** Delete log lines logged longer ago than this many ms; kept forever when null (Prefect 3.0.0 never deletes logs). */
  logRetentionMs: number | null;
  /**
   * How long one query may run before it is stopped and answered 503, as a statement that
   * outruns Prefect's database timeout is (query/slices.ts).
   */
  queryTimeoutMs: number;
  /**
   * How long a query runs in slices on the server's thread before it moves to the query thread
   * (query/query-thread.ts); null: never, every query runs in slices to its end.
   */
  queryThreadAfterMs: number | null;
  /** gzip replies of 500 bytes or more for clients that accept it, as Prefect does (http/compress.ts). */
  gzip: boolean;
  /** Serve Prometheus metrics at `/api/metrics` and `/metrics` (Prefect's PREFECT_API_ENABLE_METRICS). */
  metrics: boolean;
  /** Log lines: the lowest level written, and text or JSON (request lines are at `info`). */
  log: LogSettings;
}

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 4200,
  dataDir: './artifactd-data',
  mapSize: DEFAULT_MAP_SIZE,
  databaseUrl: null,
  databaseConnectTimeoutMs: 5_000,
  databaseStatementTimeoutMs: 10_000,
  databasePoolSize: 10,
  defaultLimit: 200,
  authString: null,
  csrf: { enabled: false, tokenExpirationSeconds: 3600 },
  cors: { origins: ['*'], methods: ['*'], headers: ['*'] },
  maxBodyBytes: 16 * 1024 * 1024,
  maxJsonDepth: 256,
  tls: null,
  retentionMs: null,
  eventRetentionMs: 7 * 86_400_000,
  logRetentionMs: null,
  queryTimeoutMs: 10_000,
  queryThreadAfterMs: 20,
  gzip: true,
  metrics: false,
  log: { level: 'info', format: 'text' },
};

export class ConfigError extends Error {}

export interface ConfigFlags {
  host?: string;
  port?: string;
  'data-dir'?: string;
  'map-size'?: string;
  'database-url'?: string;
  'database-connect-timeout'?: string;
  'database-statement-timeout'?: string;
  'default-limit'?: string;
  'auth-string'?: string;
  'max-body-size'?: string;
  'max-json-depth'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  retention?: string;
  'event-retention'?: string;
  'log-retention'?: string;
  metrics?: boolean;
  'no-gzip'?: boolean;
  'query-timeout'?: string;
  'query-thread-after'?: string;
  'log-level'?: string;
  'log-format'?: string;
}

type Env = Record<string, string | undefined>;

/** A flag's value, else the first of these environment variables that is set and not empty. */
const pickFrom = (env: Env) => (flag: string | undefined, ...names: string[]) =>
  flag ?? names.map((n) => env[n]).find((v) => v !== undefined && v !== '');

/** The store directory, for `serve` and every command that opens a store: flag, env, default. */
export function dataDirSetting(flag: string | undefined, env: Env = process.env): string {
  return pickFrom(env)(flag, 'ARTIFACTD_DATA_DIR') ?? DEFAULTS.dataDir;
}

/**
 * The LMDB map of `serve` and every command that opens an LMDB store: `--map-size`, then
 * ARTIFACTD_MAP_SIZE, then 64 GiB. A size as `--max-body-size` takes it (`64GiB`, `512MiB`,
 * bytes), at least 64 MiB.
 */
export function mapSizeSetting(flag: string | undefined, env: Env = process.env): number {
  const text = pickFrom(env)(flag, 'ARTIFACTD_MAP_SIZE');
  if (text === undefined) return DEFAULTS.mapSize;
  const bytes = size('map size', text, DEFAULTS.mapSize, 'such as 64GiB, 16GiB or 512MiB');
  if (bytes < MIN_MAP_SIZE) throw new ConfigError(`invalid map size "${text}": expected at least ${formatSize(MIN_MAP_SIZE).replace(' ', '')}`);
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(`invalid map size "${text}": too large`);
  return bytes;
}

/** The database settings of `serve` and of every command that opens a store (flags as `serve` names them). */
export interface DatabaseFlags {
  'database-url'?: string;
  'database-connect-timeout'?: string;
  'database-statement-timeout'?: string;
  'database-pool-size'?: string;
}

/**
 * The database of `serve` and every command that opens a store: `--database-url`, then
 * ARTIFACTD_DATABASE_URL, then Prefect's PREFECT_SERVER_DATABASE_CONNECTION_URL and its older
 * PREFECT_API_DATABASE_CONNECTION_URL; null (none set, or empty): the embedded LMDB store. A
 * SQLite URL or anything but PostgreSQL is a ConfigError, its password hidden.
 */
export function databaseUrlSetting(flag: string | undefined, env: Env = process.env): string | null {
  const url = pickFrom(env)(flag, 'ARTIFACTD_DATABASE_URL', 'PREFECT_SERVER_DATABASE_CONNECTION_URL', 'PREFECT_API_DATABASE_CONNECTION_URL')?.trim();
  if (url === undefined || url === '') return null;
  try {
    parseDatabaseUrl(url);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new ConfigError(error.message);
    throw error;
  }
  return url;
}

/** The URL and the two timeouts, for `serve` (loadConfig) and the commands that open a store. */
export function databaseSettings(
  flags: DatabaseFlags,
  env: Env = process.env,
): Pick<Config, 'databaseUrl' | 'databaseConnectTimeoutMs' | 'databaseStatementTimeoutMs' | 'databasePoolSize'> {
  const pick = pickFrom(env);
  const connect = duration(
    'database connect timeout',
    pick(flags['database-connect-timeout'], 'ARTIFACTD_DATABASE_CONNECT_TIMEOUT', 'PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT', 'PREFECT_API_DATABASE_CONNECTION_TIMEOUT'),
    DEFAULTS.databaseConnectTimeoutMs / 1000,
  );
  if (!(connect > 0)) throw new ConfigError('invalid database connect timeout: expected more than 0 seconds');
  const statement = duration(
    'database statement timeout',
    pick(flags['database-statement-timeout'], 'ARTIFACTD_DATABASE_STATEMENT_TIMEOUT', 'PREFECT_SERVER_DATABASE_TIMEOUT', 'PREFECT_API_DATABASE_TIMEOUT'),
    DEFAULTS.databaseStatementTimeoutMs / 1000,
  );
  return {
    databaseUrl: databaseUrlSetting(flags['database-url'], env),
    databaseConnectTimeoutMs: Math.max(1, Math.round(connect * 1000)),
    databaseStatementTimeoutMs: Math.round(statement * 1000),
    databasePoolSize: integer('database pool size', pick(flags['database-pool-size'], 'ARTIFACTD_DATABASE_POOL_SIZE'), DEFAULTS.databasePoolSize, 1, 1000),
  };
}

/** The basic-auth string a client command (`--api`) sends: flag, then Prefect's client setting. */
export function clientAuthSetting(flag: string | undefined, env: Env = process.env): string | undefined {
  return pickFrom(env)(flag, 'PREFECT_API_AUTH_STRING');
}

/** A terminal width given in `COLUMNS` (what shells export), when it is a positive integer. */
export function columnsSetting(env: Env = process.env): number | undefined {
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}

export function loadConfig(flags: ConfigFlags, env: Env = process.env): Config {
  const pick = pickFrom(env);
  const tlsCert = pick(flags['tls-cert'], 'ARTIFACTD_TLS_CERT');
  const tlsKey = pick(flags['tls-key'], 'ARTIFACTD_TLS_KEY');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key go together: give both or neither');
  }
  const authString = pick(flags['auth-string'], 'PREFECT_SERVER_API_AUTH_STRING') ?? null;
  if (authString !== null && !authString.includes(':')) {
    throw new ConfigError('the auth string must look like user:password');
  }
  const list = (text: string | undefined, fallback: string[]) =>
    text === undefined ? fallback : text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return {
    host: pick(flags.host, 'PREFECT_SERVER_API_HOST') ?? DEFAULTS.host,
    port: integer('port', pick(flags.port, 'PREFECT_SERVER_API_PORT'), DEFAULTS.port, 0, 65535),
    dataDir: dataDirSetting(flags['data-dir'], env),
    mapSize: mapSizeSetting(flags['map-size'], env),
    ...databaseSettings(flags, env),
    defaultLimit: integer(
      'default limit',
      pick(flags['default-limit'], 'PREFECT_SERVER_API_DEFAULT_LIMIT', 'PREFECT_API_DEFAULT_LIMIT'),
      DEFAULTS.defaultLimit,
      1,
      1_000_000,
    ),
    authString,
    csrf: {
      enabled: boolean(
        'CSRF protection',
        pick(undefined, 'PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED', 'PREFECT_SERVER_CSRF_PROTECTION_ENABLED'),
        DEFAULTS.csrf.enabled,
      ),
      tokenExpirationSeconds: duration(
        'CSRF token expiration',
        pick(undefined, 'PREFECT_SERVER_API_CSRF_TOKEN_EXPIRATION', 'PREFECT_SERVER_CSRF_TOKEN_EXPIRATION'),
        DEFAULTS.csrf.tokenExpirationSeconds,
      ),
    },
    cors: {
      origins: list(pick(undefined, 'PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS', 'PREFECT_SERVER_CORS_ALLOWED_ORIGINS'), DEFAULTS.cors.origins),
      methods: list(pick(undefined, 'PREFECT_SERVER_API_CORS_ALLOWED_METHODS', 'PREFECT_SERVER_CORS_ALLOWED_METHODS'), DEFAULTS.cors.methods),
      headers: list(pick(undefined, 'PREFECT_SERVER_API_CORS_ALLOWED_HEADERS', 'PREFECT_SERVER_CORS_ALLOWED_HEADERS'), DEFAULTS.cors.headers),
    },
    maxBodyBytes: size('max body size', pick(flags['max-body-size'], 'ARTIFACTD_MAX_BODY_SIZE'), DEFAULTS.maxBodyBytes),
    maxJsonDepth: integer('max JSON depth', pick(flags['max-json-depth'], 'ARTIFACTD_MAX_JSON_DEPTH'), DEFAULTS.maxJsonDepth, 1, 10_000),
    tls: tlsCert !== undefined && tlsKey !== undefined ? { certFile: tlsCert, keyFile: tlsKey } : null,
    retentionMs: retention(pick(flags.retention, 'ARTIFACTD_RETENTION')),
    eventRetentionMs: retentionPeriod(
      'event retention',
      pick(flags['event-retention'], 'ARTIFACTD_EVENT_RETENTION', 'PREFECT_SERVER_EVENTS_RETENTION_PERIOD', 'PREFECT_EVENTS_RETENTION_PERIOD'),
      DEFAULTS.eventRetentionMs,
    ),
    logRetentionMs: retentionPeriod('log retention', pick(flags['log-retention'], 'ARTIFACTD_LOG_RETENTION'), DEFAULTS.logRetentionMs),
    queryTimeoutMs:
      duration(
        'query timeout',
        pick(flags['query-timeout'], 'ARTIFACTD_QUERY_TIMEOUT', 'PREFECT_SERVER_DATABASE_TIMEOUT', 'PREFECT_API_DATABASE_TIMEOUT'),
        DEFAULTS.queryTimeoutMs / 1000,
      ) * 1000,
    queryThreadAfterMs: queryThreadAfter(pick(flags['query-thread-after'], 'ARTIFACTD_QUERY_THREAD_AFTER')),
    gzip: flags['no-gzip'] !== true && boolean('gzip setting', pick(undefined, 'ARTIFACTD_GZIP'), DEFAULTS.gzip),
    metrics:
      flags.metrics === true ||
      boolean('metrics setting', pick(undefined, 'PREFECT_SERVER_METRICS_ENABLED', 'PREFECT_API_ENABLE_METRICS'), DEFAULTS.metrics),
    log: {
      level: logLevel(pick(flags['log-level'], 'PREFECT_SERVER_LOGGING_LEVEL', 'PREFECT_LOGGING_SERVER_LEVEL'), DEFAULTS.log.level),
      format: logFormat(pick(flags['log-format'], 'ARTIFACTD_LOG_FORMAT'), DEFAULTS.log.format),
    },
  };
}

/** Milliseconds (an integer, 0 or more), or `off`. */
function queryThreadAfter(text: string | undefined): number | null {
  if (text === undefined) return DEFAULTS.queryThreadAfterMs;
  if (text.trim().toLowerCase() === 'off') return null;
  return integer('query thread hand-off (milliseconds, or off)', text, 0, 0, 3_600_000);
}

function retention(text: string | undefined): number | null {
  if (text === undefined) return null;
  try {
    return parseDuration(text);
  } catch (error) {
    throw new ConfigError(`retention: ${(error as Error).message}`);
  }
}

/**
 * A retention period: an age as `--retention` takes it (`7d`, `12h`), seconds (`604800`, how
 * Prefect's timedelta settings read a number), an ISO-8601 duration (`P7D`, `PT12H`), or `off`
 * (`never`, `0`) to keep everything.
 */
function retentionPeriod(name: string, text: string | undefined, fallback: number | null): number | null {
  if (text === undefined) return fallback;
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === 'never' || /^0+(\.0+)?$/.test(t)) return null;
  let ms: number;
  if (/^\d+[smhdw]$/.test(t)) {
    try {
      ms = parseDuration(t);
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`);
    }
  } else {
    try {
      ms = duration(name, text, 0) * 1000;
    } catch {
      throw new ConfigError(`invalid ${name} "${text}": expected an age such as 7d or 12h, seconds, an ISO-8601 duration such as P7D, or off`);
    }
  }
  if (!(ms >= 1000)) throw new ConfigError(`invalid ${name} "${text}": expected at least one second, or off`);
  return Math.round(ms);
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw new ConfigError(`invalid ${name} "${text}": expected an integer from ${min} to ${max}`);
  }
  return n;
}

function boolean(name: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 't', 'y'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', 'f', 'n'].includes(t)) return false;
  throw new ConfigError(`invalid ${name} "${text}": expected true or false`);
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** A byte size: `16777216`, `16m`, `16MiB`, `512k`. */
function size(name: string, text: string | undefined, fallback: number, examples = 'such as 16777216, 512k or 16MiB'): number {
  if (text === undefined) return fallback;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) === 0) {
    throw new ConfigError(`invalid ${name} "${text}": expected a size ${examples}`);
  }
  return Number(m[1]) * unit;
}

/** Seconds: `3600`, or an ISO-8601 duration such as `PT1H` (Prefect's timedelta settings). */
function duration(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(t);
  if (!m || t === 'P' || t.endsWith('T')) throw new ConfigError(`invalid ${name} "${text}": expected seconds or a duration such as PT1H`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

function logLevel(text: string | undefined, fallback: LogLevel): LogLevel {
  if (text === undefined) return fallback;
  const level = parseLogLevel(text);
  if (level === undefined) throw new ConfigError(`invalid log level "${text}": expected debug, info, warning or error`);
  return level;
}

function logFormat(text: string | undefined, fallback: LogFormat): LogFormat {
  if (text === undefined) return fallback;
  const format = text.trim().toLowerCase();
  if (format !== 'text' && format !== 'json') throw new ConfigError(`invalid log format "${text}": expected text or json`);
  return format;
}
