/** Request body limits: size (413) and JSON nesting depth (422), both configurable. */
import { afterEach, expect, test } from 'bun:test';
import { harness, type Harness } from '../helpers.ts';

let h: Harness;
afterEach(() => h.close());

test('a body over the size limit answers 413 with a JSON detail, and nothing is stored', async () => {
  h = harness({ maxBodyBytes: 1024 });
  const big = { key: 'big', data: 'x'.repeat(2000) };
  const reply = await h.call('POST', '/api/artifacts/', big);
  expect(reply.status).toBe(413);
  expect(reply.body.detail).toContain('1024 bytes');
  expect(await h.store.artifacts.count(null)).toBe(0);
  expect((await h.call('POST', '/api/artifacts/', { key: 'small', data: 'x'.repeat(500) })).status).toBe(201);
});

test('the size limit counts bytes, not characters', async () => {
  h = harness({ maxBodyBytes: 1024 });
  const reply = await h.call('POST', '/api/artifacts/', JSON.stringify({ data: 'é'.repeat(600) }), {
    'content-type': 'application/json',
  });
  expect(reply.status).toBe(413);
});

test('JSON nested deeper than the limit answers 422 json_invalid; at the limit it is accepted', async () => {
  h = harness({ maxJsonDepth: 10 });
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
  h = harness();
  const reply = await h.call('POST', '/api/artifacts/filter', `{"artifacts": ${'['.repeat(100_000)}`);
  expect(reply.status).toBe(422);
  expect((await h.call('GET', '/api/health')).body).toBe(true);
});
