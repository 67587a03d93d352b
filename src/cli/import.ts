/**
 * `artifactd import FILE`: reads an export (`-` for stdin) into the store, creating the store if
 * the directory has none. Every line is validated; a bad line is reported as `line N: reason` on
 * stderr and skipped, the good ones are kept. Exit 0 when every line was good, 1 otherwise, 2
 * when the file cannot be read at all. Importing the same file again changes nothing.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Numbered, Outcome } from '../store/contract.ts';
import { FORMAT_VERSION, KINDS, parseLine } from '../transfer/format.ts';
import { numberedLines } from '../transfer/lines.ts';
import { UsageError, type Command } from './command.ts';
import { openCommandStore, storeOptions } from './store-options.ts';
import { progressBar, stderrDrained } from './progress.ts';

/**
 * Records per write transaction. Larger batches import faster (100k artifacts: 11.3 s at 2000,
 * 10.4 s at 5000, 8.5 s at 10000) but hold LMDB's write lock longer, and a server on the same
 * data dir makes its writers wait for it: 2000 keeps that wait near 0.15 s.
 */
export const BATCH = 2000;

/** A line reported on stderr: a bad line, or (`kept`) a record the store already holds differently. */
interface BadLine {
  line: number;
  reason: string;
  kept?: boolean;
}

interface Summary {
  lines: number;
  added: number;
  unchanged: number;
  kept: number;
  bad: number;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Read an export (NDJSON, `-` for stdin) into the store; bad lines are reported by number and skipped.',
  args: 'FILE',
  maxArgs: 1,
  options: {
    ...storeOptions('the store to import into (created if missing)'),
    json: { type: 'boolean', description: 'print the summary as JSON' },
  },
  async run(values, args) {
    const file = args[0];
    if (file === undefined) throw new UsageError('import needs a FILE (or - for stdin)');
    if (file !== '-' && !existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
    if (file !== '-' && statSync(file).isDirectory()) throw new UsageError(`cannot read ${file}: it is a directory; give an export file`);
    if (file !== '-' && looksBinary(file)) {
      throw new UsageError(`${file} is not an export file (it holds binary data; a backup is put back with artifactd restore)`);
    }
    const stream = file === '-' ? Bun.stdin.stream() : Bun.file(file).stream();
    const store = await openCommandStore(values, { create: true });
    const summary: Summary = { lines: 0, added: 0, unchanged: 0, kept: 0, bad: 0 };
    const progress = progressBar('import', 0);
    const report = (notes: BadLine[]) => {
      summary.bad += notes.filter((n) => !n.kept).length;
      for (const { line, reason } of notes.sort((a, b) => a.line - b.line)) progress.log(`line ${line}: ${reason}\n`);
    };
    const count = (numbered: Numbered, outcome: Outcome, notes: BadLine[]) => {
      if (typeof outcome === 'object') notes.push({ line: numbered.line, reason: outcome.error });
      else summary[outcome]++;
      if (outcome === 'kept') {
        const { kind, record } = numbered.item;
        const what = kind === 'collection' ? `the collection of key ${JSON.stringify(record.key)}` : `${kind} ${record.id}`;
        notes.push({ line: numbered.line, reason: `${what} is in the store with different content; kept the store's`, kept: true });
      }
    };
    const importer = store.transfer.importer();
    let batch: Numbered[] = [];
    /** Lines of the current batch that did not parse: reported with its outcomes, in line order. */
    let unparsed: BadLine[] = [];
    let records = 0;
    let totalKnown = false;
    // The next batch is read and validated while the previous one commits and syncs (on
    // lmdb-js's worker thread); never more than one in flight, so memory stays bounded and
    // batches commit in file order.
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      const items = batch;
      const bad = unparsed;
      const done = records;
      batch = [];
      unparsed = [];
      await writing;
      writing = importer.write(items).then((outcomes) => {
        outcomes.forEach((outcome, i) => count(items[i], outcome, bad));
        report(bad);
        if (!totalKnown) progress.setTotal(done); // no header: the bar shows records so far
        progress.update(done);
      });
    };
    try {
      for await (const { number, text } of numberedLines(stream)) {
        summary.lines = number;
        if (text.trim() === '') continue;
        const parsed = parseLine(text);
        if (!parsed.ok) {
          unparsed.push({ line: number, reason: parsed.reason });
          if (unparsed.length >= BATCH) await flush();
        } else if ('header' in parsed) {
          const { header } = parsed;
          if (header.version > FORMAT_VERSION) {
            throw new UsageError(`${file}: export format version ${header.version} is newer than this artifactd reads (${FORMAT_VERSION})`);
          }
          if (number !== 1) unparsed.push({ line: number, reason: 'a header belongs on the first line' });
          progress.setTotal(KINDS.reduce((sum, kind) => sum + (header.counts?.[kind] ?? 0), 0));
          totalKnown = true;
        } else {
          records++;
          batch.push({ line: number, item: parsed.item });
          if (batch.length >= BATCH) await flush();
        }
      }
      if (batch.length > 0 || unparsed.length > 0) await flush();
      await writing;
      const late: BadLine[] = [];
      for (const { line, outcome } of await importer.finish()) if (typeof outcome === 'object') late.push({ line, reason: outcome.error });
      report(late);
    } finally {
      await writing.catch(() => {}); // never close the store under a write in flight
      progress.stop();
      await store.close();
    }
    await stderrDrained();
    if (values.json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `imported ${file === '-' ? 'stdin' : file}: ${summary.added} added, ${summary.unchanged} unchanged, ` +
          `${summary.kept} kept (the store's differs), ${summary.bad} bad line${summary.bad === 1 ? '' : 's'}`,
      );
    }
    return summary.bad === 0 ? 0 : 1;
  },
};

/** NDJSON is text: a NUL byte in the first 4 KiB means some other file (an LMDB backup, say). */
function looksBinary(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = new Uint8Array(4096);
    const read = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, read).includes(0);
  } finally {
    closeSync(fd);
  }
}
