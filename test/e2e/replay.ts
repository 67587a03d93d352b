/**
 * Replays the client side of a recorded Prefect flow run against a running server.
 *
 *   import { replay } from './replay.ts';
 *   const summary = await replay(`${RECORDINGS}/prefect-3.1.4__prefect-3.0.0-server__f2.jsonl`, 'http://127.0.0.1:4200');
 *   summary.topLevelFlowRun;        // { id, name, finalState: 'COMPLETED', … } on our server
 *   summary.exchanges;              // every HTTP exchange: recorded status beside ours
 *   summary.websockets;             // each `/api/events/in` session: handshake, pongs, auth, close
 *
 * The recordings are the `*.jsonl` files of shared/spec/reference/flow-runs (see its README):
 * a `meta` line, then `http` exchanges and `ws` frames in the order a reverse proxy saw them.
 * `replay` plays them in `seq` order, one at a time (requests the client had in flight on
 * different connections at once are sent one after the other; nothing in these flows depends on
 * the overlap):
 *
 * - HTTP: method, path and body as recorded; of the headers the ones a server may look at
 *   (`user-agent`, `accept`, `accept-encoding`, `x-prefect-*`, and `content-type` exactly as
 *   recorded — including its absence on 3.0.x/3.1.x's `POST /api/task_runs/`, whose JSON body
 *   Prefect 3.0.0 parsed anyway). The body goes out as bytes, so fetch adds no Content-Type.
 * - Websockets (`GET /api/events/in` upgrades): over a raw TCP socket, so the upgrade carries the
 *   recorded `sec-websocket-protocol`, `sec-websocket-extensions` and user agent and the client
 *   frames go out as the client sent them: pings with their payloads (waiting for the pong, as
 *   the client does), text frames (compressed with permessage-deflate when the recording says
 *   so and the server negotiated it), the 3.8.3 `{"type":"auth"}` message (then the reply is
 *   awaited: the client requires `{"type":"auth_success"}`), and close 1000. Every frame the
 *   recording shows from the server (pong, auth_success, close) is waited for, up to `timeoutMs`,
 *   and what came is kept in the summary.
 * - Ids: our server assigns other ids than the recorded server did. Each 2xx answer with an `id`
 *   (POST /api/flows/, /api/flow_runs/, /api/task_runs/, /api/artifacts/) teaches the pair
 *   recorded id → our id, and from then on every UUID in paths, header values, bodies and
 *   websocket frames is rewritten through that map (textually, so `prefect.flow-run.<id>`
 *   resource ids and `flow_run_id` fields alike). Ids the client made itself (task runs and
 *   events, 3.8.3's UUIDv7s, CSRF client ids) stay as they are, unless `freshClientIds`.
 *   Flow-run names work the same way (the server names runs: `nimble-seal` in the recording is
 *   our run's name in later log messages and event labels), unless `renameRuns: false`.
 * - Time: nothing is shifted by default (events carry their own `occurred`, logs their
 *   `timestamp`; the server stamps what it does now). `timeShift: 'now'` moves every timestamp
 *   the client sends by whole seconds so that the latest one is just before the replay started
 *   (what a screenshot of "a recent run" wants); a number shifts by that many milliseconds.
 * - Pace: as fast as possible by default; `pace: 1` waits for each step's recorded time `t`
 *   (`2` twice as fast), so the runs' durations look like the recording's.
 *
 * Which recordings are "client generations" to replay. The 3.0.11 and 3.1.4 files (against
 * Prefect 3.0.0) are complete and the answers in them are Prefect's. Of 3.8.3 there are only
 * client-side recordings against artifactd; the `artifactd-with-stand-ins` pair is the 3.8.3
 * generation: there a recording proxy answered, as a Prefect 3.8.3 server does, where artifactd
 * then answered 404 (events/in, logs, increment-with-lease), so the traffic after those calls —
 * the events, the logs, the sub-flow — is what 3.8.3 sends to a server that works. The plain
 * `artifactd` 3.8.3 files record the client's reaction to an older artifactd's 404s: f lost its
 * events (the upgrade got 404, so no frame exists to replay) and f2 failed its tagged task on
 * the 404 of increment-with-lease and set the flow FAILED — traffic a client does not send to a
 * working server. The acceptance test (flow-replay.test.ts) therefore replays the six
 * 3.0.11/3.1.4/3.8.3-with-stand-ins files. `replay` still plays the other two (a 404-era
 * upgrade is tried as recorded and, if our server accepts it, closed 1000 at the end); the plain
 * f2 one gives a realistic FAILED run, which a UI screenshot may want. Recorded statuses in a
 * summary are the recording's: for 3.8.3 they are an older artifactd's (404s included), with
 * `upstreamStatus`/`responder` on the stand-in answers.
 *
 * `clientNeeds(exchange)` says whether our status is one the recorded client carries on with:
 * 2xx where the recording has a 2xx (200 for a recorded 201 is fine: an existing flow), 101 for
 * an upgrade, 422 or 200 for `GET /api/csrf-token`, never a 404 or a 5xx (a recorded 404 was an
 * older artifactd's gap, not an answer a client needs).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as tlsConnect } from 'node:tls';
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';

// --- recordings --------------------------------------------------------------------------------

export interface RecordedHttp {
  seq: number;
  t: number;
  t_end?: number;
  kind: 'http';
  conn: number;
  method: string;
  path: string;
  websocket_upgrade?: boolean;
  req_headers: Record<string, string>;
  req_body?: unknown;
  req_body_format?: 'empty' | 'text';
  status: number;
  resp_headers?: Record<string, string>;
  resp_body?: unknown;
  resp_body_format?: 'empty' | 'text';
  upstream_status?: number;
  responder?: string;
}

export interface RecordedWs {
  seq: number;
  t: number;
  kind: 'ws';
  conn: number;
  path: string;
  dir: 'client->server' | 'server->client';
  opcode: 'text' | 'ping' | 'pong' | 'close';
  compressed?: boolean;
  data?: unknown;
  data_format?: 'json' | 'hex' | 'text';
  close_code?: number;
  close_reason?: string;
  responder?: string;
}

export interface RecordedWsClosed {
  seq: number;
  t: number;
  kind: 'ws-closed';
  conn: number;
  path: string;
}

export interface RecordingMeta {
  seq: 0;
  kind: 'meta';
  file: string;
  client: string;
  server: string;
  flow: string;
  client_user_agent?: string;
  outcome?: { top_level_flow_final_state: string | null; client_exit_code: number };
  counts?: Record<string, number>;
  [field: string]: unknown;
}

export type RecordedStep = RecordedHttp | RecordedWs | RecordedWsClosed;

export interface Recording {
  path: string;
  meta: RecordingMeta;
  steps: RecordedStep[];
}

/** Reads a `.jsonl` recording: its meta line and its steps in `seq` order. */
export function loadRecording(path: string): Recording {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  const meta = lines.find((l) => l.kind === 'meta') as RecordingMeta | undefined;
  if (!meta) throw new Error(`${path}: no meta line`);
  const steps = lines.filter((l) => l.kind !== 'meta').sort((a, b) => a.seq - b.seq) as RecordedStep[];
  return { path, meta, steps };
}

