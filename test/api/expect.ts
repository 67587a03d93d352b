/**
 * Shapes and texts the HTTP tests check again and again: Prefect's id and datetime formats, its
 * limit and integrity error bodies, its 422 envelope, and helpers to read datetimes and raw
 * JSON fields out of replies.
 */
import { expect } from 'bun:test';
import type { Reply } from '../helpers.ts';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/;

export const LIMIT_MAX = { detail: 'Invalid limit: must be less than or equal to 200.' };
export const LIMIT_MIN = { detail: 'Invalid limit: must be greater than or equal to 0.' };
export const INTEGRITY = {
  detail:
    'Data integrity conflict. This usually means a unique or foreign key constraint was violated. See server logs for details.',
};

/** Asserts a reply's status and its whole (parsed) body, e.g. a 404 with a resource's not-found body. */
export function expectReply(reply: Reply, status: number, body: unknown) {
  expect(reply.status).toBe(status);
  expect(reply.body).toEqual(body);
}

/** Asserts a 422 whose body is one of Prefect's limit bodies (LIMIT_MAX or LIMIT_MIN). */
export function limitRejected(reply: Reply, body: typeof LIMIT_MAX) {
  expectReply(reply, 422, body);
}

/** A datetime as µs since the epoch (asserting Prefect's format first). */
export function micros(datetime: string): number {
  expect(datetime).toMatch(DATETIME_RE);
  const seconds = Date.parse(`${datetime.slice(0, 19)}Z`) / 1000;
  const fraction = datetime.length > 20 ? Number(datetime.slice(20, 26)) : 0;
  return seconds * 1_000_000 + fraction;
}

/** Asserts that a datetime lies between two Date.now() readings (±1 s). */
export function nearNow(datetime: string, before: number, after = Date.now()) {
  const ms = micros(datetime) / 1000;
  expect(ms).toBeGreaterThanOrEqual(before - 1000);
  expect(ms).toBeLessThanOrEqual(after + 1000);
}

/** Asserts Prefect's 422 envelope and returns its error list. */
export function validation(reply: Reply): any[] {
  expect(reply.status).toBe(422);
  expect(Object.keys(reply.body)).toEqual(['exception_message', 'exception_detail', 'request_body']);
  expect(reply.body.exception_message).toBe('Invalid request received.');
  expect(Array.isArray(reply.body.exception_detail)).toBe(true);
  expect(reply.body.exception_detail.length).toBeGreaterThan(0);
  return reply.body.exception_detail;
}

/** The `exception_detail` of a normal 422 after checking the envelope. */
export function issues(reply: Reply, requestBody?: unknown): any[] {
  expect(reply.status).toBe(422);
  expect(reply.body.exception_message).toBe('Invalid request received.');
  expect(Array.isArray(reply.body.exception_detail)).toBe(true);
  if (requestBody !== undefined) expect(reply.body.request_body).toEqual(requestBody);
  return reply.body.exception_detail;
}

/** A 422 error as a table of invalid requests states it: its type, loc and (when given) msg. */
export interface Issue {
  type: string;
  loc: (string | number)[];
  msg?: string;
}

/** Asserts a 422 (echoing `requestBody`) that reports exactly one error, the `expected` one. */
export function onlyIssue(reply: Reply, requestBody: unknown, expected: Issue) {
  const detail = issues(reply, requestBody);
  expect(detail).toHaveLength(1);
  expect(detail[0].type).toBe(expected.type);
  expect(detail[0].loc).toEqual(expected.loc);
  if (expected.msg) expect(detail[0].msg).toBe(expected.msg);
}

/** Pydantic's extra_forbidden error for a key at `['body', ...path]` carrying `input`. */
export function extraForbidden(path: string | string[], input: unknown) {
  return {
    type: 'extra_forbidden',
    loc: ['body', ...(Array.isArray(path) ? path : [path])],
    msg: 'Extra inputs are not permitted',
    input,
  };
}

/** Pydantic's uuid_parsing error for `input`, whose character `found` at index `at` is not hex. */
export function invalidUuid(loc: string[], input: string, found: string, at: number) {
  const error = `invalid character: found \`${found}\` at ${at}`;
  return { type: 'uuid_parsing', loc, msg: `Input should be a valid UUID, ${error}`, input, ctx: { error } };
}

/** Prefect's whole 422 body: the error list and the request body it echoes. */
export function validationError(detail: object[], requestBody: unknown) {
  return { exception_message: 'Invalid request received.', exception_detail: detail, request_body: requestBody };
}

/** The raw JSON text of one field, e.g. `0.0` (whitespace after the colon tolerated). */
export function rawField(text: string, name: string): string {
  const match = new RegExp(`"${name}":\\s*([^,}\\]]+)`).exec(text);
  if (!match) throw new Error(`field ${name} not found in ${text}`);
  return match[1]!.trim();
}
