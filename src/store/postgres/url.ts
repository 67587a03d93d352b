/**
 * PostgreSQL database URLs, as Prefect takes them (`postgresql+asyncpg://…`) and as libpq does
 * (`postgresql://…`, `postgres://…`), turned into the options of Bun's client (`new SQL({…})`).
 *
 *   postgresql+asyncpg://user:pass@db.example.com:5432/prefect?sslmode=verify-full&sslrootcert=/ca.pem
 *   postgres://artifactd@/artifacts?host=/var/run/postgresql          (a unix socket directory)
 *
 * Query parameters (libpq's names; asyncpg's `ssl` too):
 *   sslmode / ssl          disable, allow, prefer (the default, as libpq's and asyncpg's), require,
 *                          verify-ca, verify-full; `ssl=true` means require, `ssl=false` disable
 *   sslrootcert            the CA certificate(s) to verify the server against (PEM file); with
 *                          `require` it means verify-ca, as in libpq; `system`: the system's CAs
 *                          and verify-full (libpq 16); ignored with disable, allow and prefer
 *   sslcert, sslkey, sslpassword
 *                          a client certificate. Bun cannot fall back to plaintext with one, so
 *                          allow and prefer with a client certificate mean require
 *   host, port, user, password, dbname
 *                          instead of (or besides) the URL's own parts; a host starting with `/`
 *                          (here or percent-encoded in the URL) is a unix socket directory
 *   connect_timeout        seconds to establish a connection
 *   channel_binding        disable, prefer, require (SCRAM channel binding)
 *   application_name       shown in pg_stat_activity (default `artifactd`)
 *   anything else          sent to the server as a startup parameter, e.g. statement_timeout=5000
 *                          or options=-c%20search_path%3Dapp — as libpq and asyncpg do; libpq's own
 *                          client-side keys (keepalives, target_session_attrs, …) are ignored
 *
 * A part the URL leaves out is left to Bun, which fills it as libpq does from PGUSER, PGPASSWORD,
 * PGHOST, PGPORT (so a password can stay out of the URL, in PGPASSWORD). `DATABASE_URL` is never
 * read: the options always carry a `url`.
 *
 * A password never leaves this module in a message: errors quote the URL through
 * `redactDatabaseUrl`, which also serves log lines and /metrics labels.
 */
import type { SQL } from 'bun';

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The URL schemes taken for PostgreSQL (case-insensitive). */
const POSTGRES_SCHEMES = ['postgresql+asyncpg', 'postgresql', 'postgres'] as const;

export class DatabaseUrlError extends Error {}

/** The options for `new SQL(options)` that a database URL comes to. */
export interface PostgresOptions extends SQL.PostgresOrMySQLOptions {
  adapter: 'postgres';
  /**
   * `postgres://?sslmode=MODE`: names the SSL mode the `tls` object leaves open, and keeps Bun
   * from reading `DATABASE_URL` from the environment to fill fields in. Carries no secret.
   */
  url: string;
  /** A host name, an address (IPv6 without brackets), or a unix socket directory (`/…`). */
  hostname?: string;
  port?: number;
  database?: string;
  username?: string;
  password?: string;
  tls: SslMode | SQL.TLSOptions;
  /** Startup parameters: application_name, statement_timeout, … */
  connection: Record<string, string>;
  /** Seconds (Bun's unit). */
  connectionTimeout?: number;
  channelBinding?: 'disable' | 'prefer' | 'require';
}

/** Settings from the configuration; the URL's own `connect_timeout` / `statement_timeout` win. */
export interface DatabaseSettings {
  connectTimeoutMs?: number;
  /** 0: no statement timeout. */
  statementTimeoutMs?: number;
}

/** The SSL mode `parseDatabaseUrl` chose (what the `url` option of its result names). */
export function sslModeOf(options: PostgresOptions): SslMode {
  const mode = /[?&]sslmode=([a-z-]+)/.exec(options.url)?.[1];
  return (SSL_MODES as readonly string[]).includes(mode ?? '') ? (mode as SslMode) : 'prefer';
}

