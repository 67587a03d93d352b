/**
 * Hostile bytes over a real listening server (`startServer`, the code `artifactd serve` runs),
 * sent with `node:net` to 127.0.0.1: invalid UTF-8 in bodies and request targets, truncated
 * bodies, bogus and conflicting Content-Length, broken chunked framing, odd Host headers, junk
 * header lines, pipelined leftovers. Requests are the in-process fuzzer's (same routes, bodies
 * and headers, against a seeded store) with a raw-level twist on top.
 *
 * Assertions per exchange: a request that is well-formed HTTP gets an answer that satisfies the
 * oracle of `support.ts` (no 5xx, Prefect's shapes, HEAD without a body); a malformed one may be
 * refused by Bun's HTTP parser (a bare 400/431, or a closed connection) but gets no other
 * 5xx than Bun's bare 505 for a request line it cannot split (a version that is not HTTP/1.x,
 * whitespace or a control byte in the target: pinned in regressions.test.ts). A bare 431 for
 * a head over Bun's buffer is accepted for any request; a 413 must carry Prefect's body. After every run the server
 * answers GET /api/health with `true` and, when the run wrote, the store (read through a second
 * handle on the same LMDB environment) passes `check()`; it is checked once more after stop().
 *
 * Run counts: FUZZ_RUNS / 2 runs (see http.fuzz.test.ts).
 */
import { afterAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { DEFAULTS } from '../../src/config.ts';
import { ALL_ROUTES, INVALID_UTF8, buildRequest, requestRecipe } from './generators.ts';
import { compress, newStats, params, replyProblem, summary, timeoutFor, type FuzzRequest } from './support.ts';
import { LiveServer, escaped, exchange, toReply, type Exchange, type RawResponse } from './wire.ts';

const stats = newStats();
afterAll(() => console.log(summary('socket', stats)));

// ── Raw twists on top of a fuzzed request ────────────────────────────────────────────────────

type Framing =
  | 'exact' // Content-Length equal to the body
  | 'none' // no framing header (body bytes, if any, become a pipelined "request")
  | 'chunked' // valid chunked encoding in random chunk sizes
  | 'short' // Content-Length smaller than the body: the rest is pipelined garbage
  | 'long' // Content-Length larger than the body: a truncated body
  | 'bogus' // Content-Length that is not a number
  | 'conflicting' // two different Content-Lengths
  | 'both' // Content-Length and chunked together
  | 'chunked-bad' // a chunk size that is not hex
  | 'chunked-truncated'; // chunked, cut off before the last chunk

interface Twist {
  framing: Framing;
  chunk: number;
  host: string | null;
  version: string;
  methodOverride: string | null;
  /** Raw bytes spliced into the request target (invalid UTF-8, spaces, controls). */
  targetBytes: number[] | null;
  targetAt: number;
  junkHeaders: string[];
  /** Bytes spliced into the body (invalid UTF-8). */
  bodyBytes: number[] | null;
  bodyAt: number;
  /** With a truncated body: give up after 150 ms instead of half-closing (the server is left waiting). */
  abandon: boolean;
  /** GET/HEAD keep their body on the wire (fetch cannot send one). */
  keepBodyOnGet: boolean;
}

const WELL_FORMED_FRAMINGS = new Set<Framing>(['exact', 'none', 'chunked']);
const STANDARD_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

const twist: fc.Arbitrary<Twist> = fc.record({
  framing: fc.oneof(
    { arbitrary: fc.constant('exact' as Framing), weight: 10 },
    { arbitrary: fc.constantFrom<Framing>('none', 'chunked'), weight: 3 },
    { arbitrary: fc.constantFrom<Framing>('short', 'long', 'bogus', 'conflicting', 'both', 'chunked-bad', 'chunked-truncated'), weight: 4 },
  ),
  chunk: fc.integer({ min: 1, max: 64 }),
  host: fc.oneof(
    { arbitrary: fc.constant('127.0.0.1'), weight: 10 },
    { arbitrary: fc.constantFrom<string | null>(null, '', 'x', 'ab', 'abc', 'localhost', '[::1]', 'evil.example:80', 'a'.repeat(300), '127.0.0.1:1'), weight: 3 },
  ),
  version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 12 }, { arbitrary: fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1x', 'http/1.1', 'HTTP/1', ''), weight: 1 }),
  methodOverride: fc.oneof(
    { arbitrary: fc.constant(null), weight: 12 },
    { arbitrary: fc.constantFrom('FOO', 'get', 'PROPFIND', 'TRACE', 'CONNECT', 'G\u0000T', 'GET GET', '', 'POST\t'), weight: 1 },
  ),
  targetBytes: fc.oneof(
    { arbitrary: fc.constant(null), weight: 6 },
    { arbitrary: fc.constantFrom(...INVALID_UTF8, [0x20], [0x09], [0x00], [0x7f], [0x23], [0x3f], [0x25], [0x25, 0x32]), weight: 1 },
  ),
  targetAt: fc.nat(),
  junkHeaders: fc.oneof(
    { arbitrary: fc.constant([] as string[]), weight: 8 },
    {
      arbitrary: fc.array(
        fc.constantFrom(
          'X-Junk', 'X-Nul: a\u0000b', ': empty-name', 'Bad Header: x', 'X-Long: ' + 'a'.repeat(20_000), ' folded: continuation',
          'Content-Type: application/json', 'Content-Type: text/plain', 'X-Prefect-Api-Version: 0.8.4', 'X-Prefect-Api-Version: 0.1.0',
          'Transfer-Encoding: gzip', 'Transfer-Encoding: identity', 'Expect: 100-continue', 'Connection: keep-alive', 'Host: second.example',
          'X-Latin1: \u00ff\u00fe', 'Content-Encoding: gzip',
        ),
        { minLength: 1, maxLength: 3 },
      ),
      weight: 1,
    },
  ),
  bodyBytes: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.constantFrom(...INVALID_UTF8), weight: 1 }),
  bodyAt: fc.nat(),
  abandon: fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 }),
  keepBodyOnGet: fc.boolean(),
});

