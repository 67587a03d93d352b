/**
 * Database URLs (src/store/postgres/url.ts): Prefect's and libpq's spellings turned into the
 * options of Bun's client, TLS modes as libpq means them, and a password that never shows in
 * what is printed. The last block connects with the produced options to the test cluster.
 */
import { describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import {
  DatabaseUrlError,
  SQLITE_URL_MESSAGE,
  hideDatabasePassword,
  isPostgresUrl,
  parseDatabaseUrl,
  redactDatabaseUrl,
  sslModeOf,
} from '../../src/store/postgres/url.ts';
import { enableClusterTls, freshDatabase, testDatabaseUrl } from '../postgres/cluster.ts';

const url = await testDatabaseUrl();

/** The message parseDatabaseUrl throws for `text`. */
function refusal(text: string): string {
  try {
    parseDatabaseUrl(text);
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseUrlError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseDatabaseUrl', () => {
  test("Prefect's postgresql+asyncpg://, postgresql:// and postgres:// give the same options", () => {
    const expected = {
      adapter: 'postgres',
      url: 'postgres://?sslmode=prefer',
      hostname: 'db.example.com',
      port: 6543,
      username: 'prefect',
      password: 'secret',
      database: 'orion',
      tls: 'prefer',
      connection: { application_name: 'artifactd' },
    };
    for (const scheme of ['postgresql+asyncpg', 'postgresql', 'postgres', 'PostgreSQL+AsyncPG']) {
      expect(parseDatabaseUrl(`${scheme}://prefect:secret@db.example.com:6543/orion`)).toEqual(expected as any);
      expect(isPostgresUrl(`${scheme}://x`)).toBe(true);
    }
    expect(isPostgresUrl('sqlite+aiosqlite:///x.db')).toBe(false);
  });

  test('parts left out stay out (Bun fills them as libpq does, from PGUSER, PGPASSWORD…); DATABASE_URL is never read', () => {
    const options = parseDatabaseUrl('postgres://db.example.com');
    expect(options).toEqual({ adapter: 'postgres', url: 'postgres://?sslmode=prefer', hostname: 'db.example.com', tls: 'prefer', connection: { application_name: 'artifactd' } });
    expect(parseDatabaseUrl('postgres://').hostname).toBeUndefined();
    expect(parseDatabaseUrl('postgres://me@/db').username).toBe('me');
    // A user with an empty password is a password: '' (no PGPASSWORD then), as libpq reads it.
    expect(parseDatabaseUrl('postgres://me:@h/db').password).toBe('');
    expect(parseDatabaseUrl('postgres://me@h/db').password).toBeUndefined();
  });

  test('percent-encoded user, password and database; an unencoded @ in a password ends at the last @', () => {
    const options = parseDatabaseUrl('postgres://us%40er:p%40ss%3Aw%2Fo%3Frd%23@h/my%20db');
    expect([options.username, options.password, options.database]).toEqual(['us@er', 'p@ss:w/o?rd#', 'my db']);
    expect(parseDatabaseUrl('postgres://u:p@ss@h/db')).toMatchObject({ username: 'u', password: 'p@ss', hostname: 'h' });
    // A + is a plus, not a space (libpq, not HTML forms).
    expect(parseDatabaseUrl('postgres://u:a+b@h/db?application_name=x+y').password).toBe('a+b');
    expect(parseDatabaseUrl('postgres://u:a+b@h/db?application_name=x+y').connection.application_name).toBe('x+y');
  });

  test('IPv6 addresses, unix socket directories (?host= or percent-encoded), ?port=, ?user=, ?dbname=', () => {
    expect(parseDatabaseUrl('postgres://[::1]:5433/db')).toMatchObject({ hostname: '::1', port: 5433 });
    expect(parseDatabaseUrl('postgres://me@/artifacts?host=/var/run/postgresql')).toMatchObject({ hostname: '/var/run/postgresql', username: 'me', database: 'artifacts' });
    expect(parseDatabaseUrl('postgres://%2Fvar%2Frun%2Fpostgresql/artifacts').hostname).toBe('/var/run/postgresql');
    expect(parseDatabaseUrl('postgres:///db?host=h&port=7&user=u&password=p&dbname=other')).toMatchObject({ hostname: 'h', port: 7, username: 'u', password: 'p', database: 'other' });
  });

  test('sslmode: disable, allow, prefer (the default), require, verify-ca, verify-full; asyncpg’s ssl= too', () => {
    const mode = (u: string) => {
      const options = parseDatabaseUrl(u);
      return [sslModeOf(options), options.tls];
    };
    expect(mode('postgres://h/db')).toEqual(['prefer', 'prefer']);
    expect(mode('postgres://h/db?sslmode=disable')).toEqual(['disable', 'disable']);
    expect(mode('postgres://h/db?sslmode=allow')).toEqual(['prefer', 'prefer']); // Bun: allow means prefer
    expect(mode('postgres://h/db?sslmode=prefer')).toEqual(['prefer', 'prefer']);
    expect(mode('postgres://h/db?sslmode=require')).toEqual(['require', 'require']);
    expect(mode('postgres://h/db?sslmode=verify-ca')).toEqual(['verify-ca', 'verify-ca']);
    expect(mode('postgres://h/db?sslmode=verify-full')).toEqual(['verify-full', 'verify-full']);
    expect(mode('postgresql+asyncpg://h/db?ssl=require')).toEqual(['require', 'require']);
    expect(mode('postgresql+asyncpg://h/db?ssl=true')).toEqual(['require', 'require']);
    expect(mode('postgresql+asyncpg://h/db?ssl=false')).toEqual(['disable', 'disable']);
    expect(refusal('postgres://h/db?sslmode=maybe')).toContain('invalid sslmode "maybe": expected disable, allow, prefer, require, verify-ca, verify-full');
    expect(refusal('postgres://h/db?sslmode=require&ssl=disable')).toContain('give sslmode or ssl, not both');
  });

  test('certificates: sslrootcert verifies (require with one is verify-ca, as in libpq), sslcert/sslkey/sslpassword present one', () => {
    const ca = parseDatabaseUrl('postgres://h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem');
    expect([sslModeOf(ca), ca.tls, ca.url]).toEqual(['verify-full', { caFile: '/etc/ca.pem' }, 'postgres://?sslmode=verify-full']);
    const requireCa = parseDatabaseUrl('postgres://h/db?sslmode=require&sslrootcert=/etc/ca.pem');
    expect([sslModeOf(requireCa), requireCa.tls]).toEqual(['verify-ca', { caFile: '/etc/ca.pem' }]);
    const system = parseDatabaseUrl('postgres://h/db?sslmode=require&sslrootcert=system');
    expect([sslModeOf(system), system.tls]).toEqual(['verify-full', 'verify-full']);
    // prefer does not verify: its root certificate is ignored, as libpq ignores it.
    expect(parseDatabaseUrl('postgres://h/db?sslrootcert=/etc/ca.pem').tls).toBe('prefer');
    const client = parseDatabaseUrl('postgres://h/db?sslmode=verify-ca&sslrootcert=/ca&sslcert=/c.pem&sslkey=/k.pem&sslpassword=kp');
    expect(client.tls).toEqual({ caFile: '/ca', certFile: '/c.pem', keyFile: '/k.pem', passphrase: 'kp' } as any);
    // Bun presents a client certificate only over TLS it insists on: prefer becomes require.
    expect(sslModeOf(parseDatabaseUrl('postgres://h/db?sslcert=/c&sslkey=/k'))).toBe('require');
    expect(parseDatabaseUrl('postgres://h/db?sslmode=disable&sslrootcert=/ca&sslcert=/c&sslkey=/k').tls).toBe('disable');
    expect(refusal('postgres://h/db?sslcert=/c')).toContain('sslcert and sslkey go together');
  });

  test('Bun resolves the produced options to the intended SSL mode and fields, whatever DATABASE_URL says', () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://envuser:envpass@envhost:9/envdb?sslmode=verify-full&max=3';
    try {
      const cases: [string, number][] = [
        ['postgres://u:p@h:1/d?sslmode=disable', 0],
        ['postgres://u:p@h:1/d', 1],
        ['postgres://u:p@h:1/d?sslmode=require', 2],
        ['postgres://u:p@h:1/d?sslmode=require&sslrootcert=/ca', 3],
        ['postgres://u:p@h:1/d?sslmode=require&sslcert=/c&sslkey=/k', 2],
        ['postgres://u:p@h:1/d?sslmode=verify-ca&sslrootcert=/ca', 3],
        ['postgres://u:p@h:1/d?sslmode=verify-full&sslrootcert=/ca', 4],
      ];
      for (const [text, sslMode] of cases) {
        const sql = new SQL(parseDatabaseUrl(text)); // connects lazily: nothing is dialled here
        const resolved = (sql as unknown as { options: Record<string, unknown> }).options;
        const seen: Record<string, unknown> = { text, ...pick(resolved, 'hostname', 'port', 'username', 'database', 'sslMode', 'max') };
        expect(seen).toEqual({
          text,
          hostname: 'h',
          port: 1,
          username: 'u',
          database: 'd',
          sslMode,
          max: 10,
        });
      }
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  test('timeouts: the settings, unless the URL names its own; other parameters are startup parameters', () => {
    const settings = { connectTimeoutMs: 5000, statementTimeoutMs: 10_000 };
    const options = parseDatabaseUrl('postgres://h/db?options=-c%20search_path%3Dapp&keepalives=1&target_session_attrs=read-write', settings);
    expect(options.connectionTimeout).toBe(5);
    expect(options.connection).toEqual({ application_name: 'artifactd', statement_timeout: '10000', options: '-c search_path=app' });
    const own = parseDatabaseUrl('postgres://h/db?connect_timeout=2&statement_timeout=300&application_name=api-1', settings);
    expect(own.connectionTimeout).toBe(2);
    expect(own.connection).toEqual({ application_name: 'api-1', statement_timeout: '300' });
    expect(parseDatabaseUrl('postgres://h/db', { connectTimeoutMs: 1500 }).connectionTimeout).toBe(2); // whole seconds, up
    expect(parseDatabaseUrl('postgres://h/db', { statementTimeoutMs: 0 }).connection.statement_timeout).toBe('0'); // 0: none
    expect(parseDatabaseUrl('postgres://h/db').connectionTimeout).toBeUndefined();
    expect(parseDatabaseUrl('postgres://h/db?channel_binding=require').channelBinding).toBe('require');
    expect(refusal('postgres://h/db?connect_timeout=soon')).toContain('invalid connect_timeout "soon"');
    expect(refusal('postgres://h/db?channel_binding=sure')).toContain('invalid channel_binding');
  });

  test('a SQLite URL: one line saying the embedded store is LMDB and --data-dir chooses where', () => {
    for (const text of ['sqlite+aiosqlite:///home/me/.prefect/prefect.db', 'sqlite:///x.db', 'SQLITE+aiosqlite:///file::memory:?cache=shared']) {
      expect(refusal(text)).toBe(SQLITE_URL_MESSAGE);
    }
    expect(SQLITE_URL_MESSAGE).toContain('LMDB');
    expect(SQLITE_URL_MESSAGE).toContain('--data-dir');
    expect(SQLITE_URL_MESSAGE).not.toContain('\n');
  });

  test('anything else is refused with a clear reason — and never with the password in it', () => {
    const cases: [string, string][] = [
      ['mysql://root:hunter22@h/db', 'artifactd stores in PostgreSQL (postgresql+asyncpg://, postgresql://, postgres://)'],
      ['postgresql+psycopg://u:hunter22@h/db', 'artifactd stores in PostgreSQL'],
      ['db.example.com:5432/prefect', 'expected postgresql://user:password@host:port/database'],
      ['postgres:hunter22@h', 'expected :// after the scheme'],
      ['postgres://u:hunter22@h1:5432,h2:5432/db', 'several hosts are not supported'],
      ['postgres://u:hunter22@h:99999/db', 'invalid port "99999"'],
      ['postgres://u:hunter22@h:x/db', 'expected host, host:port or [IPv6 address]:port'],
      ['postgres://u:hunter22@h/db/more', 'one database name'],
      ['postgres://u:hunter22@h/db?sslmode', 'expected key=value in the query'],
      ['postgres://u:hunter22@h/db?password=hunter22&password=hunter22', 'the parameter password is given twice'],
      ['postgres://u:hunter22%zz@h/db', 'bad percent-encoding in the password'],
      ['postgres://u:hunter22@h/db#frag', 'a # must be percent-encoded'],
      ['', 'expected postgresql://'],
    ];
    for (const [text, reason] of cases) {
      const message = refusal(text);
      expect(message).toContain(reason);
      expect(message).not.toContain('hunter22');
      expect(message).not.toContain('\n');
    }
  });
});

describe('redactDatabaseUrl', () => {
  test('the password becomes ***, the rest stays readable', () => {
    expect(redactDatabaseUrl('postgresql+asyncpg://prefect:s3cr%40t@db:5432/prefect?sslmode=require')).toBe(
      'postgresql+asyncpg://prefect:***@db:5432/prefect?sslmode=require',
    );
    expect(redactDatabaseUrl('postgres://u:p@ss/w?rd@db/x')).toBe('postgres://u:***@db/x');
    expect(redactDatabaseUrl('postgres://db/x?user=u&password=hunter22&sslpassword=kp&sslmode=require')).toBe(
      'postgres://db/x?user=u&password=***&sslpassword=***&sslmode=require',
    );
    expect(redactDatabaseUrl('postgres:hunter22@h/db')).toBe('postgres:***@h/db');
    for (const clean of ['postgres://u@db:5432/x', 'postgres://db:5432/x', 'postgres:///x?host=/run/pg', 'postgres://[::1]:5432/x']) {
      expect(redactDatabaseUrl(clean)).toBe(clean);
    }
  });

  test('no password survives, in any URL the parser accepts or refuses (generated)', () => {
    const secrets = ['hunter22', 'p@ss', 'a/b?c#d', 'x:y', 'pässwörd', '%41%42', 'é@/'];
    for (const secret of secrets) {
      for (const encoded of [secret, encodeURIComponent(secret)]) {
        for (const shape of ['postgres:u:{}@h/db', 'postgres://u:{}@h/db', 'postgresql+asyncpg://u:{}@h:5432/db?sslmode=require', 'postgres://h/db?password={}', 'postgres://h/db?sslpassword={}&x=1', 'postgres://u:{}@/db?host=/run']) {
          const text = shape.replace('{}', encoded);
          const redacted = redactDatabaseUrl(text);
          expect(redacted).not.toContain(encoded);
          expect(redacted).toContain('***');
          let message = '';
          try {
            parseDatabaseUrl(text);
          } catch (error) {
            message = (error as Error).message;
          }
          expect(message).not.toContain(encoded);
        }
      }
    }
  });

  test('hideDatabasePassword scrubs a driver message of the password in every spelling', () => {
    const u = 'postgres://u:p%40ss-w0rd@h/db';
    expect(hideDatabasePassword('auth failed for p@ss-w0rd (p%40ss-w0rd)', u)).toBe('auth failed for *** (***)');
    expect(hideDatabasePassword('no secret here', 'postgres://u@h/db')).toBe('no secret here');
    expect(hideDatabasePassword('bad hunter22', 'postgres://h/db?password=hunter22')).toBe('bad ***');
  });
});

describe.skipIf(url === null)('the options against a real PostgreSQL (the test cluster)', () => {
  const port = url === null ? 0 : Number(new URL(url).port);

  test('TCP and a unix socket directory connect; statement_timeout and application_name arrive', async () => {
    const db = await freshDatabase('url');
    try {
      const socketDir = await (async () => {
        const sql = new SQL(url!);
        try {
          const [row] = await sql`select current_setting('unix_socket_directories') as dir`;
          return String(row.dir);
        } finally {
          await sql.close();
        }
      })();
      for (const text of [`postgres://postgres@127.0.0.1:${port}/${db.name}`, `postgresql+asyncpg://postgres@/${db.name}?host=${socketDir}&port=${port}`]) {
        const sql = new SQL(parseDatabaseUrl(text, { statementTimeoutMs: 1234, connectTimeoutMs: 3000 }));
        try {
          const [row] = await sql`select current_database() as db, current_setting('statement_timeout') as st, current_setting('application_name') as app, inet_server_addr() is null as unix`;
          expect({ ...row, text }).toEqual({ db: db.name, st: '1234ms', app: 'artifactd', unix: text.includes('host='), text });
        } finally {
          await sql.close();
        }
      }
    } finally {
      await db.drop();
    }
  });

  test('sslmode=require is refused by a server without TLS; prefer falls back to plaintext', async () => {
    const require = new SQL(parseDatabaseUrl(`postgres://postgres@127.0.0.1:${port}/postgres?sslmode=require&connect_timeout=5`));
    const code = await require`select 1`.then(
      () => 'connected',
      (error: { code?: string }) => error.code,
    );
    await require.close();
    expect(code).toBe('ERR_POSTGRES_TLS_NOT_AVAILABLE');
    const prefer = new SQL(parseDatabaseUrl(`postgres://postgres@127.0.0.1:${port}/postgres`));
    try {
      const [row] = await prefer`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(row.ssl).toBe(false);
    } finally {
      await prefer.close();
    }
  });

  test('with TLS on: require, verify-ca and verify-full (against the CA) connect over TLS; verify-full without the CA does not', async () => {
    const tls = await enableClusterTls();
    if (tls === null) return; // no openssl here
    try {
      const over = async (text: string) => {
        const sql = new SQL(parseDatabaseUrl(text));
        try {
          const [row] = await sql`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
          return row.ssl as boolean;
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        } finally {
          await sql.close();
        }
      };
      const base = `postgres://postgres@127.0.0.1:${port}/postgres`;
      expect(await over(`${base}?sslmode=require`)).toBe(true);
      expect(await over(`${base}?sslmode=prefer`)).toBe(true);
      expect(await over(`${base}?sslmode=disable`)).toBe(false);
      expect(await over(`${base}?sslmode=verify-ca&sslrootcert=${tls.caFile}`)).toBe(true);
      expect(await over(`${base}?sslmode=require&sslrootcert=${tls.caFile}`)).toBe(true);
      expect(await over(`${base}?sslmode=verify-full&sslrootcert=${tls.caFile}`)).toBe(true);
      // The server's certificate is signed by the throwaway CA only: the system's CAs refuse it.
      expect(await over(`${base}?sslmode=verify-full`)).not.toBe(true);
      // localhost is in the certificate too.
      expect(await over(`postgres://postgres@localhost:${port}/postgres?sslmode=verify-full&sslrootcert=${tls.caFile}`)).toBe(true);
    } finally {
      await tls.dispose();
    }
  });
});

function pick(object: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, object[k]]));
}
