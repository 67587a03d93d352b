/**
 * Progress for long commands (`export`, `import`): a cli-progress bar on stderr when stderr is a
 * terminal, nothing at all otherwise, so pipes, files and logs get no control characters.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Records done so far (cheap to call per record: the bar redraws at most 10 times a second). */
  update(done: number): void;
  setTotal(total: number): void;
  /** Writes a message to the same stream without tearing the bar (which redraws below it). */
  log(text: string): void;
  stop(): void;
}

const QUIET: Progress = { update() {}, setTotal() {}, log: (text) => void process.stderr.write(text), stop() {} };

/** Resolves once stderr has taken what was written, so a summary on stdout comes after it. */
export function stderrDrained(): Promise<void> {
  return new Promise((resolve) => process.stderr.write('', () => resolve()));
}

/** A bar when `stream` is a terminal; `force` (true/false) overrides the check, for tests. */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr, force?: boolean): Progress {
  if (!(force ?? stream.isTTY === true)) return QUIET;
  const bar = new SingleBar({
    stream,
    format: `${label} {bar} {percentage}% | {value}/{total} records | {duration_formatted} | ETA {eta_formatted}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    noTTYOutput: force === true && stream.isTTY !== true,
  });
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    setTotal: (n) => bar.setTotal(n),
    log: (text) => void stream.write(`\r\x1b[2K${text}`), // clear the bar's line first
    stop: () => bar.stop(),
  };
}