interface Wire {
  bytes: Buffer;
  wellFormed: boolean;
  method: string;
  /** The target as the oracle reads it (latin1 text of the bytes). */
  path: string;
  headers: [string, string][];
  halfClose: boolean;
  abandon: boolean;
}

const splice = (buf: Buffer, at: number, bytes: number[]) => {
  const i = buf.length === 0 ? 0 : at % (buf.length + 1);
  return Buffer.concat([buf.subarray(0, i), Buffer.from(bytes), buf.subarray(i)]);
};

function toWire(req: FuzzRequest, t: Twist, port: number): Wire {
  const method = t.methodOverride ?? req.method.toUpperCase();
  let target = Buffer.from(req.path.startsWith('/') ? req.path : `/${req.path}`, 'utf8');
  // Characters a URL parser would have escaped must be escaped here too: spaces etc. only via the twist.
  target = Buffer.from(target.toString('latin1').replace(/[\u0000-\u0020\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`), 'latin1');
  if (t.targetBytes) target = splice(target, t.targetAt, t.targetBytes);
  let body: Buffer = req.body === undefined ? Buffer.alloc(0) : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body);
  if ((method === 'GET' || method === 'HEAD') && !t.keepBodyOnGet) body = Buffer.alloc(0);
  if (t.bodyBytes) body = splice(body, t.bodyAt, t.bodyBytes);

  const lines: string[] = [];
  const head: [string, string][] = [];
  if (t.host !== null) head.push(['Host', t.host === '127.0.0.1' ? `127.0.0.1:${port}` : t.host]);
  for (const [k, v] of req.headers) {
    if (['content-length', 'transfer-encoding', 'host', 'connection'].includes(k.toLowerCase())) continue;
    head.push([k, v]);
  }
  head.push(['Connection', 'close']);
  let payload = body;
  switch (t.framing) {
    case 'exact':
      if (body.length > 0 || method === 'POST' || method === 'PATCH' || method === 'PUT') head.push(['Content-Length', String(body.length)]);
      break;
    case 'none':
      break;
    case 'short':
      head.push(['Content-Length', String(Math.max(0, body.length - 1 - (t.chunk % Math.max(1, body.length))))]);
      break;
    case 'long':
      head.push(['Content-Length', String(body.length + t.chunk)]);
      break;
    case 'bogus':
      head.push(['Content-Length', ['abc', '-1', '1e3', '0x10', '', ' 5', '99999999999999999999999'][t.chunk % 7]]);
      break;
    case 'conflicting':
      head.push(['Content-Length', String(body.length)], ['Content-Length', String(body.length + 1)]);
      break;
    case 'both':
      head.push(['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']);
      payload = chunked(body, t.chunk);
      break;
    case 'chunked':
      head.push(['Transfer-Encoding', 'chunked']);
      payload = chunked(body, t.chunk);
      break;
    case 'chunked-bad':
      head.push(['Transfer-Encoding', 'chunked']);
      payload = Buffer.concat([Buffer.from('zz\r\n'), body, Buffer.from('\r\n0\r\n\r\n')]);
      break;
    case 'chunked-truncated':
      head.push(['Transfer-Encoding', 'chunked']);
      payload = chunked(body, t.chunk).subarray(0, Math.max(0, chunked(body, t.chunk).length - 5 - (t.chunk % 3)));
      break;
  }
  for (const [k, v] of head) lines.push(`${k}: ${v}`);
  lines.push(...t.junkHeaders);
  const requestLine = Buffer.concat([Buffer.from(`${method} `, 'latin1'), target, Buffer.from(` ${t.version}`.trimEnd(), 'latin1')]);
  const bytes = Buffer.concat([requestLine, Buffer.from(`\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);

  const headerOk = (v: string) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v);
  const wellFormed =
    WELL_FORMED_FRAMINGS.has(t.framing) &&
    !(t.framing === 'none' && body.length > 0) &&
    t.version === 'HTTP/1.1' &&
    STANDARD_METHODS.has(method) &&
    t.targetBytes === null &&
    /^[\x21-\x7e]+$/.test(target.toString('latin1')) &&
    t.junkHeaders.length === 0 &&
    t.host !== null && // (an empty Host is valid: RFC 9112 §3.2)
    !((method === 'GET' || method === 'HEAD') && body.length > 0) &&
    head.every(([k, v]) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) && headerOk(v));
  // Complete requests are sent on an open connection (Connection: close ends it). A truncated one
  // is either half-closed (the client is done) or abandoned after a short wait.
  const truncated = t.framing === 'long' || t.framing === 'chunked-truncated';
  return { bytes, wellFormed, method, path: target.toString('latin1'), headers: head, halfClose: truncated && !t.abandon, abandon: truncated && t.abandon };
}

