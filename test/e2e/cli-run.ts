/**
 * Helpers for end-to-end tests of the operations commands: run one to completion and collect
 * its exit code and output; start a server and talk JSON to it.
 */
import { run, startupUrl } from './process.ts';

export interface Finished {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `artifactd ARGS` to completion (stdin is not a terminal). COLUMNS is cleared so that an
 * exported terminal width does not cut the tables the tests read.
 */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const proc = run(args, { COLUMNS: '', ...env });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

export interface Server {
  base: string;
  api: string;
  proc: ReturnType<typeof run>;
  /** Sends JSON (with these headers) and returns the status and parsed body. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  stop(): Promise<void>;
}

export async function startServer(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const proc = run(['serve', '--port', '0', ...args], env);
  const base = await startupUrl(proc);
  const call: Server['call'] = async (method, path, body, headers = {}) => {
    const response = await fetch(`${base}/api${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
  };
  return {
    base,
    api: `${base}/api`,
    proc,
    call,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
}
