/**
 * `artifactd export [FILE]`: writes the store as NDJSON (`transfer/format.ts`) to FILE, or to
 * stdout when FILE is omitted or `-`. Reads one snapshot, so it is safe beside a running server.
 * A FILE is written under a temporary name and renamed at the end: an interrupted export never
 * leaves a truncated file that looks complete.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { replaceFile } from '../files.ts';
import { KINDS } from '../transfer/format.ts';
import { UsageError, type Command } from './command.ts';
import { openCommandStore, storeOptions } from './store-options.ts';
import { progressBar } from './progress.ts';

interface Sink {
  /** Queues a chunk; with `drain`, waits until the destination has taken what is queued. */
  write(chunk: string, drain: boolean): Promise<void>;
  /** Waits until everything is written; rejects if any write failed. */
  end(): Promise<void>;
}

function fileSink(path: string): Sink {
  const sink = Bun.file(path).writer();
  return {
    async write(chunk, drain) {
      sink.write(chunk);
      if (drain) await sink.flush();
    },
    async end() {
      await sink.end();
    },
  };
}

/**
 * stdout through its Node stream: a reader that goes away (`| head`) is an 'error' event, so the
 * export fails instead of reporting success with part of the data lost.
 */
function stdoutSink(): Sink {
  const stdout = process.stdout;
  let failure: Error | undefined;
  stdout.on('error', (error) => void (failure ??= error));
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stdout.off('drain', done);
        stdout.off('error', done);
        resolve();
      };
      stdout.once('drain', done);
      stdout.once('error', done);
    });
  return {
    async write(chunk) {
      if (failure) throw failure;
      if (!stdout.write(chunk)) await drained();
      if (failure) throw failure;
    },
    async end() {
      if (failure) throw failure;
      await new Promise<void>((resolve) => stdout.write('', () => resolve()));
      if (failure) throw failure;
    },
  };
}

/** A FILE that names a directory or sits in a missing one is a usage mistake, found before any work. */
function checkWritable(file: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${file} is a directory; give a file name`);
  const parent = dirname(file);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UsageError(`cannot write ${file}: no directory ${parent}`);
}

/** Lines are joined into chunks of about this many characters before each write. */
const CHUNK = 256 * 1024;
/** Waiting for the sink to drain every few MiB bounds memory when the reader is slow. */
const DRAIN_EVERY = 16;

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write every artifact, collection, flow, deployment, flow run and task run as NDJSON (to FILE, or stdout).',
  args: '[FILE]',
  maxArgs: 1,
  options: {
    ...storeOptions('the store to export'),
    json: { type: 'boolean', description: 'print the summary as JSON on stdout (with a FILE)' },
  },
  async run(values, args) {
    const store = await openCommandStore(values);
    const file = args[0] === undefined || args[0] === '-' ? null : args[0];
    if (values.json && file === null) throw new UsageError('--json needs a FILE: stdout carries the export');
    if (file !== null) checkWritable(file);
    const snapshot = await store.transfer.openExport();
    const temporary = file === null ? null : `${file}.partial-${process.pid}`;
    const sink = temporary === null ? stdoutSink() : fileSink(temporary);
    const total = KINDS.reduce((sum, kind) => sum + snapshot.counts[kind], 0);
    const progress = progressBar('export', total);
    let written = -1; // the header is not a record
    try {
      let chunk = '';
      let chunks = 0;
      for await (const line of snapshot.lines) {
        chunk += line + '\n';
        written++;
        if (chunk.length < CHUNK) continue;
        await sink.write(chunk, ++chunks % DRAIN_EVERY === 0);
        chunk = '';
        progress.update(written);
      }
      await sink.write(chunk, false);
      await sink.end();
      progress.update(written);
      progress.stop();
      if (temporary !== null && file !== null) replaceFile(temporary, file);
    } catch (error) {
      progress.stop();
      if (temporary !== null) rmSync(temporary, { force: true });
      // The reader of stdout went away (`| head`): one line, not a stack trace.
      if ((error as { code?: string }).code === 'EPIPE') {
        console.error('artifactd: export stopped: the reader closed its end of the pipe');
        return 1;
      }
      // FILE could not be written (no space, no permission): one line, not a stack trace.
      if (temporary !== null && typeof (error as { code?: unknown }).code === 'string') {
        console.error(`artifactd: export failed: cannot write ${file}: ${(error as Error).message}`);
        return 1;
      }
      throw error;
    } finally {
      await snapshot.done();
      await store.close();
    }
    if (file !== null && values.json) {
      console.log(JSON.stringify({ file, records: written, counts: snapshot.counts }));
    } else if (file !== null) {
      const parts = KINDS.map((kind) => `${snapshot.counts[kind]} ${kind.replace('_', ' ')}s`).join(', ');
      // Not console.error: on a terminal Bun prints that in red, and this is not an error.
      process.stderr.write(`exported ${written} records to ${file} (${parts})\n`);
    }
    return 0;
  },
};