function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

// ── The oracle for an exchange ───────────────────────────────────────────────────────────────

const describeWire = (w: Wire) =>
  `${JSON.stringify(compress(w.bytes.toString('latin1')).slice(0, 2500))} (${w.wellFormed ? 'well-formed' : 'malformed'}, ${w.halfClose ? 'then half-closed' : w.abandon ? 'then abandoned' : 'connection left open'})`;

/** A request line Bun's parser can split: method, a target without whitespace or controls, HTTP/1.x. */
const strictRequestLine = (bytes: Buffer) =>
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [\x21-\x7e\x80-\xff]+ HTTP\/1\.[01]$/.test(bytes.subarray(0, Math.max(0, bytes.indexOf('\r\n'))).toString('latin1'));

/** Bun's HTTP parser refusing a request: a bare status line with no content type and no body. */
const isParserRefusal = (r: RawResponse) => !r.headers.has('content-type') && r.body.length === 0 && [400, 413, 431].includes(r.status);
/**
 * The size limit of the HTTP layer, answered bare: 431 for a request line plus headers over
 * Bun's buffer (e.g. a 30 KB query string). Bodies are the app's to limit: every 413 is JSON.
 */
const isSizeLimit = (r: RawResponse) => isParserRefusal(r) && r.status === 431;

