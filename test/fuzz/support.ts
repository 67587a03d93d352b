/**
 * Shared machinery of the fuzz suite (`test/fuzz/*.test.ts`): run counts and seed from the
 * environment, the request model and its sender (through `app.handle`), the oracle every
 * response must satisfy (no 5xx, Prefect's error shapes) and the seeded world. The generators
 * live in `generators.ts`.
 *
 *   FUZZ_RUNS   runs per property (default below; e.g. FUZZ_RUNS=20000 for a long session)
 *   FUZZ_SEED   fast-check seed (default: random, printed so a failure can be replayed)
 */
import type fc from 'fast-check';
import { harness, type Backend, type Harness } from '../helpers.ts';
import type { Config } from '../../src/config.ts';
import { isUiPath } from '../../src/ui/serve.ts';

// ── Run counts and seed ───────────────────────────────────────────────────────────────────────

function intEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * A reply's body as a client reads it: gunzipped when the server gzipped it (the fuzzer sends
 * `Accept-Encoding` too). A gzip body that does not decode reads as a marker the oracle refuses.
 */
export function bodyText(headers: Headers, bytes: Uint8Array<ArrayBuffer>): string {
  if (headers.get('content-encoding') !== 'gzip') return new TextDecoder().decode(bytes);
  try {
    return new TextDecoder().decode(Bun.gunzipSync(bytes));
  } catch {
    return '<a Content-Encoding: gzip body that is not gzip>';
  }
}

/** Runs per property; CI uses the default, which keeps the whole suite well under 20 s. */
export const RUNS = intEnv('FUZZ_RUNS', 500);
/** The seed of every `fc.assert` in this process (print it; pass it back to replay). */
export const SEED = intEnv('FUZZ_SEED', (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) >>> 0);

/** FUZZ_TRACE=1 prints every request before it is sent (to find a hang). */
const TRACE = process.env.FUZZ_TRACE === '1';

/**
 * FUZZ_KEEP_GOING=1 records distinct failures (by problem, route and server log line) and reports
 * them all at the end instead of stopping and shrinking at the first: for long exploratory runs.
 */
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === '1';

/** fast-check parameters for a property that runs `scale` × FUZZ_RUNS times. */
export function params(scale = 1): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(RUNS * scale)), endOnFailure: false };
}

/** A bun test timeout that grows with the run count (ms per run is a generous estimate). */
export function timeoutFor(scale = 1, msPerRun = 25): number {
  return Math.max(60_000, Math.round(RUNS * scale * msPerRun) + 60_000);
}

// ── Counting ──────────────────────────────────────────────────────────────────────────────────

export interface Stats {
  requests: number;
  fiveXX: number;
  unsendable: number;
  statuses: Map<number, number>;
}

export const newStats = (): Stats => ({ requests: 0, fiveXX: 0, unsendable: 0, statuses: new Map() });

