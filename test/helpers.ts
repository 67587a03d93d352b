/**
 * Test harness: an app over a fresh store in a temporary directory, driven through
 * `app.handle(new Request(...))` exactly as the server drives it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../src/app.ts';
import { DEFAULTS, type Config } from '../src/config.ts';
import { LmdbStore as Store } from '../src/store/lmdb/store.ts';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (undefined when empty). */
  body: any;
}

export interface Harness {
  app: App;
  store: Store;
  dir: string;
  /** Sends a request; `body` objects are JSON-encoded, strings are sent as they are. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** POST /api/artifacts/ expecting 201; returns the created artifact. */
  create(artifact: Record<string, unknown>): Promise<any>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'artifactd-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function harness(overrides: Partial<Config> = {}): Harness {
  const dir = tempDir();
  const store = Store.open(dir);
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
  return {
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
      await app.close();
      const findings = store.check();
      await store.close();
      if (findings.length > 0) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`store invariants broken after the test:\n${findings.join('\n')}`);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
