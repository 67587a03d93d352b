/**
 * `/api/events/in`: the websocket every Prefect client streams its events into, on Bun's own
 * websockets (the listening server upgrades; `App.handle` never sees these requests). The
 * protocol is Prefect's (shared/spec/reference/flow-runs/README.md, "Websocket /api/events/in"):
 *
 * - **Legacy mode** (no subprotocol; 3.0 and 3.1 clients): accepted as is, every text frame an
 *   Event. permessage-deflate is accepted when offered, with a 4 KiB client window
 *   (`client_max_window_bits=12`, what Prefect's server negotiates).
 * - **`prefect` subprotocol** (3.8 clients): accepted with `prefect`, then the first message
 *   must be `{"type": "auth", "token": …}`; the server answers `{"type": "auth_success"}` or
 *   closes 1008 with Prefect 3.8's reasons (`Expected 'auth' message`, `Auth required but no
 *   token provided`, `Invalid token`). Then frames are Events, as in legacy mode.
 * - **Auth** (`--auth-string`), as `accept_prefect_socket` in Prefect 3.8: with the subprotocol,
 *   the auth message's token must equal the auth string (compared in constant time); without it,
 *   the upgrade is refused (Prefect closes before accepting, which its server answers with 403).
 *   One addition: a legacy upgrade carrying the REST routes' valid `Authorization: Basic` is
 *   accepted, so a client that authenticates its HTTP requests can stream without the handshake.
 * - **A frame that is not an Event** (not JSON, not an object, failing validation, binary) ends
 *   that connection as it ends on Prefect — dropped without a close frame (Prefect's handler
 *   raises and its server closes the transport) — after the frames before it were accepted.
 *   Other connections never notice.
 *
 * The server sends nothing else but pongs and close frames. Clients checkpoint with a ping every
 * 700 events and forget what the pong confirms; Bun answers pings itself, at once, so a pong can
 * leave before the events ahead of it are durable (they are queued in EventIntake, committed on
 * the next turn of the event loop). The window is one batch commit; the events are lost only if
 * the process dies inside it.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun';
import { timingSafeEqual } from 'node:crypto';
import { checkBasicAuth } from '../http/auth.ts';
import { ApiError, detail, errorResponse } from '../http/errors.ts';
import { pathOf } from '../http/path.ts';
import type { Logger } from '../observe/log.ts';
import type { IntakeCounters } from '../observe/metrics.ts';
import { nowMicros } from '../time.ts';
import type { EventIntake } from './intake.ts';
import { receiveEvent, type ReceivedEvent } from './receive.ts';

export const EVENTS_IN = '/api/events/in';
/** The other websocket routes of Prefect 3.0.0 (and `/logs/out`, HEAD's): answered 501. */
const NOT_SERVED = new Set(['/api/events/out', '/api/logs/out']);
/** Every path an upgrade is answered on (the metrics' route labels). */
export const SOCKET_PATHS = [EVENTS_IN, ...NOT_SERVED];
/** How long closing waits for clients to answer the close frames before dropping them. */
const CLOSE_WAIT_MS = 2000;

/** Prefect's close codes (starlette.status). */
const POLICY_VIOLATION = 1008;
const GOING_AWAY = 1001;

export interface SocketState {
  /**
   * `auth` (the `prefect` subprotocol) until the auth message is accepted, then `events`;
   * `ended` once this server closed or dropped it (frames Bun had already read are ignored).
   */
  stage: 'auth' | 'events' | 'ended';
  path: string;
}

type Socket = ServerWebSocket<SocketState>;

export interface EventsInOptions {
  intake: EventIntake;
  authString: string | null;
  /** The largest frame accepted (Bun closes with 1009 beyond it): the body size limit. */
  maxFrameBytes: number;
  logger: Logger;
  counters: IntakeCounters;
  /** Records an upgrade request's answer (the request log line and metrics), as the app does for the others. */
  answered(method: string, path: string, status: number, started: number): void;
}

const isWebsocketUpgrade = (request: Request) => request.headers.get('upgrade')?.toLowerCase() === 'websocket';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

/** `not token` in Python, for a JSON value (Prefect tests the auth token so). */
function pythonFalsy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value as object).length === 0;
}

function offersPrefect(request: Request): boolean {
  const header = request.headers.get('sec-websocket-protocol');
  return header !== null && header.split(',').some((p) => p.trim() === 'prefect');
}

/** What a listening server needs: the upgrade `fetch` tries first, the handlers, and the close. */
export interface EventSockets {
  upgrade(request: Request, server: Pick<Server<SocketState>, 'upgrade'>): Response | undefined | null;
  readonly handlers: WebSocketHandler<SocketState>;
  /** Open connections. */
  readonly open: number;
  /** Closes every connection (1001) and refuses new ones; resolves once they are gone. */
  close(): Promise<void>;
}

export class EventsIn implements EventSockets {
  private readonly sockets = new Set<Socket>();
  private paused = false;
  private closing = false;
  readonly handlers: WebSocketHandler<SocketState>;

  constructor(private readonly options: EventsInOptions) {
    options.intake.onPressure = (saturated) => this.pressure(saturated);
    this.handlers = {
      // Prefect's server takes compressed frames; it sends almost nothing, so it never compresses.
      perMessageDeflate: { compress: false, decompress: '4KB' },
      maxPayloadLength: options.maxFrameBytes,
      open: (ws) => {
        this.sockets.add(ws);
        if (this.paused) ws.pause();
      },
      message: (ws, message) => this.message(ws, message),
      close: (ws) => {
        this.sockets.delete(ws);
      },
    };
  }

