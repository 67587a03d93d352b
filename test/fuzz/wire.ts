/**
 * The raw side of the fuzz suite: a minimal HTTP/1.1 client over `node:net` (bytes in, parsed
 * responses out) and a live server started with `startServer`, seeded like the in-process target.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { DEFAULTS, type Config } from '../../src/config.ts';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import type { Harness } from '../helpers.ts';
import { bodyText, seedWorld, type Reply, type Stats, type World } from './support.ts';

// ── A raw HTTP/1.1 client ─────────────────────────────────────────────────────────────────────

export interface RawResponse {
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export interface Exchange {
  responses: RawResponse[];
  /** The server closed the connection (rather than the client timing out). */
  closed: boolean;
  raw: Buffer;
}

/** Writes `bytes`, optionally half-closes, and reads until the server closes or `timeoutMs`. */
export function exchange(port: number, bytes: Buffer, { halfClose = true, timeoutMs = 3000, head = false } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ responses: parseResponses(raw, head), closed, raw });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** Splits a byte stream into responses (1xx interim answers dropped; the first may be a HEAD's). */
export function parseResponses(raw: Buffer, firstIsHead: boolean): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = raw.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/\d\.\d (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!m) break;
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const status = Number(m[1]);
    at = end + 4;
    if (status < 200) continue;
    let body: Buffer;
    if (firstIsHead && out.length === 0) body = Buffer.alloc(0);
    else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', at);
        if (lineEnd < 0) break;
        const size = parseInt(raw.subarray(at, lineEnd).toString('latin1'), 16);
        at = lineEnd + 2;
        if (!(size > 0)) {
          at += 2;
          break;
        }
        parts.push(raw.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers.has('content-length')) {
      const n = Number(headers.get('content-length'));
      body = raw.subarray(at, at + n);
      at += n;
    } else {
      body = raw.subarray(at);
      at = raw.length;
    }
    out.push({ status, reason: m[2], headers, body });
  }
  return out;
}

export const toReply = (r: RawResponse): Reply => ({ status: r.status, headers: r.headers, text: bodyText(r.headers, new Uint8Array(r.body)) });

// ── The server under test ────────────────────────────────────────────────────────────────────

export async function callOverHttp(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(url + path, init);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed as any };
}

/** Errors that escaped `app.handle` on a live server (each one was answered with a 500). */
export const escaped: string[] = [];

/**
 * Starts a server whose `Bun.serve` has an `error` hook. `startServer` sets none, so an exception
 * escaping `app.handle` gets Bun's default 500 and is also raised in the test runner, out of band,
 * where fast-check cannot see or shrink it. The hook answers the same 500 (in Prefect's shape,
 * so the oracle reports it as "server error 500" with the request) and keeps the error text.
 */
export function withErrorHook<T>(start: () => T): T {
  const original = Bun.serve;
  (Bun as any).serve = (options: Parameters<typeof Bun.serve>[0]) =>
    original({
      ...options,
      error(error: Error) {
        escaped.push(String(error));
        return new Response('{"exception_message":"Internal Server Error"}', { status: 500, headers: { 'content-type': 'application/json' } });
      },
    } as any);
  try {
    return start();
  } finally {
    (Bun as any).serve = original;
  }
}

export class LiveServer {
  server!: RunningServer;
  dir!: string;
  port = 0;
  /** A second handle on the server's LMDB environment, for the invariant check between runs. */
  side!: Store;
  world!: World;
  private runs = 0;

  constructor(
    readonly stats: Stats,
    readonly config: Partial<Config> = {},
  ) {}

  async open() {
    this.dir = mkdtempSync(join(tmpdir(), 'artifactd-fuzz-'));
    this.server = withErrorHook(() => startServer({ ...DEFAULTS, port: 0, dataDir: this.dir, ...this.config }));
    this.port = Number(new URL(this.server.url).port);
    this.side = Store.open(this.dir);
    const call = (m: string, p: string, b?: unknown, h?: Record<string, string>) => callOverHttp(this.server.url, m, p, b, h);
    this.world = await seedWorld({ call } as unknown as Harness);
    this.runs = 0;
  }

  /** Stops the server and checks the store it leaves behind. */
  async close(): Promise<string[]> {
    await this.side.close();
    await this.server.stop();
    const store = Store.open(this.dir);
    const findings = store.check();
    await store.close();
    rmSync(this.dir, { recursive: true, force: true });
    return findings;
  }

  /** Set once a failure left the store unsound: it is replaced without another report. */
  broken = false;

  async rotateEvery(n: number) {
    if (this.broken || ++this.runs > n) {
      const findings = await this.close();
      if (findings.length > 0 && !this.broken) throw new Error(`store invariants broken at rotation: ${findings.slice(0, 5).join('\n')}`);
      this.broken = false;
      await this.open();
      this.runs = 1;
    }
  }

  async health(): Promise<string | undefined> {
    this.stats.requests++;
    const ex = await exchange(this.port, Buffer.from(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nConnection: close\r\n\r\n`));
    const r = ex.responses[0];
    if (!r || r.status !== 200 || r.body.toString() !== 'true') return `GET /api/health answered ${r ? `${r.status} ${r.body}` : 'nothing'}`;
    return undefined;
  }
}

