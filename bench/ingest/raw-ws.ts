/**
 * A minimal RFC 6455 client for the events bench: one TCP connection, the upgrade (offering
 * permessage-deflate as Prefect's Python client does: `permessage-deflate; client_max_window_bits`),
 * and frames built before the clock starts — masked, and compressed (each message on its own,
 * RSV1) when the server negotiated permessage-deflate — so that during the measurement the client
 * only writes bytes and reads pongs. It answers the server's pings and reads (and drops) whatever
 * else the server sends.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { constants as zlib, deflateRawSync } from 'node:zlib';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface RawSocket {
  extensions: string;
  deflate: boolean;
  /** A complete frame for one text message (masked; compressed when negotiated). */
  textFrame(text: string): Buffer;
  write(bytes: Buffer): void;
  /** Sends a ping and resolves on its pong. */
  ping(timeoutMs?: number): Promise<void>;
  close(code?: number): Promise<void>;
  /** Why it ended, when the server closed it first. */
  ended: string | null;
}

function header(opcode: number, rsv1: boolean, length: number): Buffer {
  const b0 = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) return Buffer.from([b0, 0x80 | length]);
  if (length < 65536) {
    const h = Buffer.alloc(4);
    h[0] = b0;
    h[1] = 0x80 | 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = b0;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

function frame(opcode: number, payload: Buffer, rsv1 = false): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([header(opcode, rsv1, payload.length), mask, out]);
}

export function openRawSocket(url: string, { deflate = true, timeoutMs = 10_000 }: { deflate?: boolean; timeoutMs?: number } = {}): Promise<RawSocket> {
  const u = new URL(url);
  const socket: Socket = connect({ host: u.hostname, port: Number(u.port) });
  socket.setNoDelay(true);
  const key = randomBytes(16).toString('base64');
  const request =
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\n` +
    `sec-websocket-version: 13\r\n${deflate ? 'sec-websocket-extensions: permessage-deflate; client_max_window_bits\r\n' : ''}user-agent: Python/3.11 websockets/15.0.1\r\n\r\n`;
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${url}: no answer to the upgrade in ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`${url}: ${why}`));
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      clearTimeout(timer);
      const head = received.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      if (status !== 101) return fail(`upgrade answered ${status}: ${received.subarray(end + 4).toString('utf8').slice(0, 200)}`);
      if (headers['sec-websocket-accept'] !== createHash('sha1').update(key + GUID).digest('base64')) return fail('bad sec-websocket-accept');
      const extensions = headers['sec-websocket-extensions'] ?? '';
      const negotiated = /(^|,)\s*permessage-deflate/i.test(extensions);
      const bits = Number(/client_max_window_bits\s*=\s*"?(\d+)/i.exec(extensions)?.[1] ?? 15);
      resolve(session(socket, received.subarray(end + 4), extensions, negotiated, Math.max(9, Math.min(15, bits))));
    };
    socket.on('data', onData);
    socket.once('error', (e) => fail(String(e)));
    socket.once('connect', () => socket.write(request));
  });
}

function session(socket: Socket, initial: Buffer, extensions: string, deflate: boolean, windowBits: number): RawSocket {
  let buffer = initial;
  const pongs: (() => void)[] = [];
  let closed: (() => void) | null = null;
  let closing = false;
  const ws: RawSocket = {
    extensions,
    deflate,
    ended: null,
    textFrame(text) {
      const payload = Buffer.from(text);
      if (!deflate) return frame(0x1, payload);
      const d = deflateRawSync(payload, { windowBits, finishFlush: zlib.Z_SYNC_FLUSH });
      return frame(0x1, d.subarray(d.length - 4).equals(TAIL) ? d.subarray(0, d.length - 4) : d, true);
    },
    write(bytes) {
      socket.write(bytes);
    },
    ping(timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        if (ws.ended) return reject(new Error(`socket ended: ${ws.ended}`));
        const timer = setTimeout(() => reject(new Error(`no pong within ${timeoutMs / 1000} s`)), timeoutMs);
        pongs.push(() => {
          clearTimeout(timer);
          resolve();
        });
        socket.write(frame(0x9, randomBytes(4)));
      });
    },
    close(code = 1000) {
      return new Promise<void>((resolve) => {
        if (ws.ended) return resolve();
        closing = true;
        const timer = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 5_000);
        closed = () => {
          clearTimeout(timer);
          socket.end();
          resolve();
        };
        const payload = Buffer.alloc(2);
        payload.writeUInt16BE(code, 0);
        socket.write(frame(0x8, payload));
      });
    },
  };
  const receive = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer[1] & 0x80) offset += 4; // servers don't mask; skip a key if one did
      if (buffer.length < offset + length) return;
      const payload = buffer.subarray(offset, offset + length);
      buffer = buffer.subarray(offset + length);
      if (opcode === 0xa) pongs.shift()?.();
      else if (opcode === 0x9) socket.write(frame(0xa, Buffer.from(payload)));
      else if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (closed) closed();
        else {
          ws.ended = `server closed ${code} ${payload.subarray(2).toString('utf8')}`;
          socket.end();
        }
      }
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    receive();
  });
  // Once we started closing, the connection ending is the close we asked for, not a drop.
  socket.on('close', () => {
    if (!closing) ws.ended ??= 'connection closed';
    closed?.();
  });
  socket.on('error', (e) => {
    if (!closing) ws.ended ??= String(e);
  });
  if (buffer.length) receive();
  return ws;
}