// --- options and summary -----------------------------------------------------------------------

export interface ReplayOptions {
  /** Headers added to every HTTP request and websocket upgrade. */
  headers?: Record<string, string>;
  /**
   * The server's auth string (Prefect's PREFECT_API_AUTH_STRING): sent as `Authorization: Basic
   * base64(authString)` and as the `token` of the 3.8.3 websocket auth message.
   */
  authString?: string;
  /** How long one request or one awaited server frame may take (ms); default 30 s. */
  timeoutMs?: number;
  /** 0 (default): as fast as possible; 1: at the recorded pace; 2: twice as fast, … */
  pace?: number;
  /** 'none' (default); 'now': the latest client timestamp lands just before the replay's start; or milliseconds. */
  timeShift?: 'none' | 'now' | number;
  /** Rewrite the recorded server's flow-run names to ours in what the client sends (default true). */
  renameRuns?: boolean;
  /**
   * Give every id the client made (task runs, events, CSRF clients, …) a fresh value, so one
   * recording can be replayed more than once into the same store (default false: kept as recorded).
   */
  freshClientIds?: boolean;
  /** After the replay, GET each flow run it created and record its final state (default true). */
  readFinalStates?: boolean;
  /** For https base URLs: the CA to trust, or false to accept any certificate. */
  tls?: { ca?: string; rejectUnauthorized?: boolean };
  /** Called after each HTTP exchange and websocket step (progress, debugging). */
  onStep?: (step: ExchangeResult | WebsocketEvent) => void;
}

export interface ExchangeResult {
  kind: 'http';
  seq: number;
  conn: number;
  method: string;
  /** The path as recorded, and as sent (ids rewritten). */
  recordedPath: string;
  path: string;
  recordedStatus: number;
  /** Ours; 0 when the request failed (no answer, timeout). */
  status: number;
  /** Stand-in answers of the 3.8.3 recordings: artifactd's status then, and who answered instead. */
  upstreamStatus?: number;
  responder?: string;
  websocketUpgrade: boolean;
  /** What we sent (after rewriting): header names (values for `content-type`) and the body text. */
  sentContentType: string | null;
  sentBody?: string;
  /** Our answer's body, parsed as JSON when it is JSON. */
  body: unknown;
  recordedBody: unknown;
  error?: string;
  /** clientNeeds(this): our status is one the recorded client carries on with. */
  ok: boolean;
}

export interface WebsocketEvent {
  kind: 'ws';
  seq: number;
  conn: number;
  what: string;
}

export interface WebsocketSession {
  conn: number;
  path: string;
  recordedStatus: number;
  /** The upgrade's answer: 101 when accepted; 0 when no answer came. */
  status: number;
  responseHeaders: Record<string, string>;
  /** The body of a refused upgrade. */
  refusal?: string;
  subprotocol: string | null;
  /** The negotiated `sec-websocket-extensions` (permessage-deflate …), or null. */
  extensions: string | null;
  acceptValid: boolean;
  pingsSent: number;
  pongsReceived: number;
  /** Text frames sent (events; the auth message included). */
  textFramesSent: number;
  compressedFramesSent: number;
  /** The reply to the 3.8.3 auth message (parsed), null when none was sent, undefined when none came. */
  authReply?: unknown;
  authSuccess: boolean | null;
  /** Text frames the server sent, parsed. */
  serverTexts: unknown[];
  /** The close we sent, and the server's (code and reason), if any. */
  clientClose: { code: number; reason: string } | null;
  serverClose: { code: number | null; reason: string } | null;
  closedCleanly: boolean;
  errors: string[];
}