function exchangeProblem(w: Wire, ex: Exchange): string | undefined {
  const [first, ...rest] = ex.responses;
  if (!first) {
    if (w.wellFormed) return ex.closed ? 'no response: the server closed the connection' : 'no response within the timeout';
    return undefined;
  }
  const check = (r: RawResponse, method: string, path: string): string | undefined => {
    // Bun's parser answers a bare 505 to a request line it cannot split into three tokens
    // (whitespace or a control byte inside the target). That is pinned in regressions.test.ts; here it
    // counts as the parser refusing a malformed request, so the property keeps looking further.
    if (r.status === 505 && isParserRefusal({ ...r, status: 400 }) && !strictRequestLine(w.bytes)) return undefined;
    if (r.status >= 500) return `server error ${r.status} ${r.reason}`;
    if (isSizeLimit(r)) return undefined;
    if (isParserRefusal(r)) return w.wellFormed && r === first ? `a well-formed request was refused by the HTTP parser (${r.status})` : undefined;
    if (method === 'HEAD' && r.body.length > 0) return 'a HEAD reply has a body';
    return replyProblem({ method, path, headers: w.headers }, toReply(r), path);
  };
  const problem = check(first, w.method, w.path);
  if (problem) return problem;
  // Pipelined leftovers (a short Content-Length) are requests of their own: same rules, path unknown.
  for (const r of rest) {
    const p = check(r, 'POST', '/?');
    if (p) return `${p} (in a response to pipelined leftover bytes)`;
  }
  return undefined;
}

async function send(live: LiveServer, wire: Wire): Promise<Exchange> {
  stats.requests++;
  const ex = await exchange(live.port, wire.bytes, { halfClose: wire.halfClose, timeoutMs: wire.abandon ? 150 : 5000, head: wire.method === 'HEAD' });
  for (const r of ex.responses) {
    stats.statuses.set(r.status, (stats.statuses.get(r.status) ?? 0) + 1);
    if (r.status >= 500) stats.fiveXX++;
  }
  return ex;
}

/** FUZZ_KEEP_GOING=1: distinct failures, reported together at the end (see support.ts). */
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';
const findingsByKind = new Map<string, string>();

function fail(kind: string, message: string): void {
  if (!KEEP_GOING) throw new Error(message);
  if (!findingsByKind.has(kind)) findingsByKind.set(kind, message);
}

async function expectSound(live: LiveServer, wire: Wire, ex: Exchange) {
  const problem = exchangeProblem(wire, ex);
  if (problem) {
    const cause = escaped.length > 0 ? `\n  escaped from app.handle: ${escaped.at(-1)}` : '';
    fail(
      `${problem} ${wire.method}`,
      `${problem}\n  sent:     ${describeWire(wire)}\n  received: ${JSON.stringify(compress(ex.raw.toString('latin1')).slice(0, 1500))}${cause}`,
    );
  }
  const down = await live.health();
  if (down) fail('down', `${down} after\n  sent: ${describeWire(wire)}`);
}

// ── Properties ───────────────────────────────────────────────────────────────────────────────

