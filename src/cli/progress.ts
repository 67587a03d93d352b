/**
 * Progress for long commands (`export`, `import`): a cli-progress bar on stderr when stderr is a
 * terminal, nothing at all otherwise, so pipes, files and logs get no control characters.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** Records done so far (cheap to call per record: the bar redraws at most 10 times a second). */
  update(done: number): void;
  setTotal(total: number): void;
  stop(): void;
}

const QUIET: Progress = { update() {}, setTotal() {}, stop() {} };

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
    stop: () => bar.stop(),
  };
}