export interface ReplayedFlowRun {
  recordedId: string;
  id: string;
  recordedName: string | null;
  name: string | null;
  flowId: string | null;
  parentTaskRunId: string | null;
  /** Read after the replay (readFinalStates): state type and name. */
  finalState?: { type: string | null; name: string | null };
}

export interface ReplaySummary {
  recording: string;
  meta: RecordingMeta;
  baseUrl: string;
  exchanges: ExchangeResult[];
  websockets: WebsocketSession[];
  /** Recorded id → our id, for every id learned from an answer. */
  ids: Record<string, string>;
  /** Recorded flow-run name → ours. */
  names: Record<string, string>;
  flowRuns: ReplayedFlowRun[];
  /** The first flow run created without a parent task run. */
  topLevelFlowRun: ReplayedFlowRun | null;
  /** Artifacts and task runs created by POST: recorded id, ours, and key/name. */
  artifacts: { recordedId: string; id: string; key: string | null; type: string | null; flowRunId: string | null }[];
  taskRuns: { recordedId: string; id: string; name: string | null; flowRunId: string | null }[];
  /** Every log record and event the replay sent (after rewriting). */
  logs: Record<string, unknown>[];
  events: Record<string, unknown>[];
  /** The exchanges whose status is not what the client needs (see clientNeeds). */
  problems: ExchangeResult[];
  /** No problem, and every websocket session did what the recording shows. */
  ok: boolean;
  timeShiftMs: number;
  durationMs: number;
}

// --- what a client needs -----------------------------------------------------------------------

const is2xx = (status: number) => status >= 200 && status < 300;

/**
 * Whether our status is one the recorded client carries on with after this exchange (see the
 * opening comment). For the 3.8.3 recordings the recorded status may be an older artifactd's 404;
 * a working server answers those routes (events/in, logs, admin/storage, increment-with-lease).
 */
export function clientNeeds(e: { method: string; recordedPath: string; recordedStatus: number; status: number; websocketUpgrade: boolean }): boolean {
  const { status } = e;
  if (status === 0 || status === 404 || status >= 500) return false;
  if (e.websocketUpgrade) return status === 101;
  if (e.method === 'GET' && e.recordedPath.startsWith('/api/csrf-token')) return status === 422 || status === 200;
  if (is2xx(e.recordedStatus) || e.recordedStatus === 404) return is2xx(status);
  return status === e.recordedStatus;
}

// --- rewriting ---------------------------------------------------------------------------------

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const TIMESTAMP = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)/g;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The id and name maps, and the text rewriting through them. */
class Rewriter {
  readonly ids = new Map<string, string>();
  readonly names = new Map<string, string>();
  private namePattern: RegExp | null = null;
  /**
   * `fresh`: ids first seen in what the client sends (client-made) get fresh values.
   */
  constructor(
    private readonly fresh: boolean,
    private readonly renameRuns: boolean,
    private readonly shiftMs: number,
  ) {}

  learnId(recorded: string, ours: string): void {
    this.ids.set(recorded.toLowerCase(), ours);
  }

