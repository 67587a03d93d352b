/**
 * `artifactd serve`: opens the store, listens (HTTP, or HTTPS with a certificate, and the
 * `/api/events/in` websocket), and on SIGINT/SIGTERM (and on Windows Ctrl+Break and closing the
 * console: shutdownSignals) stops accepting, lets in-flight requests finish, closes the websockets
 * (1001), writes the events they sent, closes the store and exits 0.
 */
import { readFileSync } from 'node:fs';
import { createApp } from '../app.ts';
import { ConfigError, DEFAULTS, loadConfig, type Config, type ConfigFlags } from '../config.ts';
import { createLogger, warningsLogger, type Logger } from '../observe/log.ts';
import type { Store } from '../store/contract.ts';
import { LmdbStore } from '../store/lmdb/store.ts';
import { openStore } from '../store/open.ts';
import { redactDatabaseUrl } from '../store/postgres/url.ts';
import { startRetention } from './retention.ts';
import type { Command } from './command.ts';
import { dataDirOption, mapSizeOption } from './data-dir.ts';

export interface RunningServer {
  url: string;
  logger: Logger;
  stop(): Promise<void>;
}

function readTls(config: Config) {
  if (!config.tls) return undefined;
  try {
    return { cert: readFileSync(config.tls.certFile, 'utf8'), key: readFileSync(config.tls.keyFile, 'utf8') };
  } catch (error) {
    throw new ConfigError(`cannot read the TLS certificate or key: ${(error as Error).message}`);
  }
}

/**
 * Bun.serve's failure to listen as a ConfigError (one `artifactd: …` line, exit 2) instead of a
 * stack trace: besides a port in use or a privileged port, Bun answers EINVAL for a host that is
 * not an address of this machine or a name that does not resolve (`--host 999.1.1.1`, a typo).
 */
function listenError(error: unknown, config: Config): unknown {
  const { code, syscall, message } = error as { code?: string; syscall?: string; message?: string };
  if (syscall !== 'listen' && code !== 'EADDRINUSE') return error;
  const where = `cannot listen on ${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return new ConfigError(`${where}: address already in use (${message})`);
  if (code === 'EINVAL') return new ConfigError(`${where}: ${message} (is --host an address or host name of this machine?)`);
  return new ConfigError(`${where}: ${message}`);
}

/**
 * `logger`: `serve` passes the configured one; without it (tests) only warnings and errors are
 * written. `store`: the one `serve` opened (`openStore`); without it, the LMDB store in the
 * data dir. The server closes it when it stops.
 */
export function startServer(config: Config, logger: Logger = warningsLogger(config.log.format), given?: Store): RunningServer {
  const tls = readTls(config);
  const store = given ?? LmdbStore.open(config.dataDir, { mapSize: config.mapSize });
  const app = createApp(store, config, logger);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      tls,
      // Out of reach: Bun answers its own limit with a bare 413, while the app answers Prefect's
      // JSON 413 for any framing, reading no more than --max-body-size (http/body.ts). A body a
      // route does not read is drained by Bun without being kept.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // A websocket upgrade to `/api/events/in` is answered by the socket hub (events-in.ts);
      // `null` from it means an ordinary request, for the app.
      fetch: (request, server) => {
        const upgraded = app.sockets.upgrade(request, server);
        return upgraded === null ? app.handle(request) : upgraded;
      },
      websocket: app.sockets.handlers,
    });
  } catch (error) {
    void store.close();
    throw listenError(error, config);
  }
  const plan = { artifactsMs: config.retentionMs, eventsMs: config.eventRetentionMs, logsMs: config.logRetentionMs };
  const retention = Object.values(plan).every((ms) => ms === null) ? undefined : startRetention(store, plan, logger);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${server.port}`,
    logger,
    async stop() {
      const stopped = server.stop(false); // stop accepting; in-flight requests finish
      await app.sockets.close(); // open websockets would keep the server from stopping
      await stopped;
      await retention?.stop();
      await app.close(); // the events still queued are written
      await store.close();
      await logger.flush(); // request lines still buffered
    },
  };
}

