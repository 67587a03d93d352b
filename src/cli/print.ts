/**
 * Writing a command's output to stdout completely. A write to a pipe is asynchronous, and
 * main.ts exits as soon as a command returns, which cut long tables short
 * (`artifactd ls --all | wc -l`); so each write is awaited until the OS has every byte.
 * (Bun.write(Bun.stdout) is no substitute: on a pipe it repeated data after the first 64 KiB.)
 * A reader that goes away early (`| head`) is not an error: the command stops quietly.
 */

let guarded = false;

function quietOnClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
}

/** Prints `text` (a newline is added unless it ends with one) and resolves once it is written. */
export function print(text: string): Promise<void> {
  if (!guarded) {
    guarded = true;
    process.stdout.on('error', quietOnClosedPipe);
  }
  return new Promise((resolve, reject) =>
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`, (error) => {
      if (!error) return resolve();
      quietOnClosedPipe(error);
      reject(error);
    }),
  );
}
