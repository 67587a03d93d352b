/**
 * Prefect's `X-PREFECT-API-VERSION` check (`shared/spec/artifacts-api.md` §1): absent is fine;
 * otherwise three dot-separated integers, at least 0.8.0. Every API route runs it except
 * `/health` and `/version`. The messages keep Prefect's wording, missing space included.
 */
import { detail } from './errors.ts';

const MINIMUM = [0, 8, 0];

export function checkApiVersion(request: Request): void {
  const header = request.headers.get('x-prefect-api-version');
  if (header === null) return;
  const parts = header.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^\s*[+-]?\d+\s*$/.test(p))) {
    throw detail(
      400,
      `Invalid X-PREFECT-API-VERSION header format.Expected header in format 'x.y.z' but received ${header}`,
    );
  }
  const version = parts.map(Number);
  for (let i = 0; i < 3; i++) {
    if (version[i] > MINIMUM[i]) return;
    if (version[i] < MINIMUM[i]) {
      throw detail(
        400,
        `The request specified API version ${header} but this server requires version ${MINIMUM.join('.')} or higher.`,
      );
    }
  }
}
