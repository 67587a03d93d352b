#!/usr/bin/env bun
/**
 * The `artifactd` command: picks a command (default `serve`), parses its options and runs it.
 */
import { parseArgs } from 'node:util';
import { PREFECT_VERSION } from './api/root.ts';
import { backupCommand } from './cli/backup.ts';
import { checkCommand } from './cli/check.ts';
import { commandHelp, UsageError, type Command } from './cli/command.ts';
import { deleteCommand } from './cli/delete.ts';
import { exportCommand } from './cli/export.ts';
import { importCommand } from './cli/import.ts';
import { inspectCommand } from './cli/inspect.ts';
import { lsCommand } from './cli/ls.ts';
import { migrateCommand } from './cli/migrate.ts';
import { pruneCommand } from './cli/prune.ts';
import { restoreCommand } from './cli/restore.ts';
import { serveCommand } from './cli/serve.ts';
import { ConfigError } from './config.ts';
import { StoreUnavailableError } from './store/errors.ts';
import { StoreOpenError } from './store/lmdb/env.ts';
import { DatabaseTooNewError } from './store/postgres/migrations.ts';
import { DatabaseUrlError } from './store/postgres/url.ts';
import pkg from '../package.json' with { type: 'json' };

const COMMANDS: Command[] = [
  serveCommand,
  checkCommand,
  lsCommand,
  inspectCommand,
  deleteCommand,
  pruneCommand,
  backupCommand,
  restoreCommand,
  exportCommand,
  importCommand,
  migrateCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `artifactd ${pkg.version} — a Prefect-compatible artifact server (Prefect ${PREFECT_VERSION} API)`,
    '',
    'Usage: artifactd [COMMAND] [options]      (COMMAND defaults to serve)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `artifactd COMMAND --help` for its options; `artifactd --version` prints the version.',
    '',
    commandHelp(serveCommand),
  ].join('\n');
}

function fail(message: string): never {
  console.error(`artifactd: ${message}`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number | undefined> {
  if (argv[0] === '--version' || argv[0] === '-v') return void console.log(pkg.version), 0;
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return void process.stdout.write(help()), 0;
  const named = argv[0] !== undefined && !argv[0].startsWith('-');
  const command = named ? COMMANDS.find((c) => c.name === argv[0]) : serveCommand;
  if (!command) fail(`unknown command "${argv[0]}" (see --help)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: named ? argv.slice(1) : argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(
          Object.entries(command.options).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message} (see artifactd ${command.name} --help)`);
  }
  if (parsed.values.help) return void process.stdout.write(command === serveCommand && !named ? help() : commandHelp(command)), 0;
  if (parsed.positionals.length > (command.maxArgs ?? 0)) {
    const extra = parsed.positionals.at(-1)!;
    // `artifactd --data-dir d ls` reads as serve with a stray argument: say where commands go.
    if (!named && COMMANDS.some((c) => c.name === extra)) fail(`the command goes first: artifactd ${extra} [options] (see artifactd ${extra} --help)`);
    fail(`unexpected argument "${extra}" (see artifactd ${command.name} --help)`);
  }
  try {
    return await command.run(parsed.values, parsed.positionals);
  } catch (error) {
    // Failures to open the store are one line too: a data dir or database that cannot be
    // used, a database migrated by a newer artifactd, a database that cannot be reached.
    const oneLine = [UsageError, ConfigError, StoreOpenError, DatabaseTooNewError, DatabaseUrlError, StoreUnavailableError];
    if (oneLine.some((kind) => error instanceof kind)) fail((error as Error).message);
    throw error;
  }
}

const status = await main(process.argv.slice(2));
if (status !== undefined) process.exit(status);
