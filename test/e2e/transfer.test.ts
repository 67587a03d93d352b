/**
 * `artifactd export` and `artifactd import` as an operator runs them: real processes (the built
 * executable when ARTIFACTD_BIN is set), files and pipes, exit codes, bad lines reported by
 * number, idempotency, a live server on the same data dir, the progress bar only on a terminal,
 * and an exact round trip.
 */
import { afterAll, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { roundTrip } from '../../scripts/transfer-roundtrip.ts';
import { LmdbStore as Store } from '../../src/store/lmdb/store.ts';
import { tempDir } from '../helpers.ts';
import { COMMAND, run, startupUrl } from './process.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dir = () => {
  const d = tempDir('artifactd-transfer-');
  dirs.push(d);
  return d;
};

async function artifactd(args: string[]) {
  const proc = run(args);
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { status, stdout, stderr };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const CLI = COMMAND.map(shellQuote).join(' ');

/** A small store: a flow, a run, a task run and artifacts over two keys. */
async function smallStore(): Promise<string> {
  const d = dir();
  const store = Store.open(d);
  const flow = (await store.flows.create({ name: 'etl', tags: [] } as never)).record;
  const run = (await store.flowRuns.create({ flow_id: flow.id, state: { type: 'COMPLETED' } } as never)).record;
  await store.taskRuns.create({ flow_run_id: run.id, task_key: 't', dynamic_key: '0' } as never);
  for (let i = 0; i < 20; i++) {
    await store.artifacts.create({ key: `k${i % 2}`, type: 'table', description: null, data: `{"n": 1234567890123456789${i}}`, metadata: null, flowRunId: run.id, taskRunId: null });
  }
  await store.close();
  return d;
}

const counts = async (d: string) => JSON.parse((await artifactd(['check', '--data-dir', d, '--json'])).stdout);
const BAR = /[█░\r]|\x1b\[/;

test('export to a file, import it into a fresh directory: same counts, check passes, quiet when piped', async () => {
  const source = await smallStore();
  const target = dir();
  const file = join(dir(), 'out.ndjson');
  const exported = await artifactd(['export', '--data-dir', source, file]);
  expect(exported.status).toBe(0);
  expect(exported.stdout).toBe('');
  expect(exported.stderr).toBe(`exported 25 records to ${file} (1 flows, 0 deployments, 1 flow runs, 1 task runs, 2 collections, 20 artifacts, 0 logs, 0 events)\n`);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(lines[0]).toMatchObject({ kind: 'header', format: 'artifactd-export', version: 2, exported_by: expect.stringMatching(/^artifactd \d/), counts: { artifact: 20, collection: 2, flow: 1 } });
  expect(lines.slice(1).map((l) => l.kind)).toEqual(['flow', 'flow_run', 'task_run', 'collection', 'collection', ...Array(20).fill('artifact')]);
  expect(readFileSync(file, 'utf8')).toContain('"data":{"n": 12345678901234567890}'); // exact, as written

  const imported = await artifactd(['import', '--data-dir', target, file]);
  expect(imported.status).toBe(0);
  expect(imported.stdout).toBe(`imported ${file}: 25 added, 0 unchanged, 0 kept (the store's differs), 0 bad lines\n`);
  expect(imported.stderr).toBe('');
  const [a, b] = [await counts(source), await counts(target)];
  expect(b.ok).toBe(true);
  expect(b.counts).toEqual(a.counts);
});

test('importing the same file twice changes nothing the second time (--json summary)', async () => {
  const source = await smallStore();
  const target = dir();
  const file = join(dir(), 'out.ndjson');
  expect((await artifactd(['export', '--data-dir', source, file])).status).toBe(0);
  const first = await artifactd(['import', '--data-dir', target, file, '--json']);
  const second = await artifactd(['import', '--data-dir', target, file, '--json']);
  expect([first.status, second.status]).toEqual([0, 0]);
  expect(JSON.parse(first.stdout)).toEqual({ lines: 26, added: 25, unchanged: 0, kept: 0, bad: 0 });
  expect(JSON.parse(second.stdout)).toEqual({ lines: 26, added: 0, unchanged: 25, kept: 0, bad: 0 });
  expect((await counts(target)).counts).toEqual((await counts(source)).counts);
});

test('a record the store holds differently is kept as the store has it, named on stderr, exit 0', async () => {
  const source = await smallStore();
  const target = dir();
  const file = join(dir(), 'out.ndjson');
  expect((await artifactd(['export', '--data-dir', source, file])).status).toBe(0);
  expect((await artifactd(['import', '--data-dir', target, file])).status).toBe(0);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const edited = JSON.parse(lines[10]);
  edited.record.description = 'edited after the export';
  lines[10] = JSON.stringify(edited);
  writeFileSync(file, lines.join('\n') + '\n');
  const again = await artifactd(['import', '--data-dir', target, file, '--json']);
  expect(again.status).toBe(0);
  expect(again.stderr).toBe(`line 11: artifact ${edited.record.id} is in the store with different content; kept the store's\n`);
  expect(JSON.parse(again.stdout)).toEqual({ lines: 26, added: 0, unchanged: 24, kept: 1, bad: 0 });
  const store = Store.open(target);
  try {
    expect(store.artifacts.get(edited.record.id)?.description).toBeNull();
  } finally {
    await store.close();
  }
});

test('export | import through a pipe: stdout carries only NDJSON, stdin is read with -, no bar text', async () => {
  const source = await smallStore();
  const target = dir();
  const err = join(dir(), 'stderr.txt');
  const proc = Bun.spawn(['sh', '-c', `${CLI} export --data-dir ${shellQuote(source)} 2>${shellQuote(err)} | ${CLI} import - --data-dir ${shellQuote(target)}`], {
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(status).toBe(0);
  expect(stdout).toBe(`imported stdin: 25 added, 0 unchanged, 0 kept (the store's differs), 0 bad lines\n`);
  expect(stderr).toBe('');
  expect(readFileSync(err, 'utf8')).toBe(''); // export to stdout prints nothing else, and no bar
  expect((await counts(target)).counts.artifacts).toBe(20);
});

test('bad lines are reported by number, in order, on stderr and skipped; the good ones are kept; exit 1', async () => {
  const source = await smallStore();
  const file = join(dir(), 'out.ndjson');
  expect((await artifactd(['export', '--data-dir', source, file])).status).toBe(0);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const artifact = JSON.parse(lines.at(-1)!);
  const broken = [
    ...lines.slice(0, 5), // header, flow, run, task run, collection
    '{"kind": "artifact", "record": {',
    '',
    JSON.stringify({ ...artifact, record: { ...artifact.record, id: 'not-a-uuid' } }),
    JSON.stringify({ kind: 'flow_run', record: { ...JSON.parse(lines[2]).record, id: '11111111-1111-4111-8111-111111111111', flow_id: '22222222-2222-4222-8222-222222222222' } }),
    JSON.stringify({ kind: 'artifact', record: { ...artifact.record, created: '2026-13-45T00:00:00Z' } }),
    ...lines.slice(5),
  ];
  writeFileSync(file, broken.join('\r\n') + '\r\n'); // CRLF is read too
  const target = dir();
  const result = await artifactd(['import', '--data-dir', target, file]);
  expect(result.status).toBe(1);
  const reported = result.stderr.trimEnd().split('\n');
  expect(reported).toHaveLength(4);
  expect(reported[0]).toStartWith('line 6: not JSON');
  expect(reported[1]).toStartWith('line 8: artifact: record.id: Input should be a valid UUID');
  expect(reported[3]).toBe('line 10: artifact: record.created: Value error, Unable to parse string [2026-13-45T00:00:00Z]');
  expect(reported[2]).toBe('line 9: flow_run 11111111-1111-4111-8111-111111111111: flow 22222222-2222-4222-8222-222222222222 not found');
  expect(result.stdout).toContain('25 added, 0 unchanged, 0 kept (the store\'s differs), 4 bad lines');
  const after = await counts(target);
  expect(after.ok).toBe(true);
  expect(after.counts).toMatchObject({ artifacts: 20, flowRuns: 1 });
});

test('clear errors, exit 2: no store to export, no file to import, a newer format', async () => {
  const empty = dir();
  const noStore = await artifactd(['export', '--data-dir', join(empty, 'none')]);
  expect(noStore.status).toBe(2);
  expect(noStore.stderr).toBe(`artifactd: no store in ${join(empty, 'none')}\n`);

  const missing = await artifactd(['import', '--data-dir', empty, join(empty, 'nothing.ndjson')]);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toStartWith('artifactd: cannot read');

  const aDir = await artifactd(['import', '--data-dir', empty, empty]);
  expect(aDir.status).toBe(2);
  expect(aDir.stderr).toBe(`artifactd: cannot read ${empty}: it is a directory; give an export file\n`);

  const binary = join(empty, 'backup.mdb');
  writeFileSync(binary, new Uint8Array([0x4c, 0x4d, 0, 0, 1, 2, 3]));
  const notExport = await artifactd(['import', '--data-dir', join(empty, 'fresh'), binary]);
  expect(notExport.status).toBe(2);
  expect(notExport.stderr).toBe(`artifactd: ${binary} is not an export file (it holds binary data; a backup is put back with artifactd restore)\n`);
  expect(existsSync(join(empty, 'fresh'))).toBe(false); // no store was created

  const noArg = await artifactd(['import', '--data-dir', empty]);
  expect(noArg.status).toBe(2);
  expect(noArg.stderr).toBe('artifactd: import needs a FILE (or - for stdin)\n');

  const future = join(empty, 'future.ndjson');
  writeFileSync(future, '{"kind":"header","format":"artifactd-export","version":99}\n');
  const newer = await artifactd(['import', '--data-dir', empty, future]);
  expect(newer.status).toBe(2);
  expect(newer.stderr).toContain('export format version 99 is newer than this artifactd reads (2)');
});

test('export to a directory or into a missing one: one line, exit 2, nothing left behind', async () => {
  const source = await smallStore();
  const target = dir();
  const intoDir = await artifactd(['export', '--data-dir', source, target]);
  expect(intoDir.status).toBe(2);
  expect(intoDir.stderr).toBe(`artifactd: ${target} is a directory; give a file name\n`);
  const missing = join(target, 'no', 'such', 'out.ndjson');
  const intoMissing = await artifactd(['export', '--data-dir', source, missing]);
  expect(intoMissing.status).toBe(2);
  expect(intoMissing.stderr).toBe(`artifactd: cannot write ${missing}: no directory ${join(target, 'no', 'such')}\n`);
  expect(readdirSync(target)).toEqual([]);
});

test('export beside a running server that keeps writing: the file is one consistent snapshot', async () => {
  const d = dir();
  const server = run(['serve', '--port', '0', '--data-dir', d, '--log-level', 'warning']);
  try {
    const base = await startupUrl(server);
    const post = (body: unknown) => fetch(`${base}/api/artifacts/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < 30; i++) expect((await post({ key: `k${i % 4}`, data: i })).status).toBe(201);
    const writing = Promise.all(Array.from({ length: 100 }, (_, i) => post({ key: `w${i % 5}`, data: i })));
    const file = join(dir(), 'live.ndjson');
    const exported = await artifactd(['export', '--data-dir', d, file]);
    await writing;
    expect(exported.status).toBe(0);
    const target = dir();
    expect((await artifactd(['import', '--data-dir', target, file])).status).toBe(0);
    const after = await counts(target);
    expect(after.ok).toBe(true);
    expect(after.counts.artifacts).toBeGreaterThanOrEqual(30);
    expect(after.counts.artifacts).toBeLessThanOrEqual(130);
    const header = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]);
    expect(header.counts.artifact).toBe(after.counts.artifacts);
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
});

test('export --json summarises on stdout; without a FILE it is a usage error', async () => {
  const source = await smallStore();
  const file = join(dir(), 'out.ndjson');
  const result = await artifactd(['export', '--data-dir', source, file, '--json']);
  expect(result.status).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    file,
    records: 25,
    counts: { flow: 1, deployment: 0, flow_run: 1, task_run: 1, collection: 2, artifact: 20, log: 0, event: 0 },
  });
  const noFile = await artifactd(['export', '--data-dir', source, '--json']);
  expect(noFile.status).toBe(2);
  expect(noFile.stderr).toBe('artifactd: --json needs a FILE: stdout carries the export\n');
});

test('import into the data dir of a running server: the server answers with the imported records', async () => {
  const source = await smallStore();
  const file = join(dir(), 'out.ndjson');
  expect((await artifactd(['export', '--data-dir', source, file])).status).toBe(0);
  const d = dir();
  const server = run(['serve', '--port', '0', '--data-dir', d, '--log-level', 'warning']);
  try {
    const base = await startupUrl(server);
    const before = await fetch(`${base}/api/artifacts/count`, { method: 'POST', body: '{}' });
    expect(await before.json()).toBe(0);
    expect((await artifactd(['import', '--data-dir', d, file])).status).toBe(0);
    const count = await fetch(`${base}/api/artifacts/count`, { method: 'POST', body: '{}' });
    expect(await count.json()).toBe(20);
    const latest = await fetch(`${base}/api/artifacts/k1/latest`);
    expect(latest.status).toBe(200);
    expect(await latest.text()).toContain('"data":{"n": 123456789012345678919}');
  } finally {
    server.kill('SIGTERM');
    await server.exited;
  }
  expect((await counts(d)).ok).toBe(true);
});

test('export | head: a reader that stops early gets a one-line message, not a stack trace', async () => {
  const d = dir();
  const store = Store.open(d);
  for (let from = 0; from < 3000; from += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        store.artifacts.create({ key: `k${(from + i) % 50}`, type: 'markdown', description: 'x'.repeat(100), data: JSON.stringify('#'.repeat(200)), metadata: null, flowRunId: null, taskRunId: null }),
      ),
    );
  }
  await store.close();
  const proc = Bun.spawn(['bash', '-c', `${CLI} export --data-dir ${shellQuote(d)} | head -c 100 > /dev/null; exit \${PIPESTATUS[0]}`], { stdout: 'pipe', stderr: 'pipe' });
  const [stderr, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  // Either the one-line message and status 1, or a silent SIGPIPE (141) as any Unix tool.
  expect([`1 artifactd: export stopped: the reader closed its end of the pipe\n`, '141 ']).toContain(`${status} ${stderr}`);
});

// `script` (util-linux) gives the command a terminal; skipped where it is not installed.
test.skipIf(!Bun.which('script'))('on a terminal both commands draw a progress bar (on stderr)', async () => {
  const source = await smallStore();
  const target = dir();
  const file = join(dir(), 'tty.ndjson');
  const inTerminal = async (args: string[]) => {
    const proc = Bun.spawn(['script', '-qec', `${CLI} ${args.map(shellQuote).join(' ')}`, '/dev/null'], { stdout: 'pipe', stderr: 'pipe', stdin: 'pipe' });
    const [out, status] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return { out, status };
  };
  const exported = await inTerminal(['export', '--data-dir', source, file]);
  expect(exported.status).toBe(0);
  expect(exported.out).toMatch(/export [█░]+ 100% \| 25\/25 records/);
  // The summary is news, not an error: not in the red that console.error gets on a terminal.
  expect(exported.out).toMatch(/(^|\n)exported 25 records to /);
  const imported = await inTerminal(['import', '--data-dir', target, file]);
  expect(imported.status).toBe(0);
  expect(imported.out).toMatch(/import [█░]+ 100% \| 25\/25 records/);
  // … and the same commands piped draw nothing
  const piped = await artifactd(['export', '--data-dir', source, file]);
  expect(piped.stderr).not.toMatch(BAR);
});

test('a round trip of 10,000 artifacts with every kind of record is exact', async () => {
  const result = await roundTrip(10_000, dir());
  expect(result.differences).toEqual([]);
  expect(result.records).toBeGreaterThan(10_000);
}, 60_000);