  /** Open connections (`/metrics`). */
  get open(): number {
    return this.sockets.size;
  }

  /**
   * The answer to a request that may be a websocket upgrade: `null` when it is not one of ours
   * (the app answers it), `undefined` when it was upgraded (Bun's convention), else the refusal.
   */
  upgrade(request: Request, server: Pick<Server<SocketState>, 'upgrade'>): Response | undefined | null {
    if (request.method !== 'GET' || !isWebsocketUpgrade(request)) return null;
    const path = pathOf(request.url);
    if (path !== EVENTS_IN && !NOT_SERVED.has(path)) return null;
    const started = performance.now();
    const refuse = (error: ApiError) => {
      this.options.answered(request.method, path, error.status, started);
      return errorResponse(error);
    };
    if (NOT_SERVED.has(path)) return refuse(detail(501, `The ${path.slice(4)} websocket is not served by this server: it stores events, and does not stream them out.`));
    if (this.closing) return refuse(new ApiError(503, { exception_message: 'Service Unavailable' }));
    const prefect = offersPrefect(request);
    if (!prefect && this.options.authString !== null && !this.basicAuthOk(request, path)) {
      this.options.logger.warning(`${EVENTS_IN}: connection refused: 'prefect' subprotocol required when auth is configured`);
      return refuse(detail(403, "'prefect' subprotocol required when auth is configured"));
    }
    const data: SocketState = { stage: prefect ? 'auth' : 'events', path };
    const headers = prefect ? { 'Sec-WebSocket-Protocol': 'prefect' } : undefined;
    if (!server.upgrade(request, { data, headers })) return refuse(detail(400, 'Invalid websocket upgrade request.'));
    this.options.answered(request.method, path, 101, started);
    return undefined;
  }

  /**
   * Closes every connection (1001: a client reconnects later, or to another instance, and resends
   * what it had not checkpointed) and refuses new ones. Waits for the clients' close frames, so
   * that the frames they sent before them are taken in, then drops whoever has not answered.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const ws of this.sockets) ws.close(GOING_AWAY, 'Server shutting down');
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (this.sockets.size > 0 && Date.now() < deadline) await Bun.sleep(10);
    for (const ws of this.sockets) ws.terminate();
  }

  private basicAuthOk(request: Request, path: string): boolean {
    try {
      checkBasicAuth(request, path, this.options.authString!);
      return true;
    } catch {
      return false;
    }
  }

  private pressure(saturated: boolean): void {
    this.paused = saturated;
    for (const ws of this.sockets) {
      if (saturated) ws.pause();
      else ws.resume();
    }
  }

  private message(ws: Socket, message: string | Buffer): void {
    if (ws.data.stage === 'ended') return;
    if (ws.data.stage === 'auth') return this.authenticate(ws, message);
    // Prefect reads text frames only (`iter_text`): anything else ends the connection.
    if (typeof message !== 'string') return this.drop(ws, 'a binary frame, where an Event (text) was expected');
    let value: unknown;
    try {
      value = JSON.parse(message);
    } catch {
      return this.drop(ws, 'a frame that is not JSON');
    }
    const receipt = receiveEvent(value, [], nowMicros());
    if (!receipt.ok) {
      const first = receipt.issues[0];
      return this.drop(ws, `an invalid Event (${first.msg} at ${JSON.stringify(first.loc)}${receipt.issues.length > 1 ? `, and ${receipt.issues.length - 1} more` : ''})`);
    }
    this.accept(receipt.event);
  }

  private accept(event: ReceivedEvent): void {
    try {
      this.options.intake.push([event]);
    } catch {
      // The intake closed (the server is stopping): the connection is closing too, and the client
      // resends what it had not checkpointed when it reconnects.
    }
  }

  /** The `prefect` handshake, as Prefect 3.8's `accept_prefect_socket` answers it. */
  private authenticate(ws: Socket, message: string | Buffer): void {
    let value: unknown;
    try {
      value = JSON.parse(typeof message === 'string' ? message : message.toString('utf8'));
    } catch {
      return this.drop(ws, 'an auth message that is not JSON', false);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.drop(ws, 'an auth message that is not an object', false);
    const auth = value as Record<string, unknown>;
    if (auth.type !== 'auth') return this.refuse(ws, "Expected 'auth' message");
    const expected = this.options.authString;
    if (expected !== null) {
      const token = auth.token;
      if (pythonFalsy(token)) return this.refuse(ws, 'Auth required but no token provided');
      if (typeof token !== 'string') return this.drop(ws, 'an auth token that is not a string', false);
      if (!sameSecret(token, expected)) return this.refuse(ws, 'Invalid token');
    }
    ws.data.stage = 'events';
    ws.send('{"type":"auth_success"}');
  }

  private refuse(ws: Socket, reason: string): void {
    this.options.logger.warning(`${EVENTS_IN}: connection closed: ${reason}`);
    ws.data.stage = 'ended';
    ws.close(POLICY_VIOLATION, reason);
  }

  /**
   * Ends the connection without a close frame, as Prefect's server does when its handler fails
   * (`event`: the frame was meant as an event, and counts as refused).
   */
  private drop(ws: Socket, what: string, event = true): void {
    if (event) this.options.counters.eventsRefused++;
    this.options.logger.warning(`${EVENTS_IN}: connection dropped: the client sent ${what}`);
    ws.data.stage = 'ended';
    ws.terminate();
  }
}
