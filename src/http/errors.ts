/**
 * Prefect's error bodies, in one place. Routes and helpers throw `ApiError`; the app's error hook
 * turns it into a response. Three shapes clients see (`shared/spec/artifacts-api.md` §3):
 * validation (`exception_message`/`exception_detail`/`request_body`), `{"detail": …}`, and the
 * 500/503 `{"exception_message": …}`.
 */
import type { ValidationIssue } from '../validation/validate.ts';
import { JsonResponse } from './respond.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' && body && 'detail' in body ? String((body as any).detail) : `HTTP ${status}`);
  }
}

export const detail = (status: number, text: string, headers?: Record<string, string>) =>
  new ApiError(status, { detail: text }, headers);

export const artifactNotFound = () => detail(404, 'Artifact not found.');

export function validationFailed(issues: ValidationIssue[], requestBody: unknown): ApiError {
  return new ApiError(422, {
    exception_message: 'Invalid request received.',
    exception_detail: issues,
    request_body: requestBody === undefined ? null : requestBody,
  });
}

export const internalError = () => new ApiError(500, { exception_message: 'Internal Server Error' });

export function errorResponse(error: ApiError): Response {
  if (error.body === null) return new Response(null, { status: error.status, headers: error.headers });
  return new JsonResponse(error.status, JSON.stringify(error.body), { 'content-type': 'application/json', ...error.headers });
}