test(
  'raw requests over TCP: fuzzed routes, bodies and headers with broken framing, bytes and hosts',
  async () => {
    const live = new LiveServer(stats, { maxBodyBytes: 256 * 1024 });
    await live.open();
    let failure: unknown;
    try {
      await fc.assert(
        fc.asyncProperty(requestRecipe(ALL_ROUTES, DEFAULTS.maxJsonDepth), twist, async (recipe, t) => {
          await live.rotateEvery(150);
          const req = buildRequest(recipe, ALL_ROUTES, live.world);
          const wire = toWire(req, t, live.port);
          escaped.length = 0;
          const ex = await send(live, wire);
          try {
            await expectSound(live, wire, ex);
          } catch (error) {
            live.broken = true; // fast-check shrinks next: start each attempt on a fresh server
            throw error;
          }
          if (wire.method !== 'GET' && wire.method !== 'HEAD') {
            const findings = live.side.check();
            if (findings.length > 0) {
              live.broken = true; // start the next run on a fresh server
              fail(`store ${findings[0].split(':')[0]}`, `store invariants broken after\n  sent: ${describeWire(wire)}\n  ${findings.slice(0, 5).join('\n  ')}`);
            }
          }
        }),
        params(0.5),
      );
      if (findingsByKind.size > 0) {
        failure = new Error(`${findingsByKind.size} distinct failures (FUZZ_KEEP_GOING):\n\n${[...findingsByKind.values()].join('\n\n')}`);
      }
    } catch (error) {
      failure = error;
      live.broken = true;
    }
    const broken = live.broken;
    const findings = await live.close();
    if (failure) throw failure;
    if (!broken) expect(findings).toEqual([]);
  },
  timeoutFor(0.5, 60),
);

