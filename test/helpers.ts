/**
 * Test harness: an app over a fresh store, driven through `app.handle(new Request(...))` exactly
 * as the server drives it.
 *
 *   harness(overrides)                     LMDB, synchronous: an LmdbHarness whose `store` is the
 *                                          LmdbStore itself (its internals: dbs, direct reads, the
 *                                          query thread) in the temporary directory `dir`
 *   await harness(overrides, backend)      either backend ('lmdb' | 'postgresql'): a Harness whose
 *                                          `store` is the storage contract only
 *
 * For PostgreSQL each harness gets a database of its own in the process's throwaway cluster
 * (test/postgres/cluster.ts), copied from a template migrated once. Every harness's `close()`
 * checks the store's invariants
 * (`store.check()` must be empty), closes the store and removes what it made — the directory, or
 * the database. The suites that run per backend use `describeBackends` (test/backends.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQL } from 'bun';
import { createApp, type App } from '../src/app.ts';
import { DEFAULTS, type Config } from '../src/config.ts';
import type { Store } from '../src/store/contract.ts';
import { LmdbStore } from '../src/store/lmdb/store.ts';

/** The storage backends the API tests run against. */
export type Backend = 'lmdb' | 'postgresql';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when empty). */
  body: any;
}

export interface Harness {
  backend: Backend;
  app: App;
  /** The store as the routes see it: the storage contract, whichever backend answers. */
  store: Store;
  /** The app's data dir: LMDB's store lives there; for PostgreSQL an empty directory. */
  dir: string;
  /** Sends a request; `body` objects are JSON-encoded, strings are sent as they are. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** POST /api/artifacts/ expecting 201; returns the created artifact. */
  create(artifact: Record<string, unknown>): Promise<any>;
  /** Closes after checking the store's invariants (they must hold), and removes the store. */
  close(): Promise<void>;
  /** Closes and removes the store without checking it (a test that leaves it unsound on purpose). */
  discard(): Promise<void>;
}

/** A harness over LMDB, for the tests that reach into LMDB itself. */
export interface LmdbHarness extends Harness {
  backend: 'lmdb';
  store: LmdbStore;
}

export function tempDir(prefix = 'artifactd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An LMDB harness, at once (the LMDB-only tests). */
export function harness(overrides?: Partial<Config>): LmdbHarness;
/** A harness over `backend`: `await harness({...}, backend)` in a suite of describeBackends. */
export function harness(overrides: Partial<Config> | undefined, backend: Backend): Promise<Harness>;
export function harness(overrides: Partial<Config> = {}, backend?: Backend): LmdbHarness | Promise<Harness> {
  if (backend === undefined) return lmdbHarness(overrides);
  if (backend === 'lmdb') return Promise.resolve(lmdbHarness(overrides));
  return postgresHarness(overrides);
}

function lmdbHarness(overrides: Partial<Config>): LmdbHarness {
  const dir = tempDir();
  const store = LmdbStore.open(dir);
  return assemble('lmdb', store, dir, overrides, () => rmSync(dir, { recursive: true, force: true })) as LmdbHarness;
}

type PostgresStoreClass = typeof import('../src/store/postgres/store.ts').PostgresStore;

/**
 * The store's module, imported here rather than at the top of this file, so that the LMDB suites
 * run while it is missing or broken; then every PostgreSQL variant fails with the import's error
 * (never a silent skip).
 */
async function postgresStoreClass(): Promise<PostgresStoreClass> {
  try {
    return (await import('../src/store/postgres/store.ts')).PostgresStore;
  } catch (error) {
    throw new Error(`the PostgreSQL harness cannot load src/store/postgres/store.ts: ${(error as Error).stack ?? error}`);
  }
}

/**
 * Databases for the PostgreSQL harnesses: each a copy of one template database that this process
 * migrated once (`CREATE DATABASE … TEMPLATE`), because migrating every test's database would
 * cost more than most tests. Dropped in the background, one after another, after their test.
 */
interface Databases {
  admin: SQL;
  template: string;
  base: string;
  /** ` STRATEGY FILE_COPY` where the server has it (15+): faster than WAL_LOG for a small database. */
  strategy: string;
  made: number;
  drops: Promise<void>;
}
let databases: Promise<Databases> | undefined;

function postgresDatabases(PostgresStore: PostgresStoreClass): Promise<Databases> {
  databases ??= (async () => {
    const { freshDatabase, testDatabaseUrl } = await import('./postgres/cluster.ts');
    const url = await testDatabaseUrl();
    if (url === null) throw new Error('the PostgreSQL harness needs PostgreSQL: there is none on this machine');
    const template = await freshDatabase('api_template');
    const migrated = await PostgresStore.open(template.url);
    await migrated.close();
    const admin = new SQL(url, { max: 2 });
    const [{ version }] = await admin`select current_setting('server_version_num')::int as version`;
    const strategy = version >= 150000 ? ' STRATEGY FILE_COPY' : '';
    return { admin, template: template.name, base: template.url.slice(0, template.url.lastIndexOf('/') + 1), strategy, made: 0, drops: Promise.resolve() };
  })();
  // A failed setup is tried again by the next harness (and fails that test too).
  databases.catch(() => (databases = undefined));
  return databases;
}

/** A PostgreSQL harness: a fresh, migrated database of its own and `PostgresStore.open` on it. */
async function postgresHarness(overrides: Partial<Config>): Promise<Harness> {
  const PostgresStore = await postgresStoreClass();
  const dbs = await postgresDatabases(PostgresStore);
  const name = `api_${process.pid}_${++dbs.made}`;
  await dbs.admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${dbs.template}"${dbs.strategy}`);
  const drop = () => {
    dbs.drops = dbs.drops.then(() => dbs.admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
      () => {},
      (error) => console.warn(`test database ${name} not dropped: ${error}`),
    );
  };
  const dir = tempDir();
  let store: Store;
  try {
    store = await PostgresStore.open(`${dbs.base}${name}`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    drop();
    throw error;
  }
  return assemble('postgresql', store, dir, overrides, () => {
    rmSync(dir, { recursive: true, force: true });
    drop();
  });
}

function assemble(backend: Backend, store: Store, dir: string, overrides: Partial<Config>, remove: () => void | Promise<void>): Harness {
  const app = createApp(store, { ...DEFAULTS, dataDir: dir, ...overrides });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const response = await app.handle(new Request(`http://127.0.0.1${path}`, init));
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  let closed = false;
  const shut = async (check: boolean): Promise<string[]> => {
    if (closed) return [];
    closed = true;
    try {
      await app.close();
      return check ? await store.check() : [];
    } finally {
      try {
        await store.close();
      } finally {
        await remove();
      }
    }
  };
  return {
    backend,
    app,
    store,
    dir,
    call,
    async create(artifact) {
      const reply = await call('POST', '/api/artifacts/', artifact);
      if (reply.status !== 201) throw new Error(`create failed: ${reply.status} ${reply.text}`);
      return reply.body;
    },
    /** Closes the store after checking its invariants: every test ends on a sound store. */
    async close() {
      const findings = await shut(true);
      if (findings.length > 0) throw new Error(`store invariants broken after the test (${backend}):\n${findings.join('\n')}`);
    },
    async discard() {
      await shut(false);
    },
  };
}