export function summary(file: string, stats: Stats): string {
  const statuses = [...stats.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  return (
    `fuzz[${file}]: ${stats.requests} requests sent, ${stats.fiveXX} 5xx seen (besides the documented 501s) ` +
    `(FUZZ_RUNS=${RUNS}, FUZZ_SEED=${SEED}${stats.unsendable ? `, ${stats.unsendable} not constructible as a Request` : ''}) — statuses: ${statuses}`
  );
}

// ── Requests and replies ──────────────────────────────────────────────────────────────────────

export interface FuzzRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body?: string | Uint8Array;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

const clip = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

/** Runs of a repeated unit written once with a count: `a«×3000»` (readable reproducers). */
export const compress = (s: string) => s.replace(/([\s\S]{1,8}?)\1{15,}/g, (run, unit: string) => `${unit}«×${run.length / unit.length}»`);

export function describeRequest(req: FuzzRequest): string {
  const body =
    req.body === undefined
      ? '(no body)'
      : typeof req.body === 'string'
        ? JSON.stringify(clip(compress(req.body), 1500))
        : `bytes ${clip(compress(Buffer.from(req.body).toString('hex')), 1500)}`;
  return `${req.method} ${JSON.stringify(clip(compress(req.path), 400))} headers=${JSON.stringify(req.headers.map(([k, v]) => [k, clip(v, 100)]))} body=${body}`;
}

export function describeReply(reply: Reply): string {
  const keep = ['content-type', 'allow', 'location'].filter((h) => reply.headers.has(h)).map((h) => `${h}: ${reply.headers.get(h)}`);
  return `${reply.status} [${keep.join('; ')}] ${JSON.stringify(clip(reply.text))}`;
}

/** A request target's path as the server sees it: dot segments resolved, no query. */
function resolvedPath(target: string): string {
  try {
    return new URL(target, 'http://127.0.0.1').pathname;
  } catch {
    return target.split(/[?#]/)[0];
  }
}

/** Builds the fetch Request the server would see; undefined when the runtime refuses to build it. */
export function toRequest(req: FuzzRequest, origin = 'http://127.0.0.1'): Request | undefined {
  try {
    const headers = new Headers();
    for (const [k, v] of req.headers) headers.append(k, v);
    const init: RequestInit = { method: req.method, headers };
    // fetch forbids a body on GET/HEAD; the raw-socket test sends those.
    if (req.body !== undefined && !['GET', 'HEAD'].includes(req.method.toUpperCase())) init.body = req.body;
    return new Request(origin + req.path, init);
  } catch {
    return undefined;
  }
}

// ── The oracle ────────────────────────────────────────────────────────────────────────────────

const DETAIL_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 422, 501]);
const LOC_ROOTS = new Set(['body', 'path', 'query', 'header']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sameKeys = (o: Record<string, unknown>, keys: string[]) => {
  const own = Object.keys(o).sort();
  return own.length === keys.length && [...keys].sort().every((k, i) => own[i] === k);
};

function validationProblem(body: Record<string, unknown>): string | undefined {
  if (typeof body.exception_message !== 'string') return 'exception_message is not a string';
  if (!Array.isArray(body.exception_detail) || body.exception_detail.length === 0) return 'exception_detail is not a non-empty array';
  for (const item of body.exception_detail) {
    if (!isObject(item)) return 'an exception_detail item is not an object';
    const extra = Object.keys(item).filter((k) => !['type', 'loc', 'msg', 'input', 'ctx'].includes(k));
    if (extra.length > 0) return `an exception_detail item has extra keys ${extra.join(', ')}`;
    if (typeof item.type !== 'string') return 'an exception_detail item has no string type';
    if (!Array.isArray(item.loc) || item.loc.length === 0) return 'an exception_detail item has no loc array';
    if (!item.loc.every((p) => typeof p === 'string' || (typeof p === 'number' && Number.isInteger(p)))) return 'a loc has an element that is not a string or an integer';
    if (!LOC_ROOTS.has(item.loc[0] as string)) return `a loc starts with ${JSON.stringify(item.loc[0])}`;
    if (typeof item.msg !== 'string') return 'an exception_detail item has no string msg';
    if (!('input' in item)) return 'an exception_detail item has no input';
    if ('ctx' in item && !isObject(item.ctx)) return 'an exception_detail ctx is not an object';
  }
  return undefined;
}

/** 501 `{"detail"}` is documented (README: work-pool filters are refused, not ignored). */
function isDetail501(text: string): boolean {
  try {
    const body = JSON.parse(text);
    return isObject(body) && sameKeys(body, ['detail']) && typeof body.detail === 'string';
  } catch {
    return false;
  }
}

const isPreflight = (req: FuzzRequest) =>
  req.method.toUpperCase() === 'OPTIONS' &&
  req.headers.some(([k]) => k.toLowerCase() === 'origin') &&
  req.headers.some(([k]) => k.toLowerCase() === 'access-control-request-method');

/**
 * What is wrong with a reply, or undefined. The rules: never 5xx; 204 and 307 (with Location)
 * empty; other 2xx are JSON (Swagger UI's and the browser UI's pages and files and the CORS
 * preflight "OK" excepted);
 * every error is JSON in one of Prefect's shapes.
 */
export function replyProblem(req: FuzzRequest, reply: Reply, path = req.path): string | undefined {
  const { status, text } = reply;
  if (status >= 500 && !(status === 501 && isDetail501(text))) return `server error ${status}`;
  if (status < 200 || (status >= 300 && status !== 307 && status < 400)) return `unexpected status ${status}`;
  const head = req.method.toUpperCase() === 'HEAD';
  // Starlette's CORS middleware answers preflights in plain text; other answers follow the rules below.
  if (isPreflight(req) && ((status === 200 && text === 'OK') || (status === 400 && text.startsWith('Disallowed CORS')))) return undefined;
  // (A HEAD reply's body is dropped by the HTTP server, so it is not checked through app.handle.)
  if (status === 204) return text === '' ? undefined : '204 with a body';
  if (status === 307) {
    if (!reply.headers.get('location')) return '307 without Location';
    return text === '' ? undefined : '307 with a body';
  }
  if (head) return undefined;
  const type = reply.headers.get('content-type') ?? '';
  if (status < 300) {
    if (/^\/docs\/?(\?|$)/.test(path) && type.startsWith('text/html')) return undefined; // Swagger UI
    // The browser UI's page and files, at the path the URL parser makes of it (`/a/..` is `/`).
    if (isUiPath(resolvedPath(path)) && /^(text|image)\//.test(type)) return undefined;
    if (!type.startsWith('application/json')) return `2xx with content-type ${JSON.stringify(type)}`;
    try {
      JSON.parse(text);
    } catch {
      return '2xx body is not JSON';
    }
    return undefined;
  }
  // 4xx
  if (text === '') return `${status} with an empty body`;
  if (!type.startsWith('application/json')) return `error with content-type ${JSON.stringify(type)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'error body is not JSON';
  }
  if (!isObject(body)) return 'error body is not an object';
  if (status === 405 && !reply.headers.get('allow')) return '405 without Allow';
  if (sameKeys(body, ['exception_message', 'exception_detail', 'request_body'])) {
    if (status !== 422) return `validation shape with status ${status}`;
    return validationProblem(body);
  }
  if (sameKeys(body, ['detail'])) {
    if (typeof body.detail !== 'string') return 'detail is not a string';
    return DETAIL_STATUSES.has(status) ? undefined : `{"detail"} with status ${status}`;
  }
  if (sameKeys(body, ['exception_message'])) {
    if (typeof body.exception_message !== 'string') return 'exception_message is not a string';
    if (status === 401) return undefined;
    if (status === 404 && /\/set_state\/?$/.test(path.split('?')[0])) return undefined;
    return `{"exception_message"} with status ${status}`;
  }
  return `error body in none of Prefect's shapes (keys: ${Object.keys(body).join(', ')})`;
}

// ── The target: a harness, its seeded world, and the per-run checks ───────────────────────────

/** Real rows, so valid-looking ids hit something. */
export interface World {
  flowId: string;
  flowName: string;
  flowRunId: string;
  taskRunId: string;
  deploymentId: string;
  deploymentName: string;
  artifactIds: string[];
  keys: string[];
}

export type IdKind = 'flow' | 'flowRun' | 'taskRun' | 'deployment' | 'artifact';

export function realId(world: World, kind: IdKind, pick = 0): string {
  switch (kind) {
    case 'flow':
      return world.flowId;
    case 'flowRun':
      return world.flowRunId;
    case 'taskRun':
      return world.taskRunId;
    case 'deployment':
      return world.deploymentId;
    case 'artifact':
      return world.artifactIds[pick % world.artifactIds.length];
  }
}

async function post(h: Harness, path: string, body: unknown): Promise<any> {
  const reply = await h.call('POST', path, body);
  if (reply.status !== 200 && reply.status !== 201) throw new Error(`seeding ${path} failed: ${reply.status} ${reply.text}`);
  return reply.body;
}

export async function seedWorld(h: Harness): Promise<World> {
  const flowName = 'fuzz-flow';
  const flow = await post(h, '/api/flows/', { name: flowName, tags: ['fuzz'] });
  const deploymentName = 'fuzz-deployment';
  const deployment = await post(h, '/api/deployments/', {
    name: deploymentName,
    flow_id: flow.id,
    tags: ['nightly'],
    parameters: { x: 1 },
    parameter_openapi_schema: { type: 'object', properties: { x: { type: 'integer' } } },
    concurrency_limit: 2,
  });
  const run = await post(h, '/api/flow_runs/', {
    flow_id: flow.id,
    deployment_id: deployment.id,
    name: 'fuzz-run',
    state: { type: 'RUNNING' },
    tags: ['nightly'],
    idempotency_key: 'fuzz-idem',
  });
  const task = await post(h, '/api/task_runs/', { flow_run_id: run.id, task_key: 'fuzz-task', dynamic_key: '0', state: { type: 'COMPLETED' } });
  const keys = ['fuzz-report', 'fuzz-table', ''];
  const artifactIds: string[] = [];
  for (const [i, body] of [
    { key: 'fuzz-report', type: 'markdown', data: '# one', flow_run_id: run.id },
    { key: 'fuzz-report', type: 'markdown', data: '# two', flow_run_id: run.id, task_run_id: task.id, metadata_: { a: 'b' } },
    { key: 'fuzz-table', type: 'table', data: [{ a: 1 }], description: 'd' },
    { type: 'progress', data: 40 },
    { key: '', data: null },
  ].entries()) {
    artifactIds.push((await post(h, '/api/artifacts/', body)).id);
    void i;
  }
  return { flowId: flow.id, flowName, flowRunId: run.id, taskRunId: task.id, deploymentId: deployment.id, deploymentName, artifactIds, keys };
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A harness plus its world, rotated every `rotateEvery` runs so the store stays small enough to
 * run the invariant check after every run that wrote.
 */
export class Target {
  h!: Harness;
  world!: World;
  /** Headers that get a request through auth and CSRF when those are on (empty otherwise). */
  validHeaders: [string, string][] = [];
  /** FUZZ_KEEP_GOING=1: distinct failures found (first request of each kind), reported at the end. */
  readonly findings = new Map<string, string>();
  private runsSinceRotation = 0;
  /** Set after a failure: the next run starts on a fresh store, so shrinking is not misled by it. */
  private dirty = false;

  constructor(
    readonly stats: Stats,
    readonly config: Partial<Config> = {},
    readonly rotateEvery = 150,
    /** Obtains `validHeaders` on a fresh harness (e.g. credentials and a CSRF token). */
    readonly credentials?: (h: Harness) => Promise<[string, string][]>,
    /** The store each harness opens (test/backends.ts). */
    readonly backend: Backend = 'lmdb',
  ) {}

  async open(): Promise<void> {
    this.h = await harness(this.config, this.backend);
    this.validHeaders = this.credentials ? await this.credentials(this.h) : [];
    const extra = Object.fromEntries(this.validHeaders);
    const call = this.h.call;
    this.world = await seedWorld({ ...this.h, call: (m, p, b, hd = {}) => call(m, p, b, { ...extra, ...hd }) });
    this.runsSinceRotation = 0;
    this.dirty = false;
  }

  /** Closes the harness; its close() checks the store invariants and throws when broken. */
  async close(): Promise<void> {
    if (!this.dirty) return this.h.close();
    // A failure was already reported; the store it left behind is discarded unchecked.
    await this.h.discard();
  }

  /** Called at the start of each run. */
  async beginRun(): Promise<void> {
    if (this.dirty || ++this.runsSinceRotation > this.rotateEvery) {
      await this.close();
      await this.open();
      this.runsSinceRotation = 1;
    }
  }

  /** Runs `work` while capturing what the server logs with console.error (its 500s say why). */
  private async capturing<T>(work: () => Promise<T>): Promise<{ value: T; log: string[] }> {
    const log: string[] = [];
    captures.add(log);
    installCapture();
    try {
      return { value: await work(), log };
    } finally {
      captures.delete(log);
      if (captures.size === 0) uninstallCapture();
    }
  }

  private fail(kind: string, message: string): void {
    this.dirty = true;
    if (!KEEP_GOING) throw new Error(message);
    if (!this.findings.has(kind)) this.findings.set(kind, message);
  }

  /** Sends one request and applies the oracle; fails with the exact request and reply on a problem. */
  async send(req: FuzzRequest): Promise<Reply | undefined> {
    const request = toRequest(req);
    if (!request) {
      this.stats.unsendable++;
      return undefined;
    }
    this.stats.requests++;
    if (TRACE) consoleError(`fuzz> ${clip(describeRequest({ ...req, path: clip(req.path, 120) }), 600)}`);
    const { value: outcome, log } = await this.capturing(async () => {
      try {
        const response = await this.h.app.handle(request);
        return { status: response.status, headers: response.headers, text: bodyText(response.headers, new Uint8Array(await response.arrayBuffer())) };
      } catch (error) {
        return error as Error;
      }
    });
    const said = log.length > 0 ? `\n  server log: ${clip(compress(log[0].split('\n')[0]), 300)}` : '';
    if (outcome instanceof Error) {
      this.stats.fiveXX++;
      this.fail(`threw ${routeOf(req)} ${String(outcome)}`, `app.handle threw (the server would answer 500) for\n  ${describeRequest(req)}\n  ${String(outcome)}${said}`);
      return undefined;
    }
    const reply = outcome;
    this.stats.statuses.set(reply.status, (this.stats.statuses.get(reply.status) ?? 0) + 1);
    if (reply.status >= 500 && reply.status !== 501) this.stats.fiveXX++;
    const problem = replyProblem(req, reply);
    if (problem) {
      this.fail(`${problem} ${routeOf(req)} ${said}`, `${problem}\n  request: ${describeRequest(req)}\n  reply:   ${describeReply(reply)}${said}`);
    }
    return reply;
  }

  /** After a run: the server answers health, and the store is sound if the run wrote. */
  async endRun(sent: FuzzRequest[]): Promise<void> {
    const health = await this.h.app.handle(new Request('http://127.0.0.1/api/health'));
    this.stats.requests++;
    const text = await health.text();
    if (health.status !== 200 || text !== 'true') this.fail('health', `GET /api/health answered ${health.status} ${text} after the run`);
    if (!this.dirty && sent.some((r) => MUTATING.has(r.method.toUpperCase()))) {
      const findings = await this.h.store.check();
      if (findings.length > 0) {
        this.fail(
          `store ${findings[0].split(':')[0]} ${sent.map(routeOf).join(' ')}`,
          `store invariants broken after:\n${sent.map((r) => `  ${describeRequest(r)}`).join('\n')}\nfindings:\n  ${findings.slice(0, 8).map((f) => clip(f, 300)).join('\n  ')}`,
        );
      }
    }
  }
}

// The app logs each 500 with console.error; while requests are in flight that goes into the
// failure message instead of the console (FUZZ_TRACE=1 shows it as well).
const captures = new Set<string[]>();
const consoleError = console.error;
function installCapture(): void {
  console.error = (...args: unknown[]) => {
    const line = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : String(a))).join(' ');
    for (const log of captures) log.push(line);
    if (TRACE) consoleError(...args);
  };
}
function uninstallCapture(): void {
  console.error = consoleError;
}

/** A short name for the route a request aimed at (ids and junk segments collapsed). */
function routeOf(req: FuzzRequest): string {
  const segments = req.path.split('?')[0].split('/').map((s) => (/^[a-z_]+$/.test(s) && s.length < 20 ? s : '*'));
  return `${req.method} ${segments.join('/')}`;
}

/** Runs a property against a fresh target and always closes it (the close checks the store). */
export async function withTarget(target: Target, run: () => Promise<void>): Promise<void> {
  await target.open();
  let failure: unknown;
  try {
    await run();
    if (target.findings.size > 0) {
      failure = new Error(`${target.findings.size} distinct failures (FUZZ_KEEP_GOING):\n\n${[...target.findings.values()].join('\n\n')}`);
    }
  } catch (error) {
    failure = error;
  }
  try {
    await target.close();
  } catch (error) {
    if (failure === undefined) failure = error;
  }
  if (failure !== undefined) throw failure;
}
