/**
 * The events bench's load client, in a process of its own (so its CPU is its own): `sockets`
 * websockets to `/api/events/in`, each sending `perSocket` Prefect events (events-data.ts) the
 * way Prefect's client does — legacy mode (no subprotocol), a ping answered by a pong after
 * connecting, then one Event per text frame and a ping/pong checkpoint every `checkpoint`
 * events — bounded: every socket sends its events and stops.
 *
 *   bun bench/ingest/ws-client.ts CONFIG.json      # prints {"phase":"sending"}, "sent", "stored", then the result
 *
 * Timed from the first frame sent to the last checkpoint's pong on every socket. A pong says
 * the server read the frames before the ping, not that it stored them, so then it asks the
 * server (`POST /api/events/filter`, `total`) whether it holds the last event of every socket —
 * events are written in arrival order — every 10 ms, then counts the round's `occurred` window,
 * which must hold every event sent (asked again every 200 ms until it does, or
 * `storedTimeoutSeconds`): "stored" is the time from the first frame to that answer. Frames are built before the clock
 * starts, so the client spends its time sending.
 */
import { readFileSync } from 'node:fs';
import { formatMicros } from '../../src/time.ts';
import { eventFrames, type RunContext } from './events-data.ts';
import { prng } from './logs-data.ts';
import { openRawSocket } from './raw-ws.ts';

export interface WsClientConfig {
  /** ws://127.0.0.1:PORT/api/events/in */
  wsUrl: string;
  /** http://127.0.0.1:PORT (events/filter for the stored count) */
  httpUrl: string;
  sockets: number;
  perSocket: number;
  checkpoint: number;
  /** one per socket, cycled */
  runs: RunContext[];
  /** offer permessage-deflate, as Prefect's Python client (websockets) does */
  deflate: boolean;
  /**
   * `raw`: raw-ws.ts, frames built (masked, compressed) before the clock starts, so the client
   * costs little while it runs; `bun`: Bun's WebSocket, which frames and compresses as it sends.
   */
  client: 'raw' | 'bun';
  /** the round's events occur at or after this (µs), so rounds never share a window */
  notBefore: number;
  seed: number;
  storedTimeoutSeconds: number;
}

/** One websocket as the run drives it, over Bun's client or the raw one (raw-ws.ts). */
interface Conn {
  extensions: string;
  protocol: string;
  /** The frames in batches of `checkpoint`, as they will be sent (built, masked, compressed now). */
  prepare(frames: string[], checkpoint: number): Batch[];
  send(batch: Batch): void;
  /** A ping, resolved on its pong (60 s at most). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
  /** Set when the server closed or dropped the connection first. */
  ended(): string | null;
}
type Batch = { count: number; frames?: string[]; bytes?: Buffer };

/** Prefect's client through Bun's WebSocket (it frames, masks and compresses each message as it is sent). */
function openBun(c: WsClientConfig, errors: string[]): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const ws = new WebSocket(c.wsUrl, { perMessageDeflate: c.deflate });
    ws.binaryType = 'arraybuffer';
    let ended: string | null = null;
    const pongs: (() => void)[] = [];
    let closed: (() => void) | null = null;
    ws.addEventListener('pong', () => pongs.shift()?.());
    ws.addEventListener('error', (e) => reject(new Error(`websocket ${c.wsUrl}: ${(e as ErrorEvent).message ?? 'error'}`)), { once: true });
    ws.addEventListener('close', (e) => {
      if (closed) closed();
      else ended = `server closed ${e.code} ${e.reason}`;
      if (e.code !== 1000) errors.push(`socket closed ${e.code} ${e.reason}`);
    });
    ws.addEventListener(
      'open',
      () =>
        resolve({
          extensions: ws.extensions,
          protocol: ws.protocol,
          prepare: (frames, n) => Array.from({ length: Math.ceil(frames.length / n) }, (_, k) => ({ count: Math.min(n, frames.length - k * n), frames: frames.slice(k * n, (k + 1) * n) })),
          send: (batch) => {
            for (const f of batch.frames!) ws.send(f);
          },
          checkpoint: () =>
            new Promise<void>((res, rej) => {
              if (ws.readyState !== WebSocket.OPEN) return rej(new Error(`socket not open (readyState ${ws.readyState}) at a checkpoint`));
              const timer = setTimeout(() => rej(new Error('no pong within 60 s')), 60_000);
              pongs.push(() => {
                clearTimeout(timer);
                res();
              });
              ws.ping();
            }),
          close: () =>
            new Promise<void>((res) => {
              if (ws.readyState !== WebSocket.OPEN) return res();
              closed = res;
              ws.close(1000);
            }),
          ended: () => ended,
        }),
      { once: true },
    );
  });
}

/** The raw client (raw-ws.ts): frames built in advance, each checkpoint's batch one write. */
async function openRaw(c: WsClientConfig): Promise<Conn> {
  const ws = await openRawSocket(c.wsUrl, { deflate: c.deflate });
  return {
    extensions: ws.extensions,
    protocol: '',
    prepare: (frames, n) =>
      Array.from({ length: Math.ceil(frames.length / n) }, (_, k) => ({ count: Math.min(n, frames.length - k * n), bytes: Buffer.concat(frames.slice(k * n, (k + 1) * n).map((f) => ws.textFrame(f))) })),
    send: (batch) => ws.write(batch.bytes!),
    checkpoint: () => ws.ping(),
    close: () => ws.close(1000),
    ended: () => ws.ended,
  };
}

