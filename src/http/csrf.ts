/**
 * CSRF protection as Prefect's middleware does it when `PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED`
 * is on: every POST, PUT, PATCH and DELETE must carry `Prefect-Csrf-Token` and
 * `Prefect-Csrf-Client` headers naming an unexpired token issued by `GET /api/csrf-token`.
 * Failures answer 403 with Prefect's texts (clients retry once on "Invalid CSRF token").
 */
import { ApiError } from './errors.ts';

const PROTECTED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const forbidden = (detail: string, headers: Record<string, string> = {}) => new ApiError(403, { detail }, headers);

/** Throws (or, when the store answers asynchronously, rejects with) Prefect's 403. */
export function checkCsrf(request: Request, isValid: (client: string, token: string) => boolean | Promise<boolean>): void | Promise<void> {
  if (!PROTECTED_METHODS.has(request.method)) return;
  const token = request.headers.get('prefect-csrf-token');
  const client = request.headers.get('prefect-csrf-client');
  if (token === null) throw forbidden('Missing CSRF token.');
  if (client === null) throw forbidden('Missing client identifier.');
  const valid = isValid(client, token);
  if (valid instanceof Promise) return valid.then(refuseUnless);
  refuseUnless(valid);
}

function refuseUnless(valid: boolean): void {
  if (!valid) throw forbidden('Invalid CSRF token or client identifier.', { 'access-control-allow-origin': '*' });
}