/** Whether `url` names PostgreSQL by its scheme (valid or not otherwise). */
export function isPostgresUrl(url: string): boolean {
  const scheme = schemeOf(url);
  return scheme !== undefined && (POSTGRES_SCHEMES as readonly string[]).includes(scheme);
}

/** The one line that answers a SQLite URL: artifactd's embedded store is LMDB. */
export const SQLITE_URL_MESSAGE =
  "artifactd's embedded store is LMDB, not SQLite: leave the database URL unset to use it, and choose where it lives with --data-dir (env ARTIFACTD_DATA_DIR)";

/** libpq's client-side keys that mean nothing to Bun's client (not sent to the server). */
const LIBPQ_ONLY = new Set([
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'target_session_attrs',
  'load_balance_hosts',
  'gssencmode',
  'gsslib',
  'gssdelegation',
  'krbsrvname',
  'requirepeer',
  'require_auth',
  'sslcompression',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'sslcertmode',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'passfile',
  'service',
  'replication',
  'hostaddr',
  'fallback_application_name',
  'client_encoding',
  // asyncpg's and SQLAlchemy's connect arguments a Prefect URL may carry
  'prepared_statement_cache_size',
  'prepared_statement_name_func',
  'statement_cache_size',
  'max_cached_statement_lifetime',
  'max_cacheable_statement_size',
  'command_timeout',
]);

/**
 * The options for Bun's `new SQL({...})` that `url` comes to; throws DatabaseUrlError (the URL
 * quoted with its password hidden) for anything that is not a usable PostgreSQL URL.
 */