  learnName(recorded: string, ours: string): void {
    if (!this.renameRuns || recorded === ours || recorded === '') return;
    this.names.set(recorded, ours);
    const alternatives = [...this.names.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    // A name is replaced where it stands alone: not inside a longer word or hyphenated name.
    this.namePattern = new RegExp(`(?<![A-Za-z0-9_-])(${alternatives.join('|')})(?![A-Za-z0-9_-])`, 'g');
  }

  private id(recorded: string): string {
    const known = this.ids.get(recorded.toLowerCase());
    if (known !== undefined) return known;
    if (!this.fresh) return recorded;
    // Client-made: keep the kind (a time-ordered v7 stays time-ordered).
    const made = recorded[14] === '7' ? Bun.randomUUIDv7() : randomUUID();
    this.ids.set(recorded.toLowerCase(), made);
    return made;
  }

  /** Ids (and names) only: paths and header values. */
  ids_(text: string): string {
    return text.replace(UUID, (m) => this.id(m));
  }

  /** Everything: ids, names, timestamps (bodies and frames). */
  all(text: string): string {
    let out = this.ids_(text);
    if (this.namePattern) out = out.replace(this.namePattern, (m) => this.names.get(m) ?? m);
    if (this.shiftMs !== 0) out = shiftTimestamps(out, this.shiftMs);
    return out;
  }
}

/** Moves every ISO-8601 timestamp in `text` by `ms` (whole seconds: the fraction is kept as written). */
export function shiftTimestamps(text: string, ms: number): string {
  const whole = Math.trunc(ms / 1000) * 1000;
  if (whole === 0) return text;
  return text.replace(TIMESTAMP, (match, seconds: string, fraction: string | undefined, zone: string) => {
    const at = Date.parse(`${seconds}Z`);
    if (Number.isNaN(at)) return match;
    return `${new Date(at + whole).toISOString().slice(0, 19)}${fraction ?? ''}${zone}`;
  });
}

/** The latest timestamp the client sends in the recording (ms since the epoch), or null. */
function latestClientTimestamp(steps: RecordedStep[]): number | null {
  let latest: number | null = null;
  for (const step of steps) {
    let text: string | undefined;
    if (step.kind === 'http' && step.req_body !== undefined) text = JSON.stringify(step.req_body);
    if (step.kind === 'ws' && step.dir === 'client->server' && step.opcode === 'text') text = JSON.stringify(step.data);
    if (text === undefined) continue;
    for (const m of text.matchAll(TIMESTAMP)) {
      const at = Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]}`);
      if (!Number.isNaN(at) && (latest === null || at > latest)) latest = at;
    }
  }
  return latest;
}

// --- HTTP --------------------------------------------------------------------------------------

/** Recorded request headers not replayed: the transport's own (fetch sets them) and the upgrade's. */
const TRANSPORT_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
]);

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// --- websocket client --------------------------------------------------------------------------

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODES = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

interface Frame {
  opcode: number;
  payload: Buffer;
}

/**
 * A minimal RFC 6455 client over one TCP (or TLS) connection: sends masked frames, reads and
 * reassembles the server's, answers its pings, undoes permessage-deflate on its messages (each
 * inflated on its own: the server sends at most a short auth reply besides control frames).
 */
class RawWebSocket {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly queues = new Map<number, Frame[]>();
  private readonly waiters: { opcode: number; resolve: (f: Frame | null) => void }[] = [];
  private fragments: { opcode: number; parts: Buffer[]; compressed: boolean } | null = null;
  ended = false;
  endReason = '';
  /** permessage-deflate parameters when negotiated. */
  deflate: { clientWindowBits: number } | null = null;

  private constructor(private readonly socket: Socket) {}

  /** Opens the connection and does the upgrade; the session is null when the server refused it. */
  static async open(
    base: URL,
    path: string,
    headers: [string, string][],
    timeoutMs: number,
    tls: ReplayOptions['tls'],
  ): Promise<{ status: number; headers: Record<string, string>; body: string; acceptValid: boolean; ws: RawWebSocket | null; error?: string }> {
    const secure = base.protocol === 'https:';
    const port = Number(base.port || (secure ? 443 : 80));
    const host = base.hostname.replace(/^\[|\]$/g, '');
    const socket: Socket = secure
      ? tlsConnect({ host, port, servername: host, ca: tls?.ca, rejectUnauthorized: tls?.rejectUnauthorized ?? true })
      : tcpConnect({ host, port });
    const key = randomBytes(16).toString('base64');
    const lines = [
      `GET ${path} HTTP/1.1`,
      `host: ${base.host}`,
      'upgrade: websocket',
      'connection: Upgrade',
      `sec-websocket-key: ${key}`,
      'sec-websocket-version: 13',
      ...headers.map(([k, v]) => `${k}: ${v}`),
    ];
    const request = `${lines.join('\r\n')}\r\n\r\n`;

    return new Promise((resolve) => {
      let received = Buffer.alloc(0);
      let settled = false;
      const finish = (value: Awaited<ReturnType<typeof RawWebSocket.open>>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(value);
      };
      const timer = setTimeout(() => {
        socket.destroy();
        finish({ status: 0, headers: {}, body: '', acceptValid: false, ws: null, error: `no answer to the upgrade in ${timeoutMs} ms` });
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = received.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(head[0].split(' ')[1]);
        const responseHeaders: Record<string, string> = {};
        for (const line of head.slice(1)) {
          const colon = line.indexOf(':');
          if (colon > 0) responseHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const rest = received.subarray(end + 4);
        if (status !== 101) {
          // A refusal: read its body (Content-Length, or until the connection ends, briefly).
          const length = Number(responseHeaders['content-length'] ?? NaN);
          const done = () => {
            socket.destroy();
            finish({ status, headers: responseHeaders, body: rest.toString('utf8'), acceptValid: false, ws: null });
          };
          if (Number.isFinite(length) && rest.length >= length) return done();
          socket.off('data', onData);
          let body = rest;
          socket.on('data', (more: Buffer) => {
            body = Buffer.concat([body, more]);
            if (Number.isFinite(length) && body.length >= length) {
              socket.destroy();
              finish({ status, headers: responseHeaders, body: body.toString('utf8'), acceptValid: false, ws: null });
            }
          });
          socket.once('close', () => finish({ status, headers: responseHeaders, body: body.toString('utf8'), acceptValid: false, ws: null }));
          setTimeout(() => {
            socket.destroy();
            finish({ status, headers: responseHeaders, body: body.toString('utf8'), acceptValid: false, ws: null });
          }, 2_000);
          return;
        }
        const expected = createHash('sha1').update(key + WS_GUID).digest('base64');
        const ws = new RawWebSocket(socket);
        const extensions = responseHeaders['sec-websocket-extensions'];
        if (extensions && /(^|,)\s*permessage-deflate/i.test(extensions)) {
          const bits = /client_max_window_bits\s*=\s*"?(\d+)/i.exec(extensions);
          ws.deflate = { clientWindowBits: bits ? Number(bits[1]) : 15 };
        }
        socket.off('data', onData);
        ws.attach(rest);
        finish({ status, headers: responseHeaders, body: '', acceptValid: responseHeaders['sec-websocket-accept'] === expected, ws });
      };
      socket.on('data', onData);
      socket.once('error', (error) => finish({ status: 0, headers: {}, body: '', acceptValid: false, ws: null, error: String(error) }));
      socket.once('close', () => finish({ status: 0, headers: {}, body: '', acceptValid: false, ws: null, error: 'connection closed before an answer to the upgrade' }));
      socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    });
  }

  private attach(initial: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => {
      this.endReason ||= String(error);
    });
    this.socket.on('close', () => {
      this.ended = true;
      this.endReason ||= 'connection closed';
      for (const w of this.waiters.splice(0)) w.resolve(null);
    });
    if (initial.length > 0) this.receive(initial);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0];
      const b1 = this.buffer[1];
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = offset;
      if (masked) offset += 4;
      if (this.buffer.length < offset + length) return;
      let payload = Buffer.from(this.buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= this.buffer[maskAt + (i % 4)];
      this.buffer = this.buffer.subarray(offset + length);
      const fin = (b0 & 0x80) !== 0;
      const rsv1 = (b0 & 0x40) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode >= 8) {
        this.control(opcode, payload);
        continue;
      }
      if (opcode !== OPCODES.continuation) this.fragments = { opcode, parts: [], compressed: rsv1 };
      if (!this.fragments) continue;
      this.fragments.parts.push(payload);
      if (!fin) continue;
      payload = Buffer.concat(this.fragments.parts);
      if (this.fragments.compressed) {
        try {
          payload = inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]));
        } catch (error) {
          this.endReason ||= `a compressed message could not be inflated: ${error}`;
        }
      }
      this.deliver({ opcode: this.fragments.opcode, payload });
      this.fragments = null;
    }
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === OPCODES.ping) this.write(OPCODES.pong, payload, false);
    this.deliver({ opcode, payload });
  }

  private deliver(frame: Frame): void {
    const i = this.waiters.findIndex((w) => w.opcode === frame.opcode);
    if (i >= 0) {
      this.waiters.splice(i, 1)[0].resolve(frame);
      return;
    }
    const queue = this.queues.get(frame.opcode) ?? [];
    queue.push(frame);
    this.queues.set(frame.opcode, queue);
  }

  /** The next frame (message) of this opcode from the server; null on timeout or a closed connection. */
  next(opcode: number, timeoutMs: number): Promise<Frame | null> {
    const queued = this.queues.get(opcode)?.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = {
        opcode,
        resolve: (f: Frame | null) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends one frame (FIN, masked); `compress` sets RSV1 and deflates the payload. Returns false when it could not. */
  write(opcode: number, payload: Buffer, compress: boolean): boolean {
    if (this.ended || this.socket.destroyed) return false;
    let data = payload;
    if (compress) {
      const bits = Math.max(9, Math.min(15, this.deflate?.clientWindowBits ?? 15));
      const deflated = deflateRawSync(payload, { windowBits: bits, finishFlush: zlibConstants.Z_SYNC_FLUSH });
      data = deflated.subarray(deflated.length - 4).equals(DEFLATE_TAIL) ? deflated.subarray(0, deflated.length - 4) : deflated;
    }
    const header: number[] = [0x80 | (compress ? 0x40 : 0) | opcode];
    if (data.length < 126) header.push(0x80 | data.length);
    else if (data.length < 65536) header.push(0x80 | 126, data.length >> 8, data.length & 0xff);
    else {
      header.push(0x80 | 127);
      const big = Buffer.alloc(8);
      big.writeBigUInt64BE(BigInt(data.length));
      header.push(...big);
    }
    const mask = randomBytes(4);
    const masked = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ mask[i % 4];
    this.socket.write(Buffer.concat([Buffer.from(header), mask, masked]));
    return true;
  }

  /** Waits up to `ms` for the connection to end, then ends it. */
  async end(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.ended && Date.now() < deadline) await Bun.sleep(10);
    const clean = this.ended;
    this.socket.destroy();
    return clean;
  }
}

const closePayload = (code: number, reason: string) => {
  const reasonBytes = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(2 + reasonBytes.length);
  out.writeUInt16BE(code);
  reasonBytes.copy(out, 2);
  return out;
};

const parseClose = (payload: Buffer) => ({
  code: payload.length >= 2 ? payload.readUInt16BE(0) : null,
  reason: payload.length > 2 ? payload.subarray(2).toString('utf8') : '',
});

// --- the replay --------------------------------------------------------------------------------

/**
 * Plays the client side of the recording at `recordingPath` (or an already loaded Recording)
 * against the server at `baseUrl` (`http://127.0.0.1:4200`; a trailing `/api` is ignored) and
 * returns what happened. It throws only when the recording cannot be read: a refused request or
 * a failed websocket is in the summary (`problems`, `ok`).
 */
export async function replay(recordingPath: string | Recording, baseUrl: string, options: ReplayOptions = {}): Promise<ReplaySummary> {
  const recording = typeof recordingPath === 'string' ? loadRecording(recordingPath) : recordingPath;
  const base = new URL(baseUrl.replace(/\/+$/, '').replace(/\/api$/, '') + '/');
  const origin = base.origin;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pace = options.pace ?? 0;
  const started = Date.now();

  let shiftMs = 0;
  if (options.timeShift === 'now') {
    const latest = latestClientTimestamp(recording.steps);
    if (latest !== null) shiftMs = Math.floor((started - 1000 - latest) / 1000) * 1000;
  } else if (typeof options.timeShift === 'number') shiftMs = options.timeShift;
  const rewrite = new Rewriter(options.freshClientIds ?? false, options.renameRuns ?? true, shiftMs);

  const extraHeaders: [string, string][] = Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  if (options.authString !== undefined) extraHeaders.push(['authorization', `Basic ${Buffer.from(options.authString).toString('base64')}`]);

  const summary: ReplaySummary = {
    recording: basename(recording.path),
    meta: recording.meta,
    baseUrl: origin,
    exchanges: [],
    websockets: [],
    ids: {},
    names: {},
    flowRuns: [],
    topLevelFlowRun: null,
    artifacts: [],
    taskRuns: [],
    logs: [],
    events: [],
    problems: [],
    ok: false,
    timeShiftMs: shiftMs,
    durationMs: 0,
  };

  /** CSRF tokens the server handed out, per client connection (a client object, roughly). */
  const csrf = new Map<number, { token: string; client: string }>();
  const sockets = new Map<number, { ws: RawWebSocket | null; session: WebsocketSession }>();
  /** Server text frames of the recording met so far, per connection. */
  const textsAccounted = new Map<number, number>();
  const note = (step: ExchangeResult | WebsocketEvent) => options.onStep?.(step);
  const wsNote = (seq: number, conn: number, what: string) => note({ kind: 'ws', seq, conn, what });

  for (const step of recording.steps) {
    if (pace > 0) {
      const due = started + (step.t * 1000) / pace;
      const wait = due - Date.now();
      if (wait > 0) await Bun.sleep(wait);
    }

    if (step.kind === 'http' && step.websocket_upgrade) {
      const session = await openWebsocket(step);
      sockets.set(step.conn, session);
      continue;
    }
    if (step.kind === 'http') {
      await exchange(step);
      continue;
    }
    const socket = sockets.get(step.conn);
    if (!socket) continue; // frames of an upgrade we never made
    if (step.kind === 'ws-closed') {
      if (socket.ws) {
        socket.session.closedCleanly = (await socket.ws.end(timeoutMs)) && socket.session.serverClose !== null;
        socket.ws = null;
      }
      continue;
    }
    await websocketStep(step, socket);
  }

  // Sessions the recording left open (a 404-era upgrade our server accepted; a dropped connection): close 1000.
  for (const [conn, socket] of sockets) {
    if (!socket.ws) continue;
    if (!socket.ws.ended && socket.session.clientClose === null) {
      socket.ws.write(OPCODES.close, closePayload(1000, ''), false);
      socket.session.clientClose = { code: 1000, reason: '' };
      const reply = await socket.ws.next(OPCODES.close, timeoutMs);
      if (reply) socket.session.serverClose = parseClose(reply.payload);
      wsNote(-1, conn, 'close 1000 (end of recording)');
    }
    socket.session.closedCleanly = (await socket.ws.end(timeoutMs)) && socket.session.serverClose !== null;
    socket.ws = null;
  }

  if (options.readFinalStates ?? true) {
    for (const run of summary.flowRuns) {
      try {
        const reply = await fetch(`${origin}/api/flow_runs/${run.id}`, {
          headers: Object.fromEntries(extraHeaders),
          signal: AbortSignal.timeout(timeoutMs),
          tls: options.tls,
        } as RequestInit);
        const body = parseBody(await reply.text()) as { state_type?: string | null; state_name?: string | null } | undefined;
        if (reply.ok && body && typeof body === 'object') run.finalState = { type: body.state_type ?? null, name: body.state_name ?? null };
      } catch {
        // left without finalState
      }
    }
  }

  summary.ids = Object.fromEntries(rewrite.ids);
  summary.names = Object.fromEntries(rewrite.names);
  summary.topLevelFlowRun = summary.flowRuns.find((r) => r.parentTaskRunId === null) ?? null;
  summary.problems = summary.exchanges.filter((e) => !e.ok);
  summary.ok = summary.problems.length === 0 && summary.websockets.every(websocketOk);
  summary.durationMs = Date.now() - started;
  return summary;

  // --- steps -----------------------------------------------------------------------------------

  async function exchange(step: RecordedHttp): Promise<void> {
    const path = rewrite.ids_(step.path);
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(step.req_headers)) {
      if (TRANSPORT_HEADERS.has(name.toLowerCase())) continue;
      headers.push([name.toLowerCase(), rewrite.ids_(value)]);
    }
    headers.push(...extraHeaders);
    const token = csrf.get(step.conn);
    if (token && step.method !== 'GET') headers.push(['prefect-csrf-token', token.token], ['prefect-csrf-client', token.client]);

    let sentBody: string | undefined;
    if (step.req_body !== undefined && step.req_body_format !== 'empty') {
      sentBody = rewrite.all(step.req_body_format === 'text' ? String(step.req_body) : JSON.stringify(step.req_body));
    }
    const result: ExchangeResult = {
      kind: 'http',
      seq: step.seq,
      conn: step.conn,
      method: step.method,
      recordedPath: step.path,
      path,
      recordedStatus: step.status,
      status: 0,
      websocketUpgrade: false,
      sentContentType: headers.find(([k]) => k === 'content-type')?.[1] ?? null,
      sentBody,
      body: undefined,
      recordedBody: step.resp_body,
      ok: false,
    };
    if (step.upstream_status !== undefined) result.upstreamStatus = step.upstream_status;
    if (step.responder !== undefined) result.responder = step.responder;
    try {
      const reply = await fetch(`${origin}${path}`, {
        method: step.method,
        headers,
        // Bytes, not a string: fetch then adds no Content-Type of its own.
        body: sentBody === undefined ? undefined : new TextEncoder().encode(sentBody),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        tls: options.tls,
      } as RequestInit);
      result.status = reply.status;
      result.body = parseBody(await reply.text());
    } catch (error) {
      result.error = String(error);
    }
    result.ok = clientNeeds(result);
    learn(step, result);
    summary.exchanges.push(result);
    note(result);
  }

  /** What an answer teaches: ids (and run names) of what it created, CSRF tokens, what was sent. */
  function learn(step: RecordedHttp, result: ExchangeResult): void {
    const ours = result.body as Record<string, unknown> | undefined;
    const recorded = step.resp_body as Record<string, unknown> | undefined;
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    const route = step.path.split('?')[0];

    if (route === '/api/csrf-token' && result.status === 200 && isObject(ours) && typeof ours.token === 'string') {
      const client = new URL(result.path, origin).searchParams.get('client') ?? '';
      csrf.set(step.conn, { token: ours.token, client });
    }
    if (step.method === 'POST' && route === '/api/logs/' && Array.isArray(step.req_body) && result.sentBody !== undefined) {
      summary.logs.push(...(JSON.parse(result.sentBody) as Record<string, unknown>[]));
    }

    if (!is2xx(step.status) || !is2xx(result.status) || !isObject(ours) || !isObject(recorded)) return;
    if (typeof recorded.id === 'string' && typeof ours.id === 'string') rewrite.learnId(recorded.id, ours.id);
    if (step.method !== 'POST') return;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    if (route === '/api/flow_runs/' && typeof ours.id === 'string') {
      if (typeof recorded.name === 'string' && typeof ours.name === 'string') rewrite.learnName(recorded.name, ours.name);
      summary.flowRuns.push({
        recordedId: String(recorded.id),
        id: ours.id,
        recordedName: str(recorded.name),
        name: str(ours.name),
        flowId: str(ours.flow_id),
        parentTaskRunId: str(ours.parent_task_run_id),
      });
    } else if (route === '/api/artifacts/' && typeof ours.id === 'string') {
      summary.artifacts.push({ recordedId: String(recorded.id), id: ours.id, key: str(ours.key), type: str(ours.type), flowRunId: str(ours.flow_run_id) });
    } else if (route === '/api/task_runs/' && typeof ours.id === 'string') {
      summary.taskRuns.push({ recordedId: String(recorded.id), id: ours.id, name: str(ours.name), flowRunId: str(ours.flow_run_id) });
    }
  }

  async function openWebsocket(step: RecordedHttp): Promise<{ ws: RawWebSocket | null; session: WebsocketSession }> {
    const path = rewrite.ids_(step.path);
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(step.req_headers)) {
      const lower = name.toLowerCase();
      if (lower === 'sec-websocket-extensions' || lower === 'sec-websocket-protocol' || !TRANSPORT_HEADERS.has(lower)) headers.push([lower, rewrite.ids_(value)]);
    }
    headers.push(...extraHeaders);
    const opened = await RawWebSocket.open(base, path, headers, timeoutMs, options.tls);
    const session: WebsocketSession = {
      conn: step.conn,
      path,
      recordedStatus: step.status,
      status: opened.status,
      responseHeaders: opened.headers,
      subprotocol: opened.headers['sec-websocket-protocol'] ?? null,
      extensions: opened.headers['sec-websocket-extensions'] ?? null,
      acceptValid: opened.acceptValid,
      pingsSent: 0,
      pongsReceived: 0,
      textFramesSent: 0,
      compressedFramesSent: 0,
      authSuccess: null,
      serverTexts: [],
      clientClose: null,
      serverClose: null,
      closedCleanly: false,
      errors: opened.error ? [opened.error] : [],
    };
    if (opened.status !== 101) session.refusal = opened.body;
    summary.websockets.push(session);
    const result: ExchangeResult = {
      kind: 'http',
      seq: step.seq,
      conn: step.conn,
      method: step.method,
      recordedPath: step.path,
      path,
      recordedStatus: step.status,
      status: opened.status,
      websocketUpgrade: true,
      sentContentType: null,
      body: opened.status === 101 ? null : parseBody(opened.body),
      recordedBody: step.resp_body ?? null,
      ok: false,
    };
    if (opened.error) result.error = opened.error;
    if (step.upstream_status !== undefined) result.upstreamStatus = step.upstream_status;
    if (step.responder !== undefined) result.responder = step.responder;
    result.ok = clientNeeds(result);
    summary.exchanges.push(result);
    note(result);
    return { ws: opened.ws, session };
  }