test('fixed adversarial exchanges: each answered without a 5xx, and the server stays up', async () => {
  const live = new LiveServer(stats, { maxBodyBytes: 64 * 1024 });
  await live.open();
  const host = `Host: 127.0.0.1:${live.port}`;
  const artifact = live.world.artifactIds[0];
  const bad = (b: number[]) => Buffer.from(b);
  const cases: [string, Buffer, boolean, boolean?][] = [
    // [name, bytes, well-formed, half-close after sending (for bodies that never complete)]
    ['invalid UTF-8 in a body string', Buffer.concat([Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"data":"`), bad([0xff, 0x22, 0x7d])]), true],
    ['invalid UTF-8 as a key', Buffer.concat([Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"key":"`), bad([0xc0, 0x80, 0x22, 0x7d])]), true],
    ['invalid UTF-8 in a flow name', Buffer.concat([Buffer.from(`POST /api/flows/ HTTP/1.1\r\n${host}\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{"name":"`), bad([0xed, 0xa0, 0x80, 0x22, 0x7d])]), true],
    ['a UTF-16 body', Buffer.concat([Buffer.from(`POST /api/artifacts/filter HTTP/1.1\r\n${host}\r\nContent-Length: 6\r\nConnection: close\r\n\r\n`), bad([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])]), true],
    ['raw 0xFF in the target', Buffer.concat([Buffer.from('GET /api/artifacts/'), bad([0xff]), Buffer.from(`/latest HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`)]), false],
    ['raw 0xFF in a flow name path', Buffer.concat([Buffer.from('GET /api/flows/name/'), bad([0xff, 0xfe]), Buffer.from(` HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`)]), false],
    ['raw UTF-8 in an id path', Buffer.from(`DELETE /api/artifacts/é HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`, 'utf8'), false],
    ['a truncated body (Content-Length 100, 8 sent)', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"data":`), false, true],
    ['a truncated PATCH body', Buffer.from(`PATCH /api/artifacts/${artifact} HTTP/1.1\r\n${host}\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{"data":[1,2`), false, true],
    ['Content-Length shorter than the body', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 5\r\n\r\n{"data":1}`), false],
    ['Content-Length: abc', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}`), false],
    ['Content-Length: -1', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}`), false],
    ['two Content-Lengths', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}`), false],
    ['Content-Length and chunked', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n`), false],
    ['a Content-Length over the limit', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{}`), false],
    ['a declared size just over the limit', Buffer.concat([Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nContent-Length: ${64 * 1024 + 1}\r\nConnection: close\r\n\r\n`), Buffer.alloc(64 * 1024 + 1, 0x20)]), true],
    ['a chunked body over the limit', Buffer.concat([Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`), chunked(Buffer.from(JSON.stringify({ data: 'x'.repeat(200 * 1024) })), 16 * 1024)]), true],
    ['a chunk size that is not hex', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`), false],
    ['a chunked body cut short', Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\n${host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n10\r\n{}`), false, true],
    ['GET with a body', Buffer.from(`GET /api/artifacts/${artifact} HTTP/1.1\r\n${host}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), false],
    ['multipart with a bogus boundary to a JSON route', Buffer.from(`POST /api/artifacts/filter HTTP/1.1\r\n${host}\r\nContent-Type: multipart/form-data; boundary=zz\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), true],
    ['a form body to a GET route', Buffer.from(`GET /api/hello HTTP/1.1\r\n${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1`), false],
    ['a JSON body to a GET route', Buffer.from(`GET /api/ready HTTP/1.1\r\n${host}\r\nContent-Type: application/json\r\nContent-Length: 1\r\nConnection: close\r\n\r\n{`), false],
    ['Expect: 100-continue', Buffer.from(`POST /api/artifacts/count HTTP/1.1\r\n${host}\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), true],
    ['an unknown method', Buffer.from(`FOO /api/health HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`), false],
    ['HEAD of a missing route', Buffer.from(`HEAD /api/nope HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`), true],
    ['HTTP/1.0 without Host', Buffer.from('GET /api/version HTTP/1.0\r\n\r\n'), true],
    ['HTTP/9.9', Buffer.from(`GET /api/health HTTP/9.9\r\n${host}\r\n\r\n`), false],
    ['no Host', Buffer.from('GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n'), false],
    ['a header line without a colon', Buffer.from(`GET /api/health HTTP/1.1\r\n${host}\r\nBogus\r\nConnection: close\r\n\r\n`), false],
    ['NUL in a header value', Buffer.from(`GET /api/hello HTTP/1.1\r\n${host}\r\nX-Prefect-Api-Version: 0.8\u0000.4\r\nConnection: close\r\n\r\n`), false],
    ['latin-1 bytes in the version header', Buffer.concat([Buffer.from(`GET /api/hello HTTP/1.1\r\n${host}\r\nX-Prefect-Api-Version: `), bad([0xff, 0xfe]), Buffer.from('\r\nConnection: close\r\n\r\n')]), true],
    ['a 64 KiB header', Buffer.from(`GET /api/hello HTTP/1.1\r\n${host}\r\nX-Long: ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`), false],
    ['an absolute-form target', Buffer.from(`GET http://evil.example/api/health HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`), true],
    ['an asterisk target', Buffer.from(`OPTIONS * HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`), false],
    ['a target without a leading slash', Buffer.from(`GET api/health HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`), false],
    ['garbage', Buffer.from('\u0000\u0001\u0002garbage\r\n\r\n'), false],
    ['nothing at all', Buffer.from(''), false, true],
    ['two pipelined requests', Buffer.from(`GET /api/health HTTP/1.1\r\n${host}\r\n\r\nGET /api/version HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`), true],
  ];
  const problems: string[] = [];
  for (const [name, bytes, wellFormed, halfClose = false] of cases) {
    const method = bytes.subarray(0, bytes.indexOf(' ')).toString('latin1');
    const path = bytes.subarray(bytes.indexOf(' ') + 1, bytes.indexOf(' ', bytes.indexOf(' ') + 1)).toString('latin1');
    const wire: Wire = { bytes, wellFormed, method, path, headers: [], halfClose, abandon: false };
    const t0 = performance.now();
    const ex = await send(live, wire);
    if (process.env.FUZZ_TRACE === '1') console.error(`fixed> ${name}: ${Math.round(performance.now() - t0)} ms, ${ex.closed ? 'closed' : 'timed out'}`);
    const problem = exchangeProblem(wire, ex);
    if (problem) problems.push(`${name}: ${problem}\n  received: ${JSON.stringify(ex.raw.toString('latin1').slice(0, 300))}`);
    escaped.length = 0;
    const down = await live.health();
    if (down) problems.push(`${name}: ${down}`);
  }
  const findings = await live.close();
  expect(problems).toEqual([]);
  expect(findings).toEqual([]);
}, 60_000);