export interface WsClientResult {
  sent: number;
  bytes: number;
  /** ms from the first frame to the last socket's last pong */
  pongMs: number;
  /** ms from the first frame until the server held every event (undefined: never, within the timeout) */
  storedMs?: number;
  /** the server's count of this round's events when the client stopped asking */
  stored: number;
  /** the round's `occurred` window (µs) */
  since: number;
  until: number;
  /** per checkpoint: ms from its ping to its pong (all sockets) */
  checkpointP50Ms: number;
  checkpointP99Ms: number;
  extensions: string;
  protocol: string;
  /** the client's own CPU over the send window, in cores */
  clientCores: number;
  errors: string[];
}

const STEP_US = 50;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** How many events `POST /api/events/filter` finds in `[since, until]` (and among `ids`, when given). */
async function storedCount(httpUrl: string, since: number, until: number, ids?: string[]): Promise<number> {
  const filter = { occurred: { since: formatMicros(since), until: formatMicros(until) }, ...(ids ? { id: { id: ids } } : {}) };
  const res = await fetch(`${httpUrl}/api/events/filter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filter, limit: 1 }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`events/filter answered ${res.status}: ${text.slice(0, 200)}`);
  const total = (JSON.parse(text) as { total?: number }).total;
  if (typeof total !== 'number') throw new Error(`events/filter's answer has no total: ${text.slice(0, 200)}`);
  return total;
}

export async function runClient(c: WsClientConfig, hooks: { sending?(): void; sent?(): void; stored?(): void } = {}): Promise<WsClientResult> {
  const errors: string[] = [];
  const span = c.perSocket * STEP_US;
  const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const since = Math.max(now - span - 1000, c.notBefore);
  const rand = prng(c.seed);
  const frames = Array.from({ length: c.sockets }, (_, s) =>
    // Sockets interleave in time: socket s's events at since + s, + s + STEP, …
    eventFrames(c.runs[s % c.runs.length], c.perSocket, since + s, STEP_US, rand, () => crypto.randomUUID()),
  );
  const until = since + c.sockets + (c.perSocket + 1) * STEP_US;
  const bytes = frames.reduce((sum, f) => sum + f.reduce((s, x) => s + Buffer.byteLength(x), 0), 0);

  // Open every socket, then the ping/pong the client sends after connecting.
  const sockets: Conn[] = await Promise.all(Array.from({ length: c.sockets }, () => (c.client === 'bun' ? openBun(c, errors) : openRaw(c))));
  await Promise.all(sockets.map((ws) => ws.checkpoint()));
  // Everything the sockets will send, ready before the clock starts: per checkpoint, the frames.
  const batches = sockets.map((ws, s) => ws.prepare(frames[s], c.checkpoint));

  const waits: number[] = [];
  hooks.sending?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(
    sockets.map(async (ws, s) => {
      for (const batch of batches[s]) {
        ws.send(batch);
        sent += batch.count;
        const p0 = performance.now();
        await ws.checkpoint();
        waits.push(performance.now() - p0);
      }
    }),
  ).catch((error: Error) => errors.push(error.message));
  const pongMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  hooks.sent?.();
  const clientCores = (cpu.user + cpu.system) / 1000 / pongMs;

  // Stored? The server writes events in the order they arrived (one intake, one writer), so the
  // round is stored once the last event of every socket is: asked by id every 10 ms (cheap — a
  // count of the whole window every few ms would load the server it measures). Then one count
  // of the whole window must find every event; if it does not yet, it is asked again every
  // 200 ms and the clock stops when it does.
  const lastIds = frames.map((f) => (JSON.parse(f[f.length - 1]) as { id: string }).id);
  let stored = 0;
  let storedMs: number | undefined;
  const deadline = performance.now() + c.storedTimeoutSeconds * 1000;
  try {
    while ((await storedCount(c.httpUrl, since, until, lastIds)) < lastIds.length && performance.now() < deadline) await Bun.sleep(10);
    let at = performance.now() - t0;
    for (;;) {
      stored = await storedCount(c.httpUrl, since, until);
      if (stored >= sent) {
        storedMs = at;
        break;
      }
      if (performance.now() > deadline) break;
      await Bun.sleep(200);
      at = performance.now() - t0;
    }
  } catch (error) {
    errors.push((error as Error).message);
  }
  hooks.stored?.();
  const extensions = sockets[0]?.extensions ?? '';
  const protocol = sockets[0]?.protocol ?? '';
  await Promise.all(sockets.map((ws) => ws.close()));
  for (const ws of sockets) if (ws.ended()) errors.push(ws.ended()!);
  waits.sort((a, b) => a - b);
  return {
    sent,
    bytes,
    pongMs,
    storedMs,
    stored,
    since,
    until,
    checkpointP50Ms: quantile(waits, 0.5),
    checkpointP99Ms: quantile(waits, 0.99),
    extensions,
    protocol,
    clientCores,
    errors: [...new Set(errors)].slice(0, 10),
  };
}

if (import.meta.main) {
  const config = JSON.parse(readFileSync(process.argv[2], 'utf8')) as WsClientConfig;
  try {
    // The parent measures the server's CPU between these two lines.
    const result = await runClient(config, {
      sending: () => console.log('{"phase":"sending"}'),
      sent: () => console.log('{"phase":"sent"}'),
      stored: () => console.log('{"phase":"stored"}'),
    });
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (error) {
    console.log(JSON.stringify({ fatal: (error as Error).message }));
    process.exit(1);
  }
}
