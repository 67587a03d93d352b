/**
 * The processes under test: the built executable (`dist/artifactd serve`) and the ceiling
 * (`bench/ceiling.ts`), both on 127.0.0.1 with a free port; `/proc/PID/status` memory sampling;
 * the store's size on disk.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { track, untrack } from './procs.ts';

export interface Running {
  proc: Subprocess;
  url: string; // http://127.0.0.1:PORT
  stop(): Promise<number>;
}

/** Starts a process, waits for `pattern` (capturing the port) on stdout, logs output to `log`. */
async function startListening(cmd: string[], pattern: RegExp, log: string, label: string, env?: Record<string, string>): Promise<Running> {
  writeFileSync(log, `$ ${cmd.join(' ')}\n`);
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', ...(env ? { env: { ...process.env, ...env } } : {}) });
  track(proc);
  let port: string | undefined;
  const seen = new Promise<string>((resolve, reject) => {
    const pump = async (stream: ReadableStream<Uint8Array>, watch: boolean) => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        appendFileSync(log, text);
        if (watch && port === undefined) {
          buffer += text;
          const m = buffer.match(pattern);
          if (m) {
            port = m[1];
            resolve(m[1]);
          }
        }
      }
    };
    void pump(proc.stdout as ReadableStream<Uint8Array>, true);
    void pump(proc.stderr as ReadableStream<Uint8Array>, false);
    void proc.exited.then((code) => reject(new Error(`${label} exited ${code} before listening; see ${log}:\n${readFileSync(log, 'utf8')}`)));
    setTimeout(() => reject(new Error(`${label} did not start within 30 s; see ${log}`)), 30_000);
  });
  const url = `http://127.0.0.1:${await seen}`;
  return {
    proc,
    url,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await proc.exited;
      clearTimeout(timer);
      untrack(proc);
      return code;
    },
  };
}

async function waitFor(url: string, label: string, seconds = 30): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await Bun.sleep(50);
  }
  throw new Error(`${label}: ${url} not healthy after ${seconds} s (${last})`);
}

/**
 * artifactd as the bench runs it: request lines off by default — at tens of thousands of
 * requests a second they would fill the log file — and on for the one scenario that measures
 * what they cost (`requestLogs`).
 */
export async function startArtifactd(
  binary: string,
  dataDir: string,
  log: string,
  { requestLogs = false, databaseUrl, extraArgs = [], env }: { requestLogs?: boolean; databaseUrl?: string; extraArgs?: string[]; env?: Record<string, string> } = {},
): Promise<Running> {
  // With `databaseUrl` the store is PostgreSQL (`--database-url`) and `dataDir` is not used.
  const store = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir];
  const running = await startListening(
    [binary, 'serve', '--host', '127.0.0.1', '--port', '0', ...store, ...(requestLogs ? [] : ['--log-level', 'warning']), ...extraArgs],
    /serving the Prefect API at http:\/\/127\.0\.0\.1:(\d+)\/api/,
    log,
    requestLogs ? 'artifactd (request logs on)' : 'artifactd',
    env,
  );
  await waitFor(`${running.url}/api/health`, 'artifactd');
  return running;
}

export async function startCeiling(log: string): Promise<Running> {
  const running = await startListening(
    [process.execPath, join(import.meta.dir, 'ceiling.ts')],
    /ceiling listening on (\d+)/,
    log,
    'ceiling',
  );
  await waitFor(`${running.url}/`, 'ceiling');
  return running;
}

/** The query matrix's SQLite side over HTTP (bench/queries/sqlite-server.ts) on `dbFile`. */
export async function startSqliteServer(dbFile: string, log: string): Promise<Running> {
  const running = await startListening(
    [process.execPath, join(import.meta.dir, 'queries', 'sqlite-server.ts'), dbFile],
    /sqlite-server listening on (\d+)/,
    log,
    'sqlite-server',
  );
  await waitFor(`${running.url}/api/health`, 'sqlite-server');
  return running;
}

// ── memory ───────────────────────────────────────────────────────────────────────────────────

/** kB figures from /proc/PID/status. */
export interface Mem {
  vmRss: number;
  rssAnon: number;
  rssFile: number;
}

export function readMem(pid: number): Mem | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { vmRss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

/** Samples every `ms` and keeps each figure's peak (and, per label, the peak while it ran). */
export class MemSampler {
  readonly peak: Mem = { vmRss: 0, rssAnon: 0, rssFile: 0 };
  private timer: ReturnType<typeof setInterval> | undefined;
  private phasePeak: Mem = { vmRss: 0, rssAnon: 0, rssFile: 0 };

  constructor(private readonly pid: number) {}

  sample(): Mem | undefined {
    const m = readMem(this.pid);
    if (!m) return undefined;
    for (const k of ['vmRss', 'rssAnon', 'rssFile'] as const) {
      this.peak[k] = Math.max(this.peak[k], m[k]);
      this.phasePeak[k] = Math.max(this.phasePeak[k], m[k]);
    }
    return m;
  }

  start(ms = 200): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), ms);
  }

  /** The peak since the previous call (a scenario's own peak). */
  takePhasePeak(): Mem {
    this.sample();
    const p = this.phasePeak;
    this.phasePeak = { vmRss: 0, rssAnon: 0, rssFile: 0 };
    return p;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

// ── disk ─────────────────────────────────────────────────────────────────────────────────────

export interface DiskSize {
  /** st_size summed */
  apparent: number;
  /** st_blocks × 512 summed: what the files really occupy */
  allocated: number;
}

export function dirSize(dir: string): DiskSize {
  const total: DiskSize = { apparent: 0, allocated: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = dirSize(path);
      total.apparent += sub.apparent;
      total.allocated += sub.allocated;
    } else if (entry.isFile()) {
      const s = statSync(path);
      total.apparent += s.size;
      total.allocated += s.blocks * 512;
    }
  }
  return total;
}

/** An artifactd started by another command line (e.g. from source under a profiler): waits for its start line and `/api/health`. */
export async function startListeningCommand(cmd: string[], log: string): Promise<Running> {
  const running = await startListening(cmd, /serving the Prefect API at http:\/\/127\.0\.0\.1:(\d+)\/api/, log, 'artifactd');
  await waitFor(`${running.url}/api/health`, 'artifactd');
  return running;
}
