/**
 * `bun bench/gzip-level.ts`: how the gzip level trades size for time on the replies a client
 * gets — a 200-row filter page, a 50-row latest page, one artifact — from a store seeded as the
 * benchmark seeds it. Times are CPU time per compression on this machine (median of 9 batches),
 * so what matters is their ratios; src/http/compress.ts's level was chosen from this table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app.ts';
import { DEFAULTS } from '../src/config.ts';
import { LmdbStore as Store } from '../src/store/lmdb/store.ts';
import { seed } from './seed.ts';

const dir = mkdtempSync(join(tmpdir(), 'artifactd-gzip-'));
try {
  const seeded = await seed(dir, 5000);
  const store = Store.open(dir);
  const app = createApp(store, { ...DEFAULTS, dataDir: dir, gzip: false });
  const reply = async (method: string, path: string, body?: unknown) =>
    new Uint8Array(await (await app.handle(new Request(`http://127.0.0.1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) }))).arrayBuffer());
  const pages: [string, Uint8Array<ArrayBuffer>][] = [
    ['filter, 200 rows', await reply('POST', '/api/artifacts/filter', { sort: 'CREATED_DESC', limit: 200 })],
    ['latest filter, 50 rows', await reply('POST', '/api/artifacts/latest/filter', { sort: 'UPDATED_DESC', limit: 50 })],
    ['one artifact', await reply('GET', `/api/artifacts/${seeded.artifactIds[7]}`)],
  ];
  await store.close();
  for (const [name, bytes] of pages) {
    console.log(`\n${name}: ${bytes.length.toLocaleString('en-US')} bytes`);
    console.log('| level | bytes | ratio | µs per reply |\n|---:|---:|---:|---:|');
    for (const level of [1, 2, 3, 4, 5, 6, 9] as const) {
      const batch = Math.max(20, Math.round(2_000_000 / bytes.length));
      const times: number[] = [];
      let size = 0;
      for (let round = 0; round < 9; round++) {
        const started = process.cpuUsage();
        for (let i = 0; i < batch; i++) size = Bun.gzipSync(bytes, { level }).length;
        const used = process.cpuUsage(started);
        times.push((used.user + used.system) / batch);
      }
      times.sort((a, b) => a - b);
      console.log(`| ${level} | ${size.toLocaleString('en-US')} | ${(bytes.length / size).toFixed(1)}× | ${times[4].toFixed(1)} |`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