export function parseDatabaseUrl(url: string, settings: DatabaseSettings = {}): PostgresOptions {
  const text = url.trim();
  // A URL without :// is not quoted at all: where its password is cannot be told.
  const fail: (why: string) => never = (why) => {
    throw new DatabaseUrlError(text.includes('://') ? `invalid database URL ${redactDatabaseUrl(text)}: ${why}` : `invalid database URL: ${why}`);
  };
  const scheme = schemeOf(text);
  if (scheme?.startsWith('sqlite')) throw new DatabaseUrlError(SQLITE_URL_MESSAGE);
  const known = isPostgresUrl(text);
  if (!known && !text.includes('://')) fail(`expected postgresql://user:password@host:port/database (or ${POSTGRES_SCHEMES[0]}://…)`);
  if (!known) fail(`artifactd stores in PostgreSQL (${POSTGRES_SCHEMES.map((s) => `${s}://`).join(', ')}) or, without a URL, in its embedded LMDB store`);
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return fail(`bad percent-encoding in the ${what}`);
    }
  };

  // libpq's URI: scheme://[user[:password]@][host][:port][/dbname][?key=value&…], parsed here
  // rather than by URL, which refuses a user without a host (postgres://me@/db?host=/run/pg) and
  // reads + as a space in the query.
  const rest = text.slice(text.indexOf(':') + 1);
  if (!rest.startsWith('//')) fail('expected :// after the scheme');
  const body = rest.slice(2);
  if (body.includes('#')) fail('a # must be percent-encoded (%23)');
  const authorityEnd = body.search(/[/?]/);
  const authority = authorityEnd < 0 ? body : body.slice(0, authorityEnd);
  const afterAuthority = authorityEnd < 0 ? '' : body.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const hostport = at < 0 ? authority : authority.slice(at + 1);
  if (hostport.includes(',')) fail('several hosts are not supported: give one host');
  const hostMatch = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(\d*))?$/.exec(hostport);
  if (!hostMatch) fail('expected host, host:port or [IPv6 address]:port after the scheme (characters such as @ : / ? in a password must be percent-encoded)');
  const queryStart = afterAuthority.indexOf('?');
  const pathPart = queryStart < 0 ? afterAuthority : afterAuthority.slice(0, queryStart);
  const query = queryStart < 0 ? '' : afterAuthority.slice(queryStart + 1);

  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`expected key=value in the query, found "${eq === 0 ? pair : pair.replace(/password/gi, '***')}"`);
    const key = decode(pair.slice(0, eq), 'query');
    if (params.has(key)) fail(`the parameter ${key} is given twice`);
    params.set(key, decode(pair.slice(eq + 1), `parameter ${key}`));
  }
  const take = (key: string) => {
    const value = params.get(key);
    params.delete(key);
    return value;
  };

  const options: PostgresOptions = { adapter: 'postgres', url: '', tls: 'prefer', connection: { application_name: 'artifactd' } };

  // Where: the URL's host (brackets off an IPv6 address), else ?host=.
  const hostParam = take('host');
  const urlHost = decode(hostMatch[1] ?? hostMatch[2] ?? '', 'host');
  const host = hostParam || urlHost || undefined;
  if (host !== undefined) options.hostname = host;
  const portText = take('port') || hostMatch[3] || undefined;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) fail(`invalid port "${portText}": expected 1 to 65535`);
    options.port = port;
  }

  // Who, and which database.
  const colon = userinfo === undefined ? -1 : userinfo.indexOf(':');
  const urlUser = userinfo === undefined ? '' : decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user name');
  const user = take('user') || urlUser || undefined;
  if (user !== undefined) options.username = user;
  const passwordParam = take('password');
  const urlPassword = userinfo === undefined || colon < 0 ? undefined : decode(userinfo.slice(colon + 1), 'password');
  const password = passwordParam ?? urlPassword;
  if (password !== undefined) options.password = password;
  const path = decode(pathPart.replace(/^\//, ''), 'database name');
  if (path.includes('/')) fail('expected one database name after the host, with no further /');
  const database = take('dbname') || path || undefined;
  if (database !== undefined) options.database = database;

  // TLS.
  const mode = sslMode(take('sslmode'), take('ssl'), fail);
  const rootCert = take('sslrootcert');
  const clientCert = take('sslcert');
  const clientKey = take('sslkey');
  const passphrase = take('sslpassword');
  if ((clientCert === undefined) !== (clientKey === undefined)) fail('sslcert and sslkey go together: give both or neither');
  const { effective, tls } = tlsOptions(mode, rootCert, clientCert, clientKey, passphrase);
  options.url = `postgres://?sslmode=${effective}`;
  options.tls = tls;

  // Timeouts and the rest.
  const connectTimeout = take('connect_timeout');
  if (connectTimeout !== undefined) {
    if (!/^\d+$/.test(connectTimeout) || Number(connectTimeout) < 1) fail(`invalid connect_timeout "${connectTimeout}": expected whole seconds, 1 or more`);
    options.connectionTimeout = Number(connectTimeout);
  } else if (settings.connectTimeoutMs !== undefined) {
    options.connectionTimeout = Math.max(1, Math.ceil(settings.connectTimeoutMs / 1000));
  }
  const channelBinding = take('channel_binding');
  if (channelBinding !== undefined) {
    if (channelBinding !== 'disable' && channelBinding !== 'prefer' && channelBinding !== 'require') {
      fail(`invalid channel_binding "${channelBinding}": expected disable, prefer or require`);
    }
    options.channelBinding = channelBinding;
  }
  if (settings.statementTimeoutMs !== undefined) options.connection.statement_timeout = String(Math.max(0, Math.round(settings.statementTimeoutMs)));
  for (const [key, value] of params) {
    if (!LIBPQ_ONLY.has(key)) options.connection[key] = value;
  }
  return options;
}

function sslMode(sslmode: string | undefined, ssl: string | undefined, fail: (why: string) => never): SslMode {
  if (sslmode !== undefined && ssl !== undefined) fail('give sslmode or ssl, not both');
  const given = sslmode ?? ssl;
  if (given === undefined) return 'prefer';
  const value = given.trim().toLowerCase();
  if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  if (ssl !== undefined && ['true', '1', 'yes', 'on'].includes(value)) return 'require';
  if (ssl !== undefined && ['false', '0', 'no', 'off'].includes(value)) return 'disable';
  return fail(`invalid ${sslmode !== undefined ? 'sslmode' : 'ssl'} "${given}": expected ${SSL_MODES.join(', ')}`);
}

/**
 * Bun's `tls` option and the mode it runs in. Bun raises a mode below verify-ca to verify-full
 * when the object carries a CA, so require with a root certificate is spelled verify-ca here,
 * which is what libpq makes of it.
 */
function tlsOptions(
  mode: SslMode,
  rootCert: string | undefined,
  clientCert: string | undefined,
  clientKey: string | undefined,
  passphrase: string | undefined,
): { effective: SslMode; tls: SslMode | SQL.TLSOptions } {
  if (mode === 'disable') return { effective: 'disable', tls: 'disable' };
  const verifies = mode === 'verify-ca' || mode === 'verify-full';
  let effective: SslMode = mode === 'allow' ? 'prefer' : mode;
  const object: SQL.TLSOptions & { caFile?: string; certFile?: string; keyFile?: string } = {};
  if (rootCert !== undefined && rootCert !== '' && (verifies || mode === 'require')) {
    if (rootCert === 'system') {
      effective = 'verify-full'; // libpq 16: the system's CAs, and the host name checked
    } else {
      object.caFile = rootCert;
      if (mode === 'require') effective = 'verify-ca';
    }
  }
  if (clientCert !== undefined && clientKey !== undefined) {
    object.certFile = clientCert;
    object.keyFile = clientKey;
    if (passphrase !== undefined) object.passphrase = passphrase;
    if (effective === 'prefer') effective = 'require'; // Bun sends a certificate only over TLS it insists on
  }
  return { effective, tls: Object.keys(object).length === 0 ? effective : object };
}

function schemeOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())?.[1]?.toLowerCase();
}