  async function websocketStep(step: RecordedWs, socket: { ws: RawWebSocket | null; session: WebsocketSession }): Promise<void> {
    const { ws, session } = socket;
    if (!ws) return;
    const fail = (what: string) => {
      session.errors.push(`seq ${step.seq}: ${what}${ws.ended ? ` (${ws.endReason})` : ''}`);
      wsNote(step.seq, step.conn, what);
    };

    if (step.dir === 'client->server') {
      if (step.opcode === 'ping') {
        const payload = Buffer.from(String(step.data ?? ''), 'hex');
        if (!ws.write(OPCODES.ping, payload, false)) return fail('ping not sent: connection closed');
        session.pingsSent++;
        wsNote(step.seq, step.conn, `ping ${payload.toString('hex')}`);
        // The client waits for the pong (the recording's next frame from the server says so too).
        const pong = await ws.next(OPCODES.pong, timeoutMs);
        if (!pong) return fail(`no pong for ping ${payload.toString('hex')}`);
        if (!pong.payload.equals(payload)) return fail(`pong ${pong.payload.toString('hex')} for ping ${payload.toString('hex')}`);
        session.pongsReceived++;
        return;
      }
      if (step.opcode === 'text') {
        let text = step.data_format === 'json' || typeof step.data !== 'string' ? JSON.stringify(step.data) : step.data;
        const isAuth = typeof step.data === 'object' && step.data !== null && (step.data as { type?: unknown }).type === 'auth';
        if (isAuth && options.authString !== undefined) text = JSON.stringify({ ...(step.data as object), token: options.authString });
        else text = rewrite.all(text);
        const compress = step.compressed === true && ws.deflate !== null;
        if (!ws.write(OPCODES.text, Buffer.from(text, 'utf8'), compress)) return fail('text frame not sent: connection closed');
        session.textFramesSent++;
        if (compress) session.compressedFramesSent++;
        if (isAuth) {
          // The 3.8.3 client waits for one JSON message and requires {"type":"auth_success"}.
          const reply = await ws.next(OPCODES.text, timeoutMs);
          if (!reply) {
            session.authReply = undefined;
            session.authSuccess = false;
            return fail('no reply to the auth message');
          }
          const parsed = parseBody(reply.payload.toString('utf8'));
          session.serverTexts.push(parsed);
          session.authReply = parsed;
          session.authSuccess = typeof parsed === 'object' && parsed !== null && (parsed as { type?: unknown }).type === 'auth_success';
          wsNote(step.seq, step.conn, `auth → ${JSON.stringify(parsed)}`);
          if (!session.authSuccess) fail(`auth reply ${JSON.stringify(parsed)}`);
        } else {
          const event = JSON.parse(text) as Record<string, unknown>;
          if (typeof event === 'object' && event !== null && 'event' in event) summary.events.push(event);
          wsNote(step.seq, step.conn, `text ${String(event.event ?? text.slice(0, 60))}`);
        }
        return;
      }
      if (step.opcode === 'close') {
        const code = step.close_code ?? 1000;
        const reason = step.close_reason ?? '';
        if (!ws.write(OPCODES.close, closePayload(code, reason), false)) return fail('close not sent: connection closed');
        session.clientClose = { code, reason };
        wsNote(step.seq, step.conn, `close ${code}`);
        return;
      }
      return;
    }

    // server->client: wait for what the recording shows the server sent.
    if (step.opcode === 'pong') return; // awaited with its ping
    if (step.opcode === 'text') {
      // Already here (the auth reply, awaited with the auth message)?
      const accounted = (textsAccounted.get(step.conn) ?? 0) + 1;
      textsAccounted.set(step.conn, accounted);
      if (session.serverTexts.length >= accounted) return;
      const reply = await ws.next(OPCODES.text, timeoutMs);
      if (!reply) return fail(`no text frame (recorded ${JSON.stringify(step.data)})`);
      session.serverTexts.push(parseBody(reply.payload.toString('utf8')));
      return;
    }
    if (step.opcode === 'close') {
      const reply = await ws.next(OPCODES.close, timeoutMs);
      if (!reply) return fail(`no close frame from the server (recorded ${step.close_code})`);
      session.serverClose = parseClose(reply.payload);
      wsNote(step.seq, step.conn, `server close ${session.serverClose.code}`);
    }
  }
}

