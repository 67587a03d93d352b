/**
 * Where the artifact commands (`ls`, `inspect`, `delete`) read and delete: the data dir itself
 * (safe beside a running server, as `check` is: LMDB gives readers a snapshot and serializes
 * writers across processes), or a server over HTTP (`--api URL`) through the same routes a
 * Prefect client uses. Both answer with the API's artifact JSON, so output code is shared and
 * `--json` prints exactly what the REST API returns (the stored text, `data` never re-encoded).
 */
import { clientAuthSetting } from '../config.ts';
import type { ArtifactCollectionJson, ArtifactJson } from '../schemas/artifact-json.ts';
import type { Sort } from '../schemas/artifacts.ts';
import type { ArtifactFilter } from '../schemas/filters.ts';
import { jsonArray } from '../store/records.ts';
import type { Store } from '../store/contract.ts';
import { UsageError, type OptionSpec } from './command.ts';
import { openCommandStore, storeOptions } from './store-options.ts';

/** An Artifact (or, from `latest`, an ArtifactCollection with `latest_id`) as the API returns it. */
export type ArtifactRow = ArtifactJson & Partial<Pick<ArtifactCollectionJson, 'latest_id'>>;

/** Rows for human output, and the JSON array text for `--json`. */
export interface Listing {
  rows: ArtifactRow[];
  json: string;
}

export interface ArtifactSource {
  /** Latest version of each key, by key (what `/artifacts/latest/filter` returns). */
  latest(limit: number | undefined): Promise<Listing>;
  /** Every version of every artifact, keyless ones too, by key then created. */
  all(limit: number | undefined): Promise<Listing>;
  /** Every version of `key`, newest (by created) first. */
  versions(key: string, limit: number | undefined): Promise<Listing>;
  /** One artifact by id, or undefined. */
  get(id: string): Promise<ArtifactJson | undefined>;
  /** Deletes these artifacts (each as `DELETE /artifacts/{id}` does); returns how many existed. */
  deleteIds(ids: string[]): Promise<number>;
  close(): Promise<void>;
}

/** A failure talking to the source (not found, unreachable, refused): one line, exit status 1. */
export class SourceError extends Error {}

/** The options every artifact command takes to pick its source. */
export const SOURCE_OPTIONS: Record<string, OptionSpec> = {
  ...storeOptions('the store to use'),
  api: { type: 'string', value: 'URL', description: 'use a running server instead, e.g. http://127.0.0.1:4200/api' },
  'auth-string': { type: 'string', value: 'USER:PASS', description: "the server's basic auth (env PREFECT_API_AUTH_STRING), with --api" },
};

export function openSource(values: Record<string, unknown>): ArtifactSource {
  const api = values.api as string | undefined;
  const auth = clientAuthSetting(values['auth-string'] as string | undefined);
  if (api === undefined) {
    if (values['auth-string'] !== undefined) throw new UsageError('--auth-string goes with --api');
    return new LocalSource(openCommandStore(values));
  }
  if (values['data-dir'] !== undefined || values['database-url'] !== undefined) throw new UsageError('give either --data-dir (or --database-url) or --api, not both');
  if (!/^https?:\/\/[^/]+/.test(api)) throw new UsageError(`invalid --api "${api}": expected a URL such as http://127.0.0.1:4200/api`);
  if (auth !== undefined && auth !== '' && !auth.includes(':')) throw new UsageError('the auth string must look like user:password');
  return new RemoteSource(api.replace(/\/+$/, ''), auth || undefined);
}

const keyFilter = (key: string): ArtifactFilter => ({ key: { any_: [key] } }) as ArtifactFilter;
/** Deletes per local transaction: bounded, so a huge key never holds the write lock for long. */
const LOCAL_DELETE_BATCH = 500;

class LocalSource implements ArtifactSource {
  /** Opening (a PostgreSQL connection) is awaited by the first use, where its failure is reported. */
  constructor(private readonly opening: Promise<Store>) {
    opening.catch(() => {}); // reported by whichever method awaits it
  }

  private listing(texts: string[]): Listing {
    return { rows: texts.map((t) => JSON.parse(t) as ArtifactRow), json: jsonArray(texts) };
  }

  private page(limit: number | undefined) {
    return { offset: 0, limit: limit ?? Number.MAX_SAFE_INTEGER };
  }

  async latest(limit: number | undefined) {
    return this.listing(await (await this.opening).artifacts.findLatestJson(null, 'KEY_ASC', this.page(limit)));
  }

  async all(limit: number | undefined) {
    return this.listing(await (await this.opening).artifacts.findJson(null, 'KEY_ASC', this.page(limit)));
  }

  async versions(key: string, limit: number | undefined) {
    return this.listing(await (await this.opening).artifacts.findJson(keyFilter(key), 'CREATED_DESC', this.page(limit)));
  }

  async get(id: string) {
    const text = await (await this.opening).artifacts.getJson(id);
    return text === undefined ? undefined : (JSON.parse(text) as ArtifactJson);
  }

  async deleteIds(ids: string[]) {
    let deleted = 0;
    for (let i = 0; i < ids.length; i += LOCAL_DELETE_BATCH) {
      deleted += (await (await this.opening).artifacts.deleteMany(ids.slice(i, i + LOCAL_DELETE_BATCH))).length;
    }
    return deleted;
  }

