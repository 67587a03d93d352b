/**
 * HTTP Basic auth as Prefect's `PREFECT_SERVER_API_AUTH_STRING` does it: every API request must
 * carry `Authorization: Basic base64(user:pass)` equal to the configured string (compared in
 * constant time), except `GET /api/health` and `GET /api/ready`, so probes keep working.
 * Failures answer 401 `{"exception_message": "Unauthorized"}`.
 */
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.ts';

const OPEN_PATHS = new Set(['/api/health', '/api/ready']);

export const unauthorized = () => new ApiError(401, { exception_message: 'Unauthorized' });

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Compare against the expected value even on a length mismatch, so timing says nothing.
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

/** Throws 401 unless the request is authorized (or needs no authorization). */
export function checkBasicAuth(request: Request, path: string, authString: string): void {
  if (request.method === 'GET' && OPEN_PATHS.has(path)) return;
  const header = request.headers.get('authorization');
  if (header === null) throw unauthorized();
  const parts = header.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0] !== 'Basic') throw unauthorized();
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(parts[1], 'base64'));
  } catch {
    throw unauthorized();
  }
  if (!sameSecret(decoded, authString)) throw unauthorized();
}
