/**
 * What request logging and metrics cost per request, in process: `app.handle` on
 * `GET /api/artifacts/{id}` (the fastest route, so the overhead shows most) over four apps on one
 * store — neither, logging, metrics, both — interleaved round by round so machine noise hits
 * all alike (each round in a rotated order). Log lines go to a sink that drops them (format and buffering are measured, not the
 * terminal), or to the real stdout with `--stdout` (run with `> /dev/null`).
 *
 *   bun bench/observe-cost.ts [--rounds 8] [--requests 20000] [--stdout]
 */
import { parseArgs } from 'node:util';
import { createApp, type App } from '../src/app.ts';
import { DEFAULTS, type Config } from '../src/config.ts';
import { createLogger, processOutput, silentLogger, type LogOutput } from '../src/observe/log.ts';
import { LmdbStore as Store } from '../src/store/lmdb/store.ts';
import { tempDir } from '../test/helpers.ts';
import { rmSync } from 'node:fs';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, requests: { type: 'string' }, stdout: { type: 'boolean' } } });
const rounds = Number(values.rounds ?? 8);
const requests = Number(values.requests ?? 20000);
const dropped: LogOutput = { out() {}, err() {}, drain: async () => {} };
const output = values.stdout ? processOutput() : dropped;

const dir = tempDir('artifactd-observe-');
const store = Store.open(dir);
const ids: string[] = [];
for (let i = 0; i < 1000; i++) ids.push((await store.artifacts.create({ key: `k${i % 100}`, type: 'markdown', description: null, data: '"# report"', metadata: null, flowRunId: null, taskRunId: null })).id);

const config: Config = { ...DEFAULTS, dataDir: dir };
const apps: Record<string, App> = {
  bare: createApp(store, config, silentLogger),
  logging: createApp(store, config, createLogger({ level: 'info', format: 'text' }, output)),
  'logging json': createApp(store, config, createLogger({ level: 'info', format: 'json' }, output)),
  metrics: createApp(store, { ...config, metrics: true }, silentLogger),
  both: createApp(store, { ...config, metrics: true }, createLogger({ level: 'info', format: 'text' }, output)),
};
const urls = ids.map((id) => `http://127.0.0.1:4200/api/artifacts/${id}`);

/** CPU time (user + system) per request: unlike wall time, it is not inflated when other processes take the cores. */
async function drive(app: App): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const response = await app.handle(new Request(urls[i % urls.length]));
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    await response.text();
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / requests; // ms per request
}

const times: Record<string, number[]> = Object.fromEntries(Object.keys(apps).map((name) => [name, []]));
for (const app of Object.values(apps)) await drive(app); // warm up every path
// Each round starts with a different app, so no app always runs right after the same one.
const entries = Object.entries(apps);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < entries.length; k++) {
    const [name, app] = entries[(r + k) % entries.length];
    times[name].push(await drive(app));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times.bare);
const report = Object.entries(times).map(([name, xs]) => {
  const us = median(xs) * 1000;
  return `${name.padEnd(14)} ${us.toFixed(2).padStart(7)} µs CPU/request  ×${(median(xs) / base).toFixed(3)}  (+${(us - base * 1000).toFixed(2)} µs)`;
});
console.error(`GET /api/artifacts/{id} through app.handle, median of ${rounds} rounds × ${requests} requests${values.stdout ? ', log to stdout' : ''}:`);
for (const line of report) console.error(line);
await store.close();
rmSync(dir, { recursive: true, force: true });
