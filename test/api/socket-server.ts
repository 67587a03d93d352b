/**
 * What the websocket tests need: a real listening server (`startServer`, loopback, port 0) over
 * either backend, and a websocket client that speaks Prefect's `/api/events/in` protocol — open
 * with or without the `prefect` subprotocol, send events, checkpoint with a ping and wait for its
 * pong, see how the server ended the connection (a close frame's code, or 1006 without one).
 *
 *   const server = await startSocketServer(backend, { authString: 'u:p' });
 *   const socket = await EventSocket.open(server.eventsIn, { protocols: ['prefect'] });
 *   socket.send(event); await socket.checkpoint();
 *   await server.stop();
 */
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { DEFAULTS, type Config } from '../../src/config.ts';
import type { Logger } from '../../src/observe/log.ts';
import type { Store } from '../../src/store/contract.ts';
import { tempDir, type Backend } from '../helpers.ts';

export interface SocketServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT/api/events/in` */
  eventsIn: string;
  dir: string;
  /** The warnings and errors the server logged. */
  warnings: string[];
  /** A JSON call to `/api…` (with the server's basic auth, when it has one). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Polls `check` until it holds (bounded: 10 s), so writes that trail the frames are waited for. */
  until<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T>;
  /** Stops the server (it closes the store); removes the data dir (unless kept) or drops the database. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

function capturingLogger(lines: string[]): Logger {
  const keep = (message: string) => void lines.push(message);
  return {
    logsRequests: false,
    request() {},
    debug() {},
    info() {},
    warning: keep,
    error: keep,
    announce() {},
    flush: async () => {},
  };
}

export async function startSocketServer(backend: Backend, overrides: Partial<Config> = {}): Promise<SocketServer> {
  const dir = tempDir('artifactd-ws-');
  // Events of the recordings are months old by the time a later run replays them: no retention here.
  const config: Config = { ...DEFAULTS, host: '127.0.0.1', port: 0, dataDir: dir, eventRetentionMs: null, ...overrides };
  let store: Store | undefined;
  let drop = async () => {};
  if (backend === 'postgresql') {
    const { freshDatabase } = await import('../postgres/cluster.ts');
    const { PostgresStore } = await import('../../src/store/postgres/store.ts');
    const db = await freshDatabase('events_in');
    store = await PostgresStore.open(db.url);
    drop = db.drop;
  }
  const warnings: string[] = [];
  const running: RunningServer = startServer(config, capturingLogger(warnings), store);
  const auth: Record<string, string> = config.authString ? { authorization: `Basic ${Buffer.from(config.authString).toString('base64')}` } : {};
  return {
    url: running.url,
    eventsIn: `${running.url.replace(/^http/, 'ws')}/api/events/in`,
    dir,
    warnings,
    async api(method, path, body) {
      const response = await fetch(`${running.url}/api${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...auth },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    },
    async until(read, check) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const value = await read();
        if (check(value) || Date.now() > deadline) return value;
        await Bun.sleep(20);
      }
    },
    async stop(options = {}) {
      await running.stop();
      if (options.keepData) return;
      rmSync(dir, { recursive: true, force: true });
      await drop();
    },
  };
}

export interface SocketOptions {
  protocols?: string[];
  headers?: Record<string, string>;
  /** Offer permessage-deflate (Bun's client does by default, as Python's websockets does). */
  deflate?: boolean;
}

/** A websocket client of `/api/events/in`. */
export class EventSocket {
  /** Text messages the server sent. */
  readonly messages: string[] = [];
  /** How the connection ended: the close frame's code and reason (1006 when there was none). */
  readonly ended: Promise<{ code: number; reason: string }>;
  private pongs = new Map<string, () => void>();
  private nextPing = 0;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (e) => this.messages.push(String(e.data)));
    ws.addEventListener('pong', (e: any) => {
      const key = Buffer.from(e.data).toString('hex');
      this.pongs.get(key)?.();
      this.pongs.delete(key);
    });
    this.ended = new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })));
  }

  /** Opens a connection; rejects when the server refuses the upgrade or closes before it opens. */
  static open(url: string, options: SocketOptions = {}): Promise<EventSocket> {
    const ws = new WebSocket(url, { protocols: options.protocols, headers: options.headers, perMessageDeflate: options.deflate ?? true } as any);
    const socket = new EventSocket(ws);
    return new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(socket), { once: true });
      ws.addEventListener('error', (e: any) => reject(new Error(`websocket refused: ${e.message ?? 'error'}`)), { once: true });
    });
  }

  /** Opens with the `prefect` subprotocol and completes the auth handshake (token: the auth string). */
  static async authenticated(url: string, token: string | null = null, options: SocketOptions = {}): Promise<EventSocket> {
    const socket = await EventSocket.open(url, { ...options, protocols: ['prefect'] });
    socket.send({ type: 'auth', token });
    const reply = await socket.nextMessage();
    if (reply !== '{"type":"auth_success"}') throw new Error(`auth failed: ${reply}`);
    return socket;
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get extensions(): string {
    return this.ws.extensions;
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The next text message (bounded wait: 5 s), or `closed` if the connection ends first. */
  async nextMessage(): Promise<string> {
    const seen = this.messages.length;
    const deadline = Date.now() + 5000;
    while (this.messages.length === seen && this.ws.readyState === WebSocket.OPEN && Date.now() < deadline) await Bun.sleep(5);
    return this.messages[seen] ?? 'closed';
  }

  /** A ping with a fresh payload, resolved by the pong that echoes it (as Prefect's client checkpoints). */
  checkpoint(): Promise<void> {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(++this.nextPing);
    const key = payload.toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no pong within 10 s')), 10_000);
      this.pongs.set(key, () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.ping(payload);
    });
  }

  /** Closes with `code` and waits for the server's answer. */
  async close(code = 1000): Promise<{ code: number; reason: string }> {
    this.ws.close(code);
    return this.ended;
  }
}

/** The status line and headers of a raw upgrade request (what a refused upgrade answers). */
export function rawUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  const lines = [
    `GET ${pathname} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    const done = () => {
      socket.destroy();
      const at = text.indexOf('\r\n\r\n');
      const head = at < 0 ? text : text.slice(0, at);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head, body: at < 0 ? '' : text.slice(at + 4) });
    };
    socket.on('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      if (at < 0) return;
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, at));
      if (text.startsWith('HTTP/1.1 101') || (length !== null && text.length >= at + 4 + Number(length[1]))) done();
    });
    socket.on('end', done);
    socket.on('error', reject);
  });
}