/**
 * A recorded value (a request body, an event, a log record, a recorded answer) as this replay
 * sent it or would have: ids and run names through the summary's maps, timestamps shifted.
 */
export function asReplayed<T>(value: T, summary: Pick<ReplaySummary, 'ids' | 'names' | 'timeShiftMs'>): T {
  const rewriter = new Rewriter(false, true, summary.timeShiftMs);
  for (const [recorded, ours] of Object.entries(summary.ids)) rewriter.learnId(recorded, ours);
  for (const [recorded, ours] of Object.entries(summary.names)) rewriter.learnName(recorded, ours);
  return JSON.parse(rewriter.all(JSON.stringify(value))) as T;
}

/** A websocket session did what the client needs: 101, pongs for pings, auth_success if asked, close echoed. */
export function websocketOk(s: WebsocketSession): boolean {
  return (
    s.status === 101 &&
    s.acceptValid &&
    s.errors.length === 0 &&
    s.pongsReceived === s.pingsSent &&
    s.authSuccess !== false &&
    (s.clientClose === null || (s.serverClose !== null && s.serverClose.code === s.clientClose.code))
  );
}

/**
 * The recordings: test/reference/flow-runs (a copy kept in the repository, so a clone anywhere has
 * them), or ARTIFACTD_RECORDINGS_DIR.
 */
export const RECORDINGS_DIR = process.env.ARTIFACTD_RECORDINGS_DIR ?? fileURLToPath(new URL('../reference/flow-runs/', import.meta.url));

/** The six recordings that are the three client generations running both flows (see the opening comment). */
export const CLIENT_GENERATIONS = [
  'prefect-3.0.11__prefect-3.0.0-server__f.jsonl',
  'prefect-3.0.11__prefect-3.0.0-server__f2.jsonl',
  'prefect-3.1.4__prefect-3.0.0-server__f.jsonl',
  'prefect-3.1.4__prefect-3.0.0-server__f2.jsonl',
  'prefect-3.8.3__artifactd-with-stand-ins__f__client-side-only.jsonl',
  'prefect-3.8.3__artifactd-with-stand-ins__f2__client-side-only.jsonl',
] as const;
