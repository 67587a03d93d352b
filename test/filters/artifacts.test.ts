import { describe, expect, test } from 'bun:test';
import { compileArtifactFilter, compileCollectionFilter } from '../../src/filters/artifacts.ts';
import { always } from '../../src/filters/leaf.ts';
import type { ArtifactRecord, CollectionRecord } from '../../src/store/records.ts';

const base: ArtifactRecord = {
  id: '00000000-0000-4000-8000-000000000001',
  created: 1,
  updated: 1,
  key: 'sales-report',
  type: 'table',
  description: null,
  data: 'null',
  metadata: null,
  flowRunId: '00000000-0000-4000-8000-0000000000f1',
  taskRunId: null,
};
const row = (over: Partial<ArtifactRecord>) => ({ ...base, ...over });

describe('compileArtifactFilter', () => {
  test('absent, empty and empty-sub-object filters compile to the shared TRUE predicate', () => {
    expect(compileArtifactFilter(undefined)).toBe(always);
    expect(compileArtifactFilter({})).toBe(always);
    expect(compileArtifactFilter({ key: {} })).toBe(always);
  });
  test('leaves inside one sub-object are ANDed', () => {
    const f = compileArtifactFilter({ key: { like_: 'sales', any_: ['other'] } });
    expect(f(base)).toBe(false);
    expect(f(row({ key: 'other' }))).toBe(false);
    expect(compileArtifactFilter({ key: { like_: 'sales', exists_: true } })(base)).toBe(true);
  });
  test('or_ unions sub-objects, and an empty sub-object makes it TRUE', () => {
    const f = compileArtifactFilter({ operator: 'or_', key: { any_: ['x'] }, type: { any_: ['table'] } });
    expect(f(base)).toBe(true);
    expect(f(row({ type: 'markdown' }))).toBe(false);
    const g = compileArtifactFilter({ operator: 'or_', key: {}, type: { any_: ['nope'] } });
    expect(g(row({ type: 'markdown' }))).toBe(true);
  });
  test('key.exists_ false selects keyless artifacts only', () => {
    const f = compileArtifactFilter({ key: { exists_: false } });
    expect(f(base)).toBe(false);
    expect(f(row({ key: null }))).toBe(true);
  });
  test('type.not_any_ drops artifacts without a type', () => {
    const f = compileArtifactFilter({ type: { not_any_: ['result'] } });
    expect(f(row({ type: null }))).toBe(false);
    expect(f(row({ type: 'result' }))).toBe(false);
    expect(f(base)).toBe(true);
  });
  test('run ids compare the stored raw value', () => {
    const f = compileArtifactFilter({ flow_run_id: { any_: [base.flowRunId!] } });
    expect(f(base)).toBe(true);
    expect(f(row({ flowRunId: null }))).toBe(false);
    expect(compileArtifactFilter({ task_run_id: { any_: [] } })(base)).toBe(false);
  });
});

describe('compileCollectionFilter', () => {
  const collection: CollectionRecord = { ...base, key: 'sales-report', latestId: base.id, id: 'c' };
  test('latest_id matches the latest version id', () => {
    expect(compileCollectionFilter({ latest_id: { any_: [base.id] } })(collection)).toBe(true);
    expect(compileCollectionFilter({ latest_id: { any_: ['x'] } })(collection)).toBe(false);
  });
  test('key.exists_ false matches no collection', () => {
    expect(compileCollectionFilter({ key: { exists_: false } })(collection)).toBe(false);
  });
});
