/** Route templates: every request path maps to the template of the route that answers it. */
import { expect, test } from 'bun:test';
import { RouteTemplates, templateOf } from '../../src/observe/routes.ts';

const ROUTES = [
  '/api/artifacts/',
  '/api/artifacts/:id',
  '/api/artifacts/:id/latest',
  '/api/artifacts/filter',
  '/api/artifacts/latest/filter',
  '/api/flows/name/:name',
  '/api/flows/:id',
  '/api/health',
  '/docs',
  '/docs/*',
];
const table = new RouteTemplates(ROUTES, (t) => t, 'unmatched');

test('parameters become {name}, and the latest route names its key', () => {
  expect(templateOf('/api/flows/:id')).toBe('/api/flows/{id}');
  expect(templateOf('/api/artifacts/:id/latest')).toBe('/api/artifacts/{key}/latest');
});

test('paths map to their route template', () => {
  expect(table.lookup('/api/artifacts/6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12')).toBe('/api/artifacts/{id}');
  expect(table.lookup('/api/artifacts/nightly-sales/latest')).toBe('/api/artifacts/{key}/latest');
  expect(table.lookup('/api/artifacts/')).toBe('/api/artifacts/');
  expect(table.lookup('/api/health')).toBe('/api/health');
  expect(table.lookup('/api/flows/name/etl')).toBe('/api/flows/name/{name}');
});

test('literal segments win over parameters, with backtracking', () => {
  expect(table.lookup('/api/artifacts/filter')).toBe('/api/artifacts/filter');
  expect(table.lookup('/api/artifacts/latest/filter')).toBe('/api/artifacts/latest/filter');
  expect(table.lookup('/api/artifacts/latest/latest')).toBe('/api/artifacts/{key}/latest');
  expect(table.lookup('/api/flows/name')).toBe('/api/flows/{id}');
});

test('anything else is one bounded label, never the raw path', () => {
  for (const path of ['/', '/api', '/api/artifacts', '/api/artifacts/x/y/z', '/api/artifacts//latest', '/docs/swagger.js', '/nope/123']) {
    expect(table.lookup(path)).toBe('unmatched');
  }
});
