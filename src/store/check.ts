/**
 * Verifies the store's invariants and lists what is wrong (empty when sound): every index entry
 * points at a record and every record is indexed; each key's collection names its newest
 * version by `created` and mirrors its fields; the counters equal real counts.
 */
import type { StoreDbs } from './env.ts';
import { byKeyKey, byRunKey, byTimeKey, versionsRange } from './keys.ts';
import { mirroredFields, type ArtifactRecord } from './records.ts';

const keyString = (key: unknown) => JSON.stringify(key);

export function checkStore(dbs: StoreDbs): string[] {
  const findings: string[] = [];
  const expect = (index: string, actual: Iterable<unknown>, wanted: Set<string>) => {
    const seen = new Set<string>();
    for (const key of actual) {
      const k = keyString(key);
      seen.add(k);
      if (!wanted.has(k)) findings.push(`${index}: entry ${k} has no matching record`);
    }
    for (const k of wanted) if (!seen.has(k)) findings.push(`${index}: record entry ${k} is missing`);
  };

  const artifacts: ArtifactRecord[] = [];
  for (const { key, value } of dbs.artifacts.getRange({})) {
    if (key !== value.id) findings.push(`artifacts: record stored under ${key} has id ${value.id}`);
    artifacts.push(value);
  }
  const want = (make: (r: ArtifactRecord) => unknown[] | undefined) =>
    new Set(artifacts.map(make).filter((k) => k !== undefined).map(keyString));
  expect('artifacts.byKey', dbs.artifactsByKey.getKeys({}), want((r) => byKeyKey(r.key, r.created, r.id)));
  expect('artifacts.byCreated', dbs.artifactsByCreated.getKeys({}), want((r) => byTimeKey(r.created, r.id)));
  expect('artifacts.byUpdated', dbs.artifactsByUpdated.getKeys({}), want((r) => byTimeKey(r.updated, r.id)));
  expect('artifacts.byFlowRun', dbs.artifactsByFlowRun.getKeys({}), want((r) => (r.flowRunId ? byRunKey(r.flowRunId, r.id) : undefined)));
  expect('artifacts.byTaskRun', dbs.artifactsByTaskRun.getKeys({}), want((r) => (r.taskRunId ? byRunKey(r.taskRunId, r.id) : undefined)));

  const keys = new Set(artifacts.flatMap((r) => (r.key === null ? [] : [r.key])));
  const collections = [...dbs.collections.getRange({})].map(({ value }) => value);
  for (const c of collections) {
    if (!keys.has(c.key)) {
      findings.push(`collections: key ${JSON.stringify(c.key)} has no artifact`);
      continue;
    }
    let newest: ArtifactRecord | undefined;
    const range = versionsRange(c.key);
    for (const k of dbs.artifactsByKey.getKeys({ start: range.end, end: range.start, reverse: true })) {
      newest = dbs.artifacts.get((k as unknown[])[3] as string);
      break;
    }
    if (!newest || newest.id !== c.latestId) {
      findings.push(`collections: key ${JSON.stringify(c.key)} names ${c.latestId}, newest is ${newest?.id}`);
    } else if (JSON.stringify(mirroredFields(newest)) !== JSON.stringify(mirroredFields(c))) {
      findings.push(`collections: key ${JSON.stringify(c.key)} does not mirror its latest version`);
    }
  }
  for (const key of keys) if (!dbs.collections.get(key)) findings.push(`collections: key ${JSON.stringify(key)} has no collection`);
  const wantCollections = (make: (c: (typeof collections)[number]) => unknown) => new Set(collections.map(make).map(keyString));
  expect('collections.byId', dbs.collectionsById.getKeys({}), wantCollections((c) => c.id));
  expect('collections.byCreated', dbs.collectionsByCreated.getKeys({}), wantCollections((c) => byTimeKey(c.created, c.id)));
  expect('collections.byUpdated', dbs.collectionsByUpdated.getKeys({}), wantCollections((c) => byTimeKey(c.updated, c.id)));

  const counted = (name: string, real: number) => {
    const stored = dbs.counters.get(name) ?? 0;
    if (stored !== real) findings.push(`counters: ${name} is ${stored}, real count ${real}`);
  };
  counted('artifacts', artifacts.length);
  counted('collections', collections.length);
  return findings;
}
