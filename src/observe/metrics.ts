/**
 * Prometheus metrics (text exposition format 0.0.4): requests by method, route template and
 * status; a latency histogram by method and route; what the store holds; process figures.
 *
 * Hand-written rather than a client library: no such library is a dependency, and recording
 * must stay a few property reads and increments on the request path. Each route template has
 * one object built up front (`RouteTemplates`), so recording a request is a trie walk, two map
 * lookups and a bucket scan — no label strings are built until `/metrics` is read.
 */
import pkg from '../../package.json' with { type: 'json' };
import type { Store } from '../store/contract.ts';
import { RouteTemplates } from './routes.ts';

/** Upper bounds (seconds) of the latency buckets: most answers take well under a millisecond. */
export const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Methods beyond these are counted as OTHER: a client must not be able to invent labels. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const UNMATCHED = 'unmatched';

/**
 * What the server took in besides requests, counted wherever it arrives (the log and event
 * routes, the events websocket) whether or not metrics are served: plain increments.
 */
export class IntakeCounters {
  /** Log lines accepted by `POST /api/logs/`. */
  logsReceived = 0;
  /** Events accepted (websocket frames and `POST /api/events`), before they are written. */
  eventsReceived = 0;
  /** Websocket frames refused: not an Event (the connection was dropped, as Prefect drops it). */
  eventsRefused = 0;
  /** Events accepted but never written: the store kept failing (logged as errors). */
  eventsLost = 0;
}

/** The events websocket's live figures, read when `/metrics` is. */
export interface IntakeGauges {
  /** Open `/api/events/in` connections. */
  sockets(): number;
  /** Events accepted and not yet durable. */
  pending(): number;
}

class MethodStats {
  readonly statuses = new Map<number, number>();
  /** Per bucket (not cumulative), plus one for above the last bound. */
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  sum = 0;
  count = 0;
}

class RouteStats {
  readonly methods = new Map<string, MethodStats>();
  constructor(readonly template: string) {}
}

export class Metrics {
  private readonly started = Date.now();
  private routes: RouteTemplates<RouteStats> | undefined;
  private readonly all: RouteStats[] = [];

  /** `routerPaths` is read on the first request, once every route is registered. */
  constructor(
    private readonly store: Store,
    private readonly routerPaths: () => Iterable<string>,
    /** Queries moved to the query thread since start (query/query-thread.ts). */
    private readonly handedOff: () => number = () => 0,
    private readonly intake: IntakeCounters = new IntakeCounters(),
    private readonly gauges: IntakeGauges = { sockets: () => 0, pending: () => 0 },
  ) {}

  record(method: string, path: string, status: number, seconds: number): void {
    this.routes ??= this.buildRoutes();
    const route = this.routes.lookup(path);
    const name = METHODS.has(method) ? method : 'OTHER';
    let stats = route.methods.get(name);
    if (stats === undefined) route.methods.set(name, (stats = new MethodStats()));
    stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    stats.buckets[i]++;
    stats.sum += seconds;
    stats.count++;
  }

  private buildRoutes(): RouteTemplates<RouteStats> {
    const make = (template: string) => {
      const stats = new RouteStats(template);
      this.all.push(stats);
      return stats;
    };
    return new RouteTemplates(this.routerPaths(), make, make(UNMATCHED));
  }

  /** The exposition text, families in a fixed order and series sorted, so scrapes diff cleanly. */
  async render(): Promise<string> {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    const routes = [...this.all].sort((a, b) => (a.template < b.template ? -1 : a.template > b.template ? 1 : 0));
    const series = routes.flatMap((r) => [...r.methods].sort(([a], [b]) => (a < b ? -1 : 1)).map(([method, stats]) => ({ route: r.template, method, stats })));

    family('artifactd_http_requests_total', 'counter', 'HTTP requests answered, by method, route template and status.');
    for (const { route, method, stats } of series) {
      for (const [status, n] of [...stats.statuses].sort(([a], [b]) => a - b)) {
        out.push(`artifactd_http_requests_total${labels({ method, route, status: String(status) })} ${n}`);
      }
    }
    family('artifactd_http_request_duration_seconds', 'histogram', 'Time from receiving a request to its response being ready, by method and route template.');
    for (const { route, method, stats } of series) {
      let cumulative = 0;
      BUCKETS.forEach((bound, i) => {
        cumulative += stats.buckets[i];
        out.push(`artifactd_http_request_duration_seconds_bucket${labels({ method, route, le: String(bound) })} ${cumulative}`);
      });
      out.push(`artifactd_http_request_duration_seconds_bucket${labels({ method, route, le: '+Inf' })} ${stats.count}`);
      out.push(`artifactd_http_request_duration_seconds_sum${labels({ method, route })} ${stats.sum}`);
      out.push(`artifactd_http_request_duration_seconds_count${labels({ method, route })} ${stats.count}`);
    }

    family('artifactd_queries_handed_off_total', 'counter', "Queries that ran past --query-thread-after on the server's thread and finished on the query thread.");
    out.push(`artifactd_queries_handed_off_total ${this.handedOff()}`);

    const counts = await this.store.counts();
    const gauge = (name: string, help: string, value: number) => {
      family(name, 'gauge', help);
      out.push(`${name} ${value}`);
    };
    gauge('artifactd_artifacts', 'Artifacts in the store (every version).', counts.artifacts);
    gauge('artifactd_artifact_collections', 'Artifact keys, each with its latest version.', counts.collections);
    gauge('artifactd_flows', 'Flows in the store.', counts.flows);
    gauge('artifactd_flow_runs', 'Flow runs in the store.', counts.flowRuns);
    gauge('artifactd_task_runs', 'Task runs in the store.', counts.taskRuns);
    gauge('artifactd_deployments', 'Deployments in the store.', counts.deployments);
    gauge('artifactd_logs', 'Log lines in the store.', counts.logs);
    gauge('artifactd_events', 'Events in the store.', counts.events);
    const counter = (name: string, help: string, value: number) => {
      family(name, 'counter', help);
      out.push(`${name} ${value}`);
    };
    counter('artifactd_logs_received_total', 'Log lines accepted by POST /api/logs/ since start.', this.intake.logsReceived);
    counter('artifactd_events_received_total', 'Events accepted (the /api/events/in websocket and POST /api/events) since start.', this.intake.eventsReceived);
    counter('artifactd_events_refused_total', 'Websocket frames refused as not an Event since start (the connection is dropped).', this.intake.eventsRefused);
    counter('artifactd_events_lost_total', 'Events accepted but not written because the store kept failing, since start.', this.intake.eventsLost);
    gauge('artifactd_event_sockets', 'Open /api/events/in websocket connections.', this.gauges.sockets());
    gauge('artifactd_events_pending', 'Events accepted and not yet durable.', this.gauges.pending());
    // The backend's own series: its size on disk, a database pool's use.
    for (const line of (await this.store.metricLines?.()) ?? []) out.push(line);

    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', memory.rss);
    gauge('artifactd_js_heap_used_bytes', 'JavaScript heap in use, in bytes.', memory.heapUsed);
    family('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.');
    out.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
    gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', this.started / 1000);
    gauge('artifactd_uptime_seconds', 'Seconds since the server started.', (Date.now() - this.started) / 1000);
    family('artifactd_build_info', 'gauge', 'The artifactd version (always 1).');
    out.push(`artifactd_build_info${labels({ version: pkg.version })} 1`);
    return `${out.join('\n')}\n`;
  }
}

/** Label values escape backslash, double quote and newline (exposition format 0.0.4). */
export function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes backslash and newline. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',')}}`;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
