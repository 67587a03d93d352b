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

/**
 * Reads a process's output stream on demand, keeping all of it so far in `text` (tests that go on
 * reading after the start-up line, or wait for a prompt or a log line).
 */
export function outputReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const output = {
    text: '',
    reader,
    /** Reads until `pattern` (not global) matches the text, the stream ends, or `ms` pass; returns its match. */
    async until(pattern: RegExp, ms = 30_000): Promise<RegExpExecArray | null> {
      const deadline = Date.now() + ms;
      while (!pattern.test(output.text) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        output.text += decoder.decode(value, { stream: true });
      }
      return pattern.exec(output.text);
    },
    /** Reads to the end of the stream. */
    async rest(): Promise<string> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return output.text;
        output.text += decoder.decode(value, { stream: true });
      }
    },
  };
  return output;
}

/** Reads stdout until the start-up line appears and returns the base URL (http or https). */
export async function startupUrl(proc: ReturnType<typeof run>): Promise<string> {
  const output = outputReader(proc.stdout);
  const match = await output.until(/(https?:\/\/127\.0\.0\.1:\d+)\/api/);
  if (!match) throw new Error(`no start-up line; stdout: ${output.text}`);
  output.reader.releaseLock();
  return match[1];
}