  async close() {
    return (await this.opening).close();
  }
}

/** The largest page asked of a server; less when its limit is lower (it says so in a 422). */
const REMOTE_PAGE = 200;
/** A server that accepts the connection but never answers must not hang the command. */
const REQUEST_TIMEOUT_MS = 30_000;
/** DELETEs in flight at once against a server. */
const REMOTE_DELETE_CONCURRENCY = 8;

const URL_HINT = (base: string) => ` (is ${base} the API's URL, ending in /api?)`;

class RemoteSource implements ArtifactSource {
  private pageSize = REMOTE_PAGE;
  /** Prefect's CSRF headers, fetched before the first POST/DELETE; null when the server has CSRF off. */
  private csrf: Promise<Record<string, string> | null> | undefined;
  /**
   * `/csrf-token` answered 404: an old server, or a URL that is not the API's. A 403 for a missing
   * token then means the latter (a CSRF-protecting server outside `/api`).
   */
  private csrfRouteMissing = false;

  constructor(
    private readonly base: string,
    private readonly authString: string | undefined,
  ) {}

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authString !== undefined) headers.authorization = `Basic ${Buffer.from(this.authString).toString('base64')}`;
    if (method !== 'GET') Object.assign(headers, (await (this.csrf ??= this.fetchCsrf())) ?? {});
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const why = (error as Error).name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : (error as Error).message;
      throw new SourceError(`cannot reach ${this.base}: ${why}`);
    }
    if (response.status === 401) throw new SourceError(`${this.base} refused the credentials (401): check --auth-string or PREFECT_API_AUTH_STRING`);
    if (response.status === 403) throw new SourceError(`${this.base} refused the request (403): ${await response.text()}${this.csrfRouteMissing ? URL_HINT(this.base) : ''}`);
    return response;
  }

  /**
   * As Prefect's client does: ask for a token once; a 422 means the server has CSRF off (and a
   * 404, a server too old to have the route).
   */
  private async fetchCsrf(): Promise<Record<string, string> | null> {
    const client = crypto.randomUUID();
    const response = await this.requestGet(`/csrf-token?client=${client}`);
    if (response.status === 404) this.csrfRouteMissing = true;
    if (response.status === 422 || response.status === 404) return null;
    if (!response.ok) throw new SourceError(`${this.base} did not issue a CSRF token (${response.status})`);
    const { token } = (await response.json()) as { token: string };
    return { 'prefect-csrf-token': token, 'prefect-csrf-client': client };
  }

  private requestGet(path: string) {
    return this.request('GET', path);
  }

  private async failure(response: Response, what: string): Promise<never> {
    const hint = response.status === 404 ? URL_HINT(this.base) : '';
    throw new SourceError(`${what} failed: HTTP ${response.status} ${(await response.text()).slice(0, 300)}${hint}`);
  }

  /** Reads pages of a filter route until `limit` rows or the end. */
  private async pages(path: string, body: Record<string, unknown>, sort: Sort, limit: number | undefined): Promise<Listing> {
    const rows: ArtifactRow[] = [];
    const texts: string[] = [];
    for (;;) {
      const want = Math.min(this.pageSize, (limit ?? Infinity) - rows.length);
      if (want <= 0) break;
      const response = await this.request('POST', path, { ...body, sort, limit: want, offset: rows.length });
      if (response.status === 422) {
        const text = await response.text();
        const max = /Invalid limit: must be less than or equal to (\d+)/.exec(text);
        if (max && Number(max[1]) > 0 && Number(max[1]) < this.pageSize) {
          this.pageSize = Number(max[1]);
          continue;
        }
        throw new SourceError(`POST ${path} failed: HTTP 422 ${text.slice(0, 300)}`);
      }
      if (!response.ok) await this.failure(response, `POST ${path}`);
      const text = await response.text();
      const page = JSON.parse(text) as ArtifactRow[];
      rows.push(...page);
      if (page.length > 0) texts.push(text.slice(text.indexOf('[') + 1, text.lastIndexOf(']')));
      if (page.length < want) break;
    }
    return { rows, json: jsonArray(texts) };
  }

  latest(limit: number | undefined) {
    return this.pages('/artifacts/latest/filter', {}, 'KEY_ASC', limit);
  }

  all(limit: number | undefined) {
    return this.pages('/artifacts/filter', {}, 'KEY_ASC', limit);
  }

  versions(key: string, limit: number | undefined) {
    return this.pages('/artifacts/filter', { artifacts: keyFilter(key) }, 'CREATED_DESC', limit);
  }

  async get(id: string) {
    const response = await this.requestGet(`/artifacts/${id}`);
    if (response.status === 404) return undefined;
    if (!response.ok) await this.failure(response, `GET /artifacts/${id}`);
    return (await response.json()) as ArtifactJson;
  }

  async deleteIds(ids: string[]) {
    let deleted = 0;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const response = await this.request('DELETE', `/artifacts/${id}`);
        if (response.status === 204) deleted++;
        else if (response.status !== 404) await this.failure(response, `DELETE /artifacts/${id}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REMOTE_DELETE_CONCURRENCY, ids.length) }, worker));
    return deleted;
  }

  async close() {}
}