/**
 * `url` with its password (and a `password=` or `sslpassword=` parameter) replaced by `***`: safe
 * for a log line, an error message or a metric label. Works on malformed URLs too, hiding more
 * rather than less: everything between the user name's `:` and the last `@` of the authority.
 */
export function redactDatabaseUrl(url: string): string {
  let out = url;
  // user:password@ — the password may hold an unencoded @ / ? or #: the userinfo ends at the last @
  // before the path, else at the last @ at all.
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):(.*)@/i.exec(out);
  if (m) {
    out = `${m[1]}:***@${out.slice(m[0].length)}`;
  } else if (!out.includes('://') && out.includes('@')) {
    // Not URL-shaped (postgres:secret@host): everything between the first : and the last @.
    const colon = out.indexOf(':');
    if (colon >= 0 && colon < out.lastIndexOf('@')) out = `${out.slice(0, colon + 1)}***${out.slice(out.lastIndexOf('@'))}`;
  }
  return out.replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

/**
 * `text` (a driver's error message, say) with every form of the URL's password in it replaced by
 * `***`: the password as written, percent-decoded and percent-encoded.
 */
export function hideDatabasePassword(text: string, url: string): string {
  const secrets = new Set<string>();
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:(.*)@/i.exec(url.trim());
  const raw = [m?.[1], ...[...url.matchAll(/[?&](?:ssl)?password=([^&#]*)/gi)].map((p) => p[1])];
  for (const secret of raw) {
    if (secret === undefined || secret === '') continue;
    secrets.add(secret);
    try {
      secrets.add(decodeURIComponent(secret));
    } catch {
      // not percent-encoded
    }
    secrets.add(encodeURIComponent(secret));
  }
  let out = text;
  // Longest first, so that a password containing another form of itself is hidden whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}
