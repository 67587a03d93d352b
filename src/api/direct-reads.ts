/**
 * The two hottest reads — an artifact by id and the latest artifact of a key — answered before
 * the router, where the store can answer them without a promise (LMDB; contract.ts DirectReads). Clients poll these; on them Elysia's per-request context, second URL read,
 * router lookup and async handler cost more than the store read itself (see bench/README.md).
 *
 * Only the plain case is answered here: a GET of a canonical lower-case UUID, or of a key made
 * of URL-safe characters, that exists. Every other spelling, a miss, HEAD and every error falls
 * through to the router, which stays the one reference for those answers.
 */
import { checkApiVersion } from '../http/api-version.ts';
import { jsonText } from '../http/respond.ts';
import type { DirectReads } from '../store/contract.ts';

const PREFIX = '/api/artifacts/';
const LATEST = '/latest';
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Characters that a URL path carries as themselves: the router would decode nothing. */
const PLAIN_KEY = /^[A-Za-z0-9._~-]+$/;

/** Answers `GET /api/artifacts/{id}` and `GET /api/artifacts/{key}/latest` when it plainly can. */
export function directRead(store: DirectReads, request: Request, path: string): Response | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const rest = path.slice(PREFIX.length);
  let json: string | undefined;
  if (rest.length === 36 && CANONICAL_UUID.test(rest)) {
    json = store.artifactJson(rest);
  } else if (rest.endsWith(LATEST)) {
    const key = rest.slice(0, -LATEST.length);
    if (!PLAIN_KEY.test(key)) return undefined;
    json = store.latestByKeyJson(key);
  }
  if (json === undefined) return undefined;
  checkApiVersion(request); // the router checks it first too: a bad header is a 400 either way
  return jsonText(200, json);
}
