/**
 * The ceiling: a bare `Bun.serve` answering every request with one fixed artifact-sized JSON
 * body (~300 bytes), with the headers artifactd sends. What the runtime and wrk can do on this
 * machine with no application in the way; the bench reports every scenario as a share of it.
 *
 *   bun bench/ceiling.ts [port]      # prints "ceiling listening on PORT"
 */
const body = JSON.stringify({
  id: '6f1d2c3b-8a4e-4b7a-9c11-2e5d7f9a0b12',
  created: '2026-01-05T08:00:00.123456Z',
  updated: '2026-01-05T08:00:00.123456Z',
  key: 'nightly-sales-report-00042',
  type: 'markdown',
  description: null,
  data: '# Nightly sales\n\n| region | orders |\n|---|---|\n| north | 1204 |\n| south | 980 |',
  metadata_: null,
  flow_run_id: '1c9e7a52-3d7c-4f0e-8a43-5b2f0d6e9a10',
  task_run_id: null,
});

const headers = { 'content-type': 'application/json', 'access-control-allow-origin': '*' };

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.argv[2] ?? 0),
  fetch: () => new Response(body, { headers }),
});

console.log(`ceiling listening on ${server.port}`);
process.on('SIGTERM', () => {
  void server.stop(true);
  process.exit(0);
});
