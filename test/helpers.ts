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
 * (test/postgres/cluster.ts). Every harness's `close()` checks the store's invariants
 * (`store.check()` must be empty), closes the store and removes what it made — the directory, or
 * the database. The suites that run per backend use `describeBackends` (test/backends.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * A PostgreSQL harness: a fresh database and `PostgresStore.open` on it. The store's module is
 * imported here, not at the top of this file, so that the LMDB suites run while it is missing or
 * broken; then every PostgreSQL variant fails with the import's error (never a silent skip).
 */
async function postgresHarness(overrides: Partial<Config>): Promise<Harness> {
  let PostgresStore: typeof import('../src/store/postgres/store.ts').PostgresStore;
  try {
    ({ PostgresStore } = await import('../src/store/postgres/store.ts'));
  } catch (error) {
    throw new Error(`the PostgreSQL harness cannot load src/store/postgres/store.ts: ${(error as Error).stack ?? error}`);
  }
  const { freshDatabase } = await import('./postgres/cluster.ts');
  const database = await freshDatabase('api');
  const dir = tempDir();
  let store: Store;
  try {
    store = await PostgresStore.open(database.url);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
    throw error;
  }
  return assemble('postgresql', store, dir, overrides, async () => {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
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
