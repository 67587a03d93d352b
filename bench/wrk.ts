/**
 * wrk, the load generator: installs it when missing (Debian package), runs one bounded
 * measurement and parses its `--latency` summary.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { track, untrack } from './procs.ts';

const LUA = join(import.meta.dir, 'lua', 'requests.lua');

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** microseconds */
  p50: number;
  p99: number;
  non2xx: number;
  socketErrors: number;
  raw: string;
}

/** One request of a scenario: what a line of the Lua request file holds. */
export interface Req {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** send `Accept-Encoding: gzip`, as Prefect's Python client does (else no Accept-Encoding) */
  gzip?: boolean;
}

async function run(cmd: string[]): Promise<{ code: number; out: string }> {
  try {
    const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return { code: await proc.exited, out: out + err };
  } catch (error) {
    return { code: 127, out: (error as Error).message };
  }
}

/** `wrk -v` prints "wrk 4.1.0 [epoll] Copyright …" (and exits 1). */
export async function wrkVersion(): Promise<string | undefined> {
  const { out } = await run(['wrk', '-v']);
  return out.match(/^wrk (\S+.*?) Copyright/m)?.[1] ?? out.match(/^wrk \S+/m)?.[0];
}

export async function ensureWrk(): Promise<string> {
  const found = await wrkVersion();
  if (found) return found;
  console.log('wrk not found: installing the Debian package (apt-get install -y wrk)…');
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : ['sudo', '-n'];
  for (const cmd of [
    [...sudo, 'apt-get', 'update'],
    [...sudo, 'apt-get', 'install', '-y', '--no-install-recommends', 'wrk'],
  ]) {
    const { code, out } = await run(cmd);
    if (code !== 0) {
      throw new Error(
        `cannot install wrk (\`${cmd.join(' ')}\` exited ${code}):\n${out.trim().split('\n').slice(-5).join('\n')}\n` +
          'Install it yourself (Debian/Ubuntu: apt-get install wrk) and run the bench again.',
      );
    }
  }
  const installed = await wrkVersion();
  if (!installed) throw new Error('apt-get installed wrk but `wrk -v` still fails');
  return installed;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** "812.00us", "1.23ms", "2.01s" → microseconds. */
export function parseDuration(text: string): number {
  const m = text.match(/^([\d.]+)(us|ms|s|m|h)$/);
  if (!m) throw new Error(`unparseable wrk duration: ${text}`);
  return Number(m[1]) * UNIT_US[m[2]];
}

export function parseWrk(raw: string): WrkResult {
  const rps = raw.match(/^Requests\/sec:\s+([\d.]+)/m);
  const total = raw.match(/^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h))/m);
  const p50 = raw.match(/^\s+50%\s+(\S+)/m);
  const p99 = raw.match(/^\s+99%\s+(\S+)/m);
  if (!rps || !total || !p50 || !p99) throw new Error(`unexpected wrk output:\n${raw}`);
  const non2xx = raw.match(/Non-2xx or 3xx responses:\s+(\d+)/);
  const sock = raw.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: Number(total[1]),
    seconds: parseDuration(total[2]) / 1e6,
    rps: Number(rps[1]),
    p50: parseDuration(p50[1]),
    p99: parseDuration(p99[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    raw,
  };
}

/** Writes the request file the Lua script replays. Bodies must be one line (JSON is). */
export function writeRequests(file: string, reqs: Req[]): void {
  const lines = reqs.map((r) => {
    if (/[\t\n]/.test(r.path + (r.body ?? ''))) throw new Error(`request has a tab or newline: ${r.path}`);
    return `${r.method}\t${r.path}\t${r.body ?? ''}\t${r.gzip ? 'gzip' : ''}`;
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

export interface WrkOptions {
  url: string; // http://127.0.0.1:PORT
  requestFile: string;
  seconds: number;
  connections: number;
  threads: number;
  /**
   * More servers to share the load with `url`'s: wrk thread i connects to the i-th of
   * [url's port, …ports] (round-robin), so with -t2 and two ports each server gets half the
   * connections. Same host (127.0.0.1).
   */
  spreadPorts?: number[];
}

/** Runs wrk for `seconds` (killed if it overruns by 20 s) and parses its summary. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const cmd = [
    'wrk',
    `-t${o.threads}`,
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    '--timeout',
    '5s',
    '--latency',
    '-s',
    LUA,
    o.url,
    '--',
    o.requestFile,
  ];
  const ports = o.spreadPorts?.length ? [new URL(o.url).port, ...o.spreadPorts].join(',') : '';
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, ARTIFACTD_BENCH_WRK_PORTS: ports } });
  track(proc);
  const guard = setTimeout(() => proc.kill('SIGKILL'), (o.seconds + 20) * 1000);
  try {
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    const code = await proc.exited;
    if (code !== 0) throw new Error(`wrk exited ${code}:\n${out}${err}`);
    return parseWrk(out + err);
  } finally {
    clearTimeout(guard);
    untrack(proc);
  }
}
