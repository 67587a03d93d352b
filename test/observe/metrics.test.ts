/**
 * `/metrics` and `/api/metrics` through the app: Prometheus text a parser accepts, counters that
 * follow requests, route templates as labels, consistent histograms, store counts, and 404 when
 * metrics are off (Prefect's default).
 */
import { afterAll, expect, test } from 'bun:test';
import { escapeLabel, BUCKETS } from '../../src/observe/metrics.ts';
import { harness, type Harness } from '../helpers.ts';
import { parsePrometheus, sample } from './prometheus.ts';
import { describeBackends } from '../backends.ts';

describeBackends('metrics', (backend) => {
  const open: Harness[] = [];
  afterAll(async () => {
    for (const h of open) await h.close();
  });
  const start = async (overrides = {}) => {
    const h = await harness({ metrics: true, ...overrides }, backend);
    open.push(h);
    return h;
  };

  const scrape = async (h: Harness, path = '/metrics') => {
    const reply = await h.call('GET', path);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheus(reply.text);
  };
  const requests = (families: ReturnType<typeof parsePrometheus>, labels: Record<string, string>) =>
    sample(families, 'artifactd_http_requests_total', 'artifactd_http_requests_total', labels) ?? 0;

  test('request counters follow requests, labelled by method, route template and status', async () => {
    const h = await start();
    const before = await scrape(h);
    const a = await h.create({ key: 'sales', data: 1 });
    await h.create({ key: 'sales', data: 2 });
    await h.call('GET', `/api/artifacts/${a.id}`);
    await h.call('GET', '/api/artifacts/00000000-0000-4000-8000-000000000000');
    await h.call('GET', '/api/artifacts/sales/latest');
    await h.call('POST', '/api/artifacts/filter', { limit: 'x' });
    await h.call('GET', '/no/such/path/123');
    const after = await scrape(h);

    expect(requests(after, { method: 'POST', route: '/api/artifacts/', status: '201' }) - requests(before, { method: 'POST', route: '/api/artifacts/', status: '201' })).toBe(2);
    expect(requests(after, { method: 'GET', route: '/api/artifacts/{id}', status: '200' })).toBe(1);
    expect(requests(after, { method: 'GET', route: '/api/artifacts/{id}', status: '404' })).toBe(1);
    expect(requests(after, { method: 'GET', route: '/api/artifacts/{key}/latest', status: '200' })).toBe(1);
    expect(requests(after, { method: 'POST', route: '/api/artifacts/filter', status: '422' })).toBe(1);
    expect(requests(after, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    // the earlier scrape is counted too
    expect(requests(after, { method: 'GET', route: '/metrics', status: '200' })).toBe(1);

    // No raw path, id or key ever becomes a label.
    const routes = new Set(after.get('artifactd_http_requests_total')!.samples.map((s) => s.labels.route));
    for (const route of routes) expect(route === 'unmatched' || /^\/[a-z_/{}]*$/.test(route)).toBe(true);
    expect([...routes].some((r) => r.includes(a.id) || r.includes('sales'))).toBe(false);
  });

  test('the browser UI pages and files are counted under their route templates, not as unmatched', async () => {
    const h = await start();
    const a = await h.create({ key: 'sales', data: 1 });
    for (const path of ['/', '/artifacts', `/artifacts/artifact/${a.id}`, '/artifacts/key/sales', `/runs/flow-run/${a.id}`]) {
      expect((await h.call('GET', path)).status).toBe(200);
    }
    const page = await h.call('GET', '/');
    const script = /src="(\/ui\/[^"]+\.js)"/.exec(page.text)![1];
    expect((await h.call('GET', script)).status).toBe(200);
    const after = await scrape(h);
    for (const route of ['/', '/artifacts', '/artifacts/artifact/{id}', '/artifacts/key/{key}', '/runs/flow-run/{id}', '/ui/{version}/{file}']) {
      expect(requests(after, { method: 'GET', route, status: '200' })).toBe(route === '/' ? 2 : 1);
    }
    expect(requests(after, { method: 'GET', route: 'unmatched', status: '200' })).toBe(0);
  });

  test('histograms: cumulative buckets ending in +Inf = _count, one series per method and route', async () => {
    const h = await start();
    for (let i = 0; i < 5; i++) await h.call('GET', '/api/health');
    await h.call('POST', '/api/artifacts/count', {});
    const families = await scrape(h);
    const histogram = families.get('artifactd_http_request_duration_seconds')!;
    expect(histogram.type).toBe('histogram');
    const series = new Map<string, { le: string; value: number }[]>();
    for (const s of histogram.samples.filter((s) => s.name.endsWith('_bucket'))) {
      const id = `${s.labels.method} ${s.labels.route}`;
      series.set(id, [...(series.get(id) ?? []), { le: s.labels.le, value: s.value }]);
    }
    expect(series.has('GET /api/health')).toBe(true);
    for (const [id, buckets] of series) {
      const [method, route] = id.split(' ');
      expect(buckets.map((b) => b.le)).toEqual([...BUCKETS.map(String), '+Inf']);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
      const count = sample(families, 'artifactd_http_request_duration_seconds', 'artifactd_http_request_duration_seconds_count', { method, route });
      const sum = sample(families, 'artifactd_http_request_duration_seconds', 'artifactd_http_request_duration_seconds_sum', { method, route })!;
      expect(buckets.at(-1)!.value).toBe(count!);
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(count! * 10);
    }
    expect(sample(families, 'artifactd_http_request_duration_seconds', 'artifactd_http_request_duration_seconds_count', { method: 'GET', route: '/api/health' })).toBe(5);
  });

  test('store gauges equal the store counters; size and process figures are present', async () => {
    const h = await start();
    const flow = (await h.call('POST', '/api/flows/', { name: 'etl' })).body;
    const run = (await h.call('POST', '/api/flow_runs/', { flow_id: flow.id })).body;
    await h.call('POST', '/api/task_runs/', { flow_run_id: run.id, task_key: 't', dynamic_key: '0' });
    for (let i = 0; i < 7; i++) await h.create({ key: `k${i % 3}`, data: i, flow_run_id: run.id });
    await h.create({ data: 'keyless' });
    const families = await scrape(h, '/api/metrics');
    const gauge = (name: string) => {
      expect(families.get(name)?.type).toBe('gauge');
      return sample(families, name, name);
    };
    const counts = await h.store.counts();
    expect(gauge('artifactd_artifacts')).toBe(counts.artifacts);
    expect(counts.artifacts).toBe(8);
    expect(gauge('artifactd_artifact_collections')).toBe(3);
    expect(gauge('artifactd_flows')).toBe(1);
    expect(gauge('artifactd_flow_runs')).toBe(1);
    expect(gauge('artifactd_task_runs')).toBe(1);
    expect(gauge('artifactd_deployments')).toBe(0);
    expect(gauge('artifactd_store_size_bytes')).toBeGreaterThan(0);
    expect(gauge('process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(gauge('artifactd_uptime_seconds')).toBeGreaterThanOrEqual(0);
    expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
  });

  test('off by default, as on Prefect: both paths answer 404 like any unknown path', async () => {
    const h = await harness({}, backend);
    open.push(h);
    for (const path of ['/metrics', '/api/metrics']) {
      const reply = await h.call('GET', path);
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ detail: 'Not Found' });
    }
  });

  test('behind basic auth when it is configured', async () => {
    const h = await start({ authString: 'admin:secret' });
    expect((await h.call('GET', '/api/metrics')).status).toBe(401);
    expect((await h.call('GET', '/metrics')).status).toBe(401);
    const reply = await h.call('GET', '/metrics', undefined, { authorization: `Basic ${btoa('admin:secret')}` });
    expect(reply.status).toBe(200);
    // the refused requests are counted with their status
    expect(requests(parsePrometheus(reply.text), { method: 'GET', route: '/metrics', status: '401' })).toBe(1);
  });

  test('label values escape backslash, quote and newline', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(parsePrometheus(`# HELP m x\n# TYPE m gauge\nm{l="${escapeLabel('a\\b"c\nd')}"} 1\n`).get('m')!.samples[0].labels.l).toBe('a\\b"c\nd');
  });

  test('unusual methods share one OTHER label, so clients cannot invent series', async () => {
    const h = await start();
    for (const method of ['PURGE', 'TRACE', 'MKCOL', 'PROPFIND']) await h.call(method, '/api/health');
    const families = await scrape(h);
    const samples = families.get('artifactd_http_requests_total')!.samples;
    expect([...new Set(samples.map((s) => s.labels.method))].sort()).toEqual(['OTHER']);
    expect(samples.reduce((sum, s) => sum + s.value, 0)).toBe(4);
  });
});
