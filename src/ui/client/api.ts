/**
 * Calls to the artifact API, the way Prefect's UI makes them: `Authorization: Basic …` from
 * the credentials the user signed in with (kept in localStorage), and Prefect's CSRF headers
 * on every request that changes or queries with a body when the server has CSRF protection on
 * (it says so by issuing a token; a server with it off answers 422 and is not asked again).
 */

import type { ArtifactJson as Artifact, ArtifactCollectionJson as ArtifactCollection } from '../../schemas/artifact-json.ts';

export type { Artifact, ArtifactCollection };

/** A run's current state, as the API nests it (only the fields the pages read). */
export interface RunState {
  type: string;
  name: string | null;
  timestamp: string;
  message: string | null;
  state_details: { child_flow_run_id?: string | null } | null;
}

/** The fields flow runs and task runs share (Prefect's run times and counts). */
export interface Run {
  id: string;
  name: string;
  state_type: string | null;
  state_name: string | null;
  state: RunState | null;
  tags: string[];
  run_count: number;
  expected_start_time: string | null;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
}

export interface FlowRun extends Run {
  flow_id: string;
  parameters: Record<string, unknown> | null;
  parent_task_run_id: string | null;
}

export interface TaskRun extends Run {
  flow_run_id: string | null;
  empirical_policy: { retries?: number | null; max_retries?: number } | null;
}

export interface Flow {
  id: string;
  name: string;
}

/** One log line of `POST /logs/filter` (Prefect 3.0.0's Log). */
export interface LogLine {
  id: string;
  name: string;
  level: number;
  message: string;
  timestamp: string;
  flow_run_id: string | null;
  task_run_id: string | null;
}

/** The API answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(describe(status, body));
  }
}

/** The API wants credentials (401): the page shows the sign-in form. */
export class SignInRequired extends Error {}

function describe(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === 'string') return b.detail;
    if (typeof b.exception_message === 'string') return b.exception_message;
  }
  return `HTTP ${status}`;
}

// ── Credentials ────────────────────────────────────────────────────────────────────────────

const AUTH_KEY = 'artifactd.basic-auth';

function storedAuth(): string | null {
  try {
    return localStorage.getItem(AUTH_KEY);
  } catch {
    return null; // storage disabled: the user is asked again
  }
}

export const hasCredentials = () => storedAuth() !== null;

