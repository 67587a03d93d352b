/**
 * Runs `artifactd` as a real process, for end-to-end tests: the built executable when
 * ARTIFACTD_BIN names one (CI builds it first), otherwise src/main.ts under this Bun.
 */

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
export const COMMAND = process.env.ARTIFACTD_BIN ? [process.env.ARTIFACTD_BIN] : [process.execPath, MAIN];

export function run(args: string[], env: Record<string, string> = {}) {
  return Bun.spawn([...COMMAND, ...args], {
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

/** Reads stdout until the start-up line appears and returns the base URL (http or https). */
export async function startupUrl(proc: ReturnType<typeof run>): Promise<string> {
  const reader = proc.stdout.getReader();
  let text = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    const match = /(https?:\/\/127\.0\.0\.1:\d+)\/api/.exec(text);
    if (match) {
      reader.releaseLock();
      return match[1];
    }
  }
  throw new Error(`no start-up line; stdout: ${text}`);
}
