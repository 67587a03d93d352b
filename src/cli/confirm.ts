/**
 * Asking before a destructive command. On a terminal: a `[y/N]` question (anything but y/yes is
 * no, Ctrl+D and Ctrl+C included). Anywhere else (a pipe, a cron job, CI) there is nobody to ask,
 * so without `--yes` the command refuses rather than deleting silently.
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from './command.ts';

export async function confirm(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw new UsageError(`${question.replace(/\?$/, '')}: refusing without confirmation because stdin is not a terminal; pass --yes`);
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch (error) {
    // Ctrl+D or Ctrl+C at the question rejects it with an AbortError: that is a "no", not a crash.
    if ((error as Error).name !== 'AbortError') throw error;
    process.stderr.write('\n');
    return false;
  } finally {
    prompt.close();
  }
}
