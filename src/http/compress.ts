/**
 * gzip for responses, as Prefect's server does it: its API app runs Starlette's GZipMiddleware
 * with the defaults — a body of at least 500 bytes is compressed when the request's
 * `Accept-Encoding` names gzip (Prefect's Python client always sends it), and the compressed
 * reply gets `Content-Encoding: gzip` and `Vary: Accept-Encoding`. Smaller bodies, empty ones
 * and bodies already encoded (the UI's pre-gzipped files) go out as they are.
 *
 * The level is 2, by measurement (`bun bench/gzip-level.ts`, CPU time per reply): a 200-row
 * filter page (109 KB) shrinks 5.8× in 184 µs at level 2, against 4.4× in 162 µs at level 1,
 * 6.2× in 337 µs at 3, 7.0× in 642 µs at 6 (zlib's default) and 7.1× in 1,260 µs at 9 (what
 * Starlette uses). Past 2 each step buys a few percent of size for far more time on the event
 * loop; below 4 KiB, level 1 (see SMALL_BODY_BYTES). JSON the app built itself (a JsonResponse) is compressed synchronously; any other body
 * is read back first.
 */
import { JsonResponse } from './respond.ts';

/** Starlette's `minimum_size` default, which Prefect keeps. */
export const GZIP_MIN_BYTES = 500;
const GZIP_LEVEL = 2;
/**
 * Below this size level 1: one artifact (~600 bytes) shrinks to 370 bytes in 3.1 µs at level 1
 * and to 300 in 7.5 µs at level 2 — per request, on the hottest routes, the time matters more
 * than 70 bytes.
 */
const SMALL_BODY_BYTES = 4096;

const levelFor = (bytes: number) => ({ level: bytes < SMALL_BODY_BYTES ? 1 : GZIP_LEVEL }) as const;

/** Whether `Accept-Encoding` allows gzip (a `gzip;q=0` refuses it). */
export function acceptsGzip(request: Request): boolean {
  const accepted = request.headers.get('accept-encoding');
  return accepted !== null && /(?:^|[\s,])(?:gzip|\*)(?!\s*;\s*q=0(?:\.0*)?\s*(?:,|$))/i.test(accepted);
}

/** The reply gzipped when the client accepts it and the body is large enough; else the reply. */
export function gzipped(request: Request, reply: Response): Response | Promise<Response> {
  if (reply.body === null || reply.status === 204 || reply.status === 304 || reply.headers.has('content-encoding')) return reply;
  if (!acceptsGzip(request)) return reply;
  if (reply instanceof JsonResponse) {
    const text = reply.bodyText;
    // UTF-8 is at least one byte per UTF-16 unit and at most three: count bytes only when it matters.
    if (text.length < GZIP_MIN_BYTES && (text.length * 3 < GZIP_MIN_BYTES || Buffer.byteLength(text) < GZIP_MIN_BYTES)) return reply;
    return encoded(reply, Bun.gzipSync(text, levelFor(text.length)));
  }
  return reply.arrayBuffer().then((buffer) => {
    const bytes = new Uint8Array(buffer);
    if (bytes.length < GZIP_MIN_BYTES) return new Response(bytes, reply);
    return encoded(reply, Bun.gzipSync(bytes, levelFor(bytes.length)));
  });
}

/** The headers of a gzipped JSON reply with nothing else: one instance (each Response copies it). */
const GZIP_JSON_HEADERS = new Headers({ 'content-type': 'application/json', 'content-encoding': 'gzip', vary: 'Accept-Encoding' });

function encoded(reply: Response, body: Uint8Array<ArrayBuffer>): Response {
  // Still only its content type: a layer after the route (CORS) may have added a header since.
  if (reply instanceof JsonResponse && reply.hasPlainHeaders && (reply.headers as unknown as { count?: number }).count === 1) {
    return new Response(body, { status: reply.status, headers: GZIP_JSON_HEADERS });
  }
  const headers = new Headers(reply.headers);
  headers.set('content-encoding', 'gzip');
  headers.delete('content-length');
  const vary = headers.get('vary');
  if (vary === null) headers.set('vary', 'Accept-Encoding');
  else if (!/\baccept-encoding\b/i.test(vary)) headers.set('vary', `${vary}, Accept-Encoding`);
  return new Response(body, { status: reply.status, statusText: reply.statusText, headers });
}
