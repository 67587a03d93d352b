/**
 * Asking before a destructive command. On a terminal: a `[y/N]` question (anything but y/yes is
 * no). Anywhere else (a pipe, a cron job, CI) there is nobody to ask, so without `--yes` the
 * command refuses rather than deleting silently.
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
  } finally {
    prompt.close();
  }
}
