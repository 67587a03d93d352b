/**
 * What `/metrics` says about logs and events (both backends): the stored counts
 * (`artifactd_logs`, `artifactd_events`), the counters of what was received
 * (`artifactd_logs_received_total`, `artifactd_events_received_total`) and refused
 * (`artifactd_events_refused_total`), and on a listening server the open websockets
 * (`artifactd_event_sockets`) and the upgrade counted under its route like any request.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { describeBackends } from '../backends.ts';
import { parsePrometheus } from '../observe/prometheus.ts';
import { freshHarness } from './fresh-harness.ts';
import { plainEvent } from './event-builders.ts';
import { EventSocket, startSocketServer, type SocketServer } from './socket-server.ts';

const value = (text: string, name: string, labels: Record<string, string> = {}) => {
  const families = parsePrometheus(text);
  const family = families.get(name) ?? families.get(name.replace(/_total$/, ''));
  const sample = family?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return sample?.value;
};

describeBackends('/metrics: logs and events', (backend) => {
  const h = freshHarness({ metrics: true }, backend);

  test('counts in the store and counters of what was received', async () => {
    const logs = Array.from({ length: 3 }, (_, i) => ({ name: 'n', level: 20, message: `m${i}`, timestamp: new Date().toISOString() }));
    expect((await h.call('POST', '/api/logs/', logs)).status).toBe(201);
    expect((await h.call('POST', '/api/events', [plainEvent(1), plainEvent(2)])).status).toBe(204);
    const text = (await h.call('GET', '/metrics')).text;
    expect(value(text, 'artifactd_logs')).toBe(3);
    expect(value(text, 'artifactd_events')).toBe(2);
    expect(value(text, 'artifactd_logs_received_total')).toBe(3);
    expect(value(text, 'artifactd_events_received_total')).toBe(2);
    expect(value(text, 'artifactd_events_refused_total')).toBe(0);
    expect(value(text, 'artifactd_events_lost_total')).toBe(0);
    expect(value(text, 'artifactd_events_pending')).toBe(0);
    expect(value(text, 'artifactd_event_sockets')).toBe(0);
    expect(value(text, 'artifactd_http_requests_total', { method: 'POST', route: '/api/logs/', status: '201' })).toBe(1);
    expect(value(text, 'artifactd_http_requests_total', { method: 'POST', route: '/api/events', status: '204' })).toBe(1);
  });
});

describeBackends('/metrics: the events websocket', (backend) => {
  let server: SocketServer;
  beforeAll(async () => {
    server = await startSocketServer(backend, { metrics: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('open sockets, events received and refused, the upgrade under its route', async () => {
    const metrics = () => fetch(`${server.url}/metrics`).then((r) => r.text());
    const open = await EventSocket.open(server.eventsIn);
    open.send(plainEvent(1));
    await open.checkpoint();
    const bad = await EventSocket.open(server.eventsIn);
    bad.send('nope');
    await bad.ended;
    const text = await server.until(metrics, (t) => value(t, 'artifactd_events') === 1);
    expect(value(text, 'artifactd_event_sockets')).toBe(1);
    expect(value(text, 'artifactd_events_received_total')).toBe(1);
    expect(value(text, 'artifactd_events_refused_total')).toBe(1);
    expect(value(text, 'artifactd_http_requests_total', { method: 'GET', route: '/api/events/in', status: '101' })).toBe(2);
    await open.close();
    expect(value(await server.until(metrics, (t) => value(t, 'artifactd_event_sockets') === 0), 'artifactd_event_sockets')).toBe(0);
  });
});