/** How long shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 5000;

/**
 * The signals that stop the server gracefully (as SIGINT and SIGTERM always did):
 * - everywhere, SIGINT (Ctrl+C) and SIGTERM (`kill`, `docker stop`, systemd). On Windows,
 *   SIGTERM is never raised (Windows has no such signal: `taskkill /F` and a service manager's
 *   last resort end the process outright, which LMDB survives, every write being durable when
 *   acknowledged), but listening costs nothing.
 * - on Windows also SIGBREAK (Ctrl+Break) and SIGHUP (the console window closed, after which
 *   Windows ends the process within seconds). A service wrapper (NSSM, WinSW) stops a console
 *   program with Ctrl+C, which arrives as SIGINT.
 * Not SIGHUP elsewhere: its default action already ends the process, and a handler would
 * override `nohup artifactd &`, which keeps a server running after its terminal goes.
 */
export function shutdownSignals(platform: NodeJS.Platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];
}

export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.log);
  const store = await openStore(config);
  const running = startServer(config, logger, store);
  const where = config.databaseUrl === null ? config.dataDir : redactDatabaseUrl(config.databaseUrl);
  logger.announce(`artifactd serving the Prefect API at ${running.url}/api (browser: ${running.url}/, docs: ${running.url}/docs, data: ${where})`);
  // The effective settings at debug level, secrets left out.
  logger.debug('configuration', {
    ...config,
    authString: config.authString === null ? 'off' : 'on',
    tls: config.tls === null ? 'off' : 'on',
    databaseUrl: config.databaseUrl === null ? null : redactDatabaseUrl(config.databaseUrl),
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.announce(`artifactd: ${signal} received, closing the store`);
    setTimeout(() => {
      logger.error('artifactd: shutdown took too long, exiting');
      void logger.flush().finally(() => process.exit(1));
    }, SHUTDOWN_DEADLINE_MS).unref();
    await running.stop();
    process.exit(0);
  };
  for (const signal of shutdownSignals(process.platform)) process.on(signal, () => void shutdown(signal));
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the server (the default command).',
  options: {
    host: { type: 'string', value: 'HOST', description: `address to listen on (env PREFECT_SERVER_API_HOST, default ${DEFAULTS.host})` },
    port: { type: 'string', value: 'PORT', description: `port to listen on (env PREFECT_SERVER_API_PORT, default ${DEFAULTS.port})` },
    'data-dir': dataDirOption('where the store lives'),
    'map-size': mapSizeOption,
    'database-url': {
      type: 'string',
      value: 'URL',
      description:
        'store in PostgreSQL instead: postgresql://USER:PASS@HOST:PORT/DB (or postgresql+asyncpg://, postgres://; ?sslmode=require and the like); unset: the embedded LMDB store in --data-dir (env ARTIFACTD_DATABASE_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL or PREFECT_API_DATABASE_CONNECTION_URL)',
    },
    'database-connect-timeout': {
      type: 'string',
      value: 'SECONDS',
      description: `give up connecting to the database after this long (env ARTIFACTD_DATABASE_CONNECT_TIMEOUT, PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT or PREFECT_API_DATABASE_CONNECTION_TIMEOUT, default ${DEFAULTS.databaseConnectTimeoutMs / 1000})`,
    },
    'database-statement-timeout': {
      type: 'string',
      value: 'SECONDS',
      description: `stop a database statement that runs longer and answer 503, as Prefect does; 0: no limit (env ARTIFACTD_DATABASE_STATEMENT_TIMEOUT, PREFECT_SERVER_DATABASE_TIMEOUT or PREFECT_API_DATABASE_TIMEOUT, default ${DEFAULTS.databaseStatementTimeoutMs / 1000})`,
    },
    'database-pool-size': {
      type: 'string',
      value: 'N',
      description: `connections this instance may open to the database (env ARTIFACTD_DATABASE_POOL_SIZE, default ${DEFAULTS.databasePoolSize})`,
    },
    'default-limit': {
      type: 'string',
      value: 'N',
      description: `default and maximum page size of filter routes (env PREFECT_SERVER_API_DEFAULT_LIMIT, default ${DEFAULTS.defaultLimit})`,
    },
    'auth-string': { type: 'string', value: 'USER:PASS', description: 'require HTTP Basic auth (env PREFECT_SERVER_API_AUTH_STRING)' },
    'max-body-size': { type: 'string', value: 'SIZE', description: 'largest request body, e.g. 16MiB (env ARTIFACTD_MAX_BODY_SIZE, default 16MiB)' },
    'max-json-depth': {
      type: 'string',
      value: 'N',
      description: `deepest JSON nesting accepted (env ARTIFACTD_MAX_JSON_DEPTH, default ${DEFAULTS.maxJsonDepth})`,
    },
    'tls-cert': { type: 'string', value: 'FILE', description: 'serve HTTPS with this PEM certificate (env ARTIFACTD_TLS_CERT)' },
    'tls-key': { type: 'string', value: 'FILE', description: 'the PEM private key for --tls-cert (env ARTIFACTD_TLS_KEY)' },
    retention: { type: 'string', value: 'AGE', description: "prune versions older than AGE (90d, 12h…; never a key's latest) at start and hourly (env ARTIFACTD_RETENTION)" },
    'event-retention': {
      type: 'string',
      value: 'AGE|off',
      description:
        'delete events that occurred more than AGE ago (7d, seconds, P7D…), at start and hourly; off keeps them (env ARTIFACTD_EVENT_RETENTION, PREFECT_SERVER_EVENTS_RETENTION_PERIOD or PREFECT_EVENTS_RETENTION_PERIOD, default 7d as Prefect)',
    },
    'log-retention': {
      type: 'string',
      value: 'AGE|off',
      description: 'delete log lines logged more than AGE ago, at start and hourly (env ARTIFACTD_LOG_RETENTION, default off: kept, as Prefect keeps them)',
    },
    'query-timeout': {
      type: 'string',
      value: 'SECONDS',
      description: `stop a query that runs longer and answer 503, as Prefect does at its database timeout (env ARTIFACTD_QUERY_TIMEOUT or PREFECT_API_DATABASE_TIMEOUT, default ${DEFAULTS.queryTimeoutMs / 1000})`,
    },
    'query-thread-after': {
      type: 'string',
      value: 'MS|off',
      description: `move a query still running after MS milliseconds from the server's thread to the query thread; off: run every query in slices on the server's thread (env ARTIFACTD_QUERY_THREAD_AFTER, default ${DEFAULTS.queryThreadAfterMs})`,
    },
    'no-gzip': { type: 'boolean', description: 'never gzip replies (env ARTIFACTD_GZIP=false); by default replies of 500 bytes or more are gzipped for clients that accept it, as on Prefect' },
    metrics: { type: 'boolean', description: 'serve Prometheus metrics at /metrics and /api/metrics (env PREFECT_SERVER_METRICS_ENABLED or PREFECT_API_ENABLE_METRICS)' },
    'log-level': {
      type: 'string',
      value: 'LEVEL',
      description: `debug, info (one line per request), warning or error (env PREFECT_SERVER_LOGGING_LEVEL or PREFECT_LOGGING_SERVER_LEVEL, default ${DEFAULTS.log.level})`,
    },
    'log-format': { type: 'string', value: 'FORMAT', description: `text or json (env ARTIFACTD_LOG_FORMAT, default ${DEFAULTS.log.format})` },
  },
  async run(values) {
    await serve(loadConfig(values as ConfigFlags));
    return undefined;
  },
};