/** base64 of the UTF-8 bytes of `user:password`, as the server decodes it. */
function basic(user: string, password: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${user}:${password}`)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Tries the credentials on a protected route; keeps them when the server accepts them. */
export async function signIn(user: string, password: string): Promise<boolean> {
  const candidate = basic(user, password);
  const response = await fetch('/api/version', { headers: { authorization: `Basic ${candidate}` } });
  if (response.status === 401) return false;
  localStorage.setItem(AUTH_KEY, candidate);
  csrf = null; // a token belongs to the credentials it was issued under
  return true;
}

export function signOut(): void {
  localStorage.removeItem(AUTH_KEY);
  csrf = null;
}

// ── CSRF ───────────────────────────────────────────────────────────────────────────────────

/** null: not asked yet; 'off': the server does not use CSRF tokens. */
let csrf: { client: string; token: string; expires: number } | 'off' | null = null;

/** A random client id (crypto.randomUUID needs a secure context; plain http on a LAN is not one). */
function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The token request in flight, shared by the requests that need one at the same moment. */
let pendingToken: Promise<void> | null = null;

async function fetchToken(): Promise<void> {
  const client = csrf === null || csrf === 'off' ? newClientId() : csrf.client;
  const response = await fetch(`/api/csrf-token?client=${encodeURIComponent(client)}`, { headers: authHeaders() });
  if (response.status === 401) throw new SignInRequired();
  if (response.status === 422) {
    csrf = 'off';
    return;
  }
  const body = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, body);
  const issued = body as { token: string; expiration: string };
  csrf = { client, token: issued.token, expires: Date.parse(issued.expiration) };
}

async function csrfHeaders(refresh: boolean): Promise<Record<string, string>> {
  // Renew a minute before expiry so a token never lapses in flight.
  if (csrf !== 'off' && (refresh || csrf === null || csrf.expires - 60_000 < Date.now())) {
    pendingToken ??= fetchToken().finally(() => (pendingToken = null));
    await pendingToken;
  }
  if (csrf === null || csrf === 'off') return {};
  return { 'Prefect-Csrf-Token': csrf.token, 'Prefect-Csrf-Client': csrf.client };
}

// ── Requests ───────────────────────────────────────────────────────────────────────────────

function authHeaders(): Record<string, string> {
  const auth = storedAuth();
  return auth === null ? {} : { authorization: `Basic ${auth}` };
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One API call; `path` is relative to `/api`. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const send = async (refreshCsrf: boolean) => {
    const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') Object.assign(headers, await csrfHeaders(refreshCsrf));
    return fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let response = await send(false);
  // An expired or forgotten token (e.g. the server's store was reset): fetch a new one, once.
  if (response.status === 403 && csrf !== 'off' && method !== 'GET') response = await send(true);
  if (response.status === 401) throw new SignInRequired();
  const parsed = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed as T;
}

// ── The routes the pages use ───────────────────────────────────────────────────────────────

/** The server's largest page (`--default-limit`, 200 by default), which the server puts in the page. */
export const MAX_LIMIT = Number(document.querySelector('meta[name="artifactd-max-limit"]')?.getAttribute('content')) || 200;

export type Sort = 'UPDATED_DESC' | 'CREATED_DESC' | 'KEY_ASC' | 'KEY_DESC' | 'ID_DESC';

export interface ArtifactQuery {
  artifacts?: Record<string, unknown>;
  sort?: Sort;
  limit?: number;
  offset?: number;
}

export const getArtifact = (id: string) => api<Artifact>('GET', `/artifacts/${encodeURIComponent(id)}`);
export const filterArtifacts = (query: ArtifactQuery) => api<Artifact[]>('POST', '/artifacts/filter', query);
export const countArtifacts = (artifacts: ArtifactQuery['artifacts']) => api<number>('POST', '/artifacts/count', { artifacts });
export const filterLatest = (query: ArtifactQuery) => api<ArtifactCollection[]>('POST', '/artifacts/latest/filter', query);
export const countLatest = (artifacts: ArtifactQuery['artifacts']) => api<number>('POST', '/artifacts/latest/count', { artifacts });
export const deleteArtifact = (id: string) => api<void>('DELETE', `/artifacts/${encodeURIComponent(id)}`);
export const getFlowRun = (id: string) => api<FlowRun>('GET', `/flow_runs/${encodeURIComponent(id)}`);
export const getFlow = (id: string) => api<Flow>('GET', `/flows/${encodeURIComponent(id)}`);
export const getTaskRun = (id: string) => api<TaskRun>('GET', `/task_runs/${encodeURIComponent(id)}`);

/** The filters of the run routes' bodies (`flow_runs`, `task_runs`, …), as Prefect nests them. */
export interface RunQuery {
  flow_runs?: Record<string, unknown>;
  task_runs?: Record<string, unknown>;
  sort?: string;
  limit?: number;
  offset?: number;
}

export const filterFlowRuns = (query: RunQuery) => api<FlowRun[]>('POST', '/flow_runs/filter', query);
export const filterTaskRuns = (query: RunQuery) => api<TaskRun[]>('POST', '/task_runs/filter', query);
export const countTaskRuns = (query: Omit<RunQuery, 'sort' | 'limit' | 'offset'>) => api<number>('POST', '/task_runs/count', query);

export interface LogQuery {
  logs: Record<string, unknown>;
  sort: 'TIMESTAMP_ASC' | 'TIMESTAMP_DESC';
  limit: number;
  offset?: number;
}

/** A page of log lines; an older server without the route answers 404. */
export const filterLogs = (query: LogQuery) => api<LogLine[]>('POST', '/logs/filter', query);

/** The collection row of a key (its `latest_id` names the latest version), or null. */
export async function latestOf(key: string): Promise<ArtifactCollection | null> {
  const rows = await filterLatest({ artifacts: { key: { any_: [key] } }, limit: 1 });
  return rows[0] ?? null;
}
