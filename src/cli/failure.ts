/**
 * How the operations commands end on an expected failure: a missing artifact, an unreachable
 * server, a bad backup file. One `artifactd: …` line on stderr and exit status 1 — never a stack
 * trace. (Mistakes in the command line itself are UsageErrors: status 2, handled by main.ts.)
 */
import { DurationError } from '../duration.ts';
import { BackupError } from '../store/lmdb/backup.ts';
import { UsageError } from './command.ts';
import { SourceError } from './source.ts';

/** An expected failure of a command; its message is the whole story. */
export class CommandFailure extends Error {}

export async function reportingFailures(work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DurationError) throw new UsageError(error.message);
    if (error instanceof CommandFailure || error instanceof SourceError || error instanceof BackupError) {
      console.error(`artifactd: ${error.message}`);
      return 1;
    }
    // A file-system failure (no space, no permission, not a directory) is the user's to fix.
    if (error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string') {
      console.error(`artifactd: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
