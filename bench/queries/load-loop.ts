/**
 * The no-waiting row's load, in a process of its own so its replies never delay the latency
 * probes: `bun load-loop.ts URL ROUTE BODY_FILE CONNECTIONS SECONDS` sends the body to
 * POST /api/artifacts/ROUTE on CONNECTIONS concurrent loops (each waits for its reply before
 * sending again) until SECONDS have passed, then abandons what is still in flight and prints
 * `{"requests":…,"errors":…}` (answers received). Loopback only; bounded in time.
 */
import { readFileSync } from 'node:fs';

const [url, route, bodyFile, connections, seconds] = process.argv.slice(2);
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url ?? '')) throw new Error(`load-loop: not a loopback URL: ${url}`);
const body = readFileSync(bodyFile, 'utf8');
const deadline = performance.now() + Number(seconds) * 1000;
const stop = AbortSignal.timeout(Number(seconds) * 1000);
let requests = 0;
let errors = 0;

async function loop(): Promise<void> {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`${url}/api/artifacts/${route}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' },
        signal: stop,
      });
      await res.arrayBuffer();
      if (res.status === 200) requests++;
      else errors++;
    } catch {
      if (!stop.aborted) errors++;
    }
  }
}

await Promise.all(Array.from({ length: Number(connections) }, loop));
console.log(JSON.stringify({ requests, errors }));
