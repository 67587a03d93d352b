/**
 * Request body limits: size (413) and JSON nesting depth (422), both configurable. Every 413 is
 * Prefect's `{"detail": …}` naming the limit, whether the body declared its size or came
 * chunked, and the server closes that connection (the rest of the body is never read).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { DEFAULTS } from '../../src/config.ts';
import { exchange, type Exchange } from '../fuzz/wire.ts';
import { harness, tempDir, type Harness } from '../helpers.ts';
import { describeBackends } from '../backends.ts';

describeBackends('body limits', (backend) => {
  let h: Harness;
  let opened: Harness | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  test('a body over the size limit answers 413 with a JSON detail, and nothing is stored', async () => {
    h = opened = await harness({ maxBodyBytes: 1024 }, backend);
    const big = { key: 'big', data: 'x'.repeat(2000) };
    const reply = await h.call('POST', '/api/artifacts/', big);
    expect(reply.status).toBe(413);
    expect(reply.body.detail).toContain('1024 bytes');
    expect((await h.store.counts()).artifacts).toBe(0);
    expect((await h.call('POST', '/api/artifacts/', { key: 'small', data: 'x'.repeat(500) })).status).toBe(201);
  });

  test('the size limit counts bytes, not characters', async () => {
    h = opened = await harness({ maxBodyBytes: 1024 }, backend);
    const reply = await h.call('POST', '/api/artifacts/', JSON.stringify({ data: 'é'.repeat(600) }), {
      'content-type': 'application/json',
    });
    expect(reply.status).toBe(413);
  });

  test('JSON nested deeper than the limit answers 422 json_invalid; at the limit it is accepted', async () => {
    h = opened = await harness({ maxJsonDepth: 10 }, backend);
    const nested = (depth: number) => '['.repeat(depth - 1) + ']'.repeat(depth - 1);
    const deep = await h.call('POST', '/api/artifacts/', `{"data": ${nested(20)}}`);
    expect(deep.status).toBe(422);
    expect(deep.body.exception_detail[0]).toMatchObject({ type: 'json_invalid', loc: ['body', 0] });
    expect(deep.body.exception_detail[0].ctx.error).toContain('limit is 10');
    const ok = await h.call('POST', '/api/artifacts/', `{"data": ${nested(10)}}`);
    expect(ok.status).toBe(201);
    // Brackets inside strings do not count.
    const text = await h.call('POST', '/api/artifacts/', { data: '[[[[[[[[[[[[[[[[[[[[[[[[' });
    expect(text.status).toBe(201);
  });

  test('the default depth limit stops a 100,000-deep body without crashing the server', async () => {
    h = opened = await harness({}, backend);
    const reply = await h.call('POST', '/api/artifacts/filter', `{"artifacts": ${'['.repeat(100_000)}`);
    expect(reply.status).toBe(422);
    expect((await h.call('GET', '/api/health')).body).toBe(true);
  });
});

// LMDB only: startServer opens the store its configuration names, the data directory here; what
// is tested is the HTTP framing of the listening server, the same over either backend.
describe('over a real connection, whatever the framing', () => {
  const LIMIT = 64 * 1024;
  let server: RunningServer;
  let port: number;
  let dataDir: string;
  beforeAll(() => {
    dataDir = tempDir();
    server = startServer({ ...DEFAULTS, host: '127.0.0.1', port: 0, dataDir, maxBodyBytes: LIMIT });
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const head = (framing: string) => Buffer.from(`POST /api/artifacts/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${framing}\r\n`);
  /** The 413 every oversized body gets: Prefect's detail with the limit, then the server closes. */
  function expectRefused(ex: Exchange) {
    expect(ex.responses).toHaveLength(1);
    const [reply] = ex.responses;
    expect(reply.status).toBe(413);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toEqual({ detail: `Request body too large: the limit is ${LIMIT} bytes.` });
    expect(ex.closed).toBe(true); // by the server: the client left its side open
  }

  test('a Content-Length far over the limit is refused before the body is sent', async () => {
    expectRefused(await exchange(port, head(`Content-Length: ${100 * 1024 * 1024}\r\n`), { halfClose: false, timeoutMs: 10_000 }));
  });

  test('a Content-Length just over the limit, body sent in full', async () => {
    const body = JSON.stringify({ key: 'big', data: 'x'.repeat(LIMIT) });
    expectRefused(await exchange(port, Buffer.concat([head(`Content-Length: ${Buffer.byteLength(body)}\r\n`), Buffer.from(body)]), { halfClose: false, timeoutMs: 10_000 }));
  });

  test('a chunked body that grows past the limit', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const chunks = Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    expectRefused(await exchange(port, Buffer.concat([head('Transfer-Encoding: chunked\r\n'), Buffer.from(`${(9).toString(16)}\r\n{"data":"\r\n${chunks}`)]), { halfClose: false, timeoutMs: 10_000 }));
  });

  test('nothing was stored, and a body within the limit, chunked or not, is taken', async () => {
    const count = await fetch(`${server.url}/api/artifacts/count`, { method: 'POST', body: '{}' });
    expect(await count.json()).toBe(0);
    const body = JSON.stringify({ key: 'fits', data: 'y'.repeat(LIMIT - 100) });
    const sized = await exchange(port, Buffer.concat([head(`Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`), Buffer.from(body)]), { halfClose: false, timeoutMs: 10_000 });
    expect(sized.responses[0].status).toBe(201);
    const chunked = await exchange(port, Buffer.concat([head('Transfer-Encoding: chunked\r\nConnection: close\r\n'), Buffer.from(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`)]), { halfClose: false, timeoutMs: 10_000 });
    expect(chunked.responses[0].status).toBe(201);
  });
});
