#!/usr/bin/env bun
/**
 * The `artifactd` command: parses arguments and runs a command. `serve` is the default.
 */
import { parseArgs } from 'node:util';
import { serve } from './cli/serve.ts';
import { ConfigError, DEFAULTS, loadConfig } from './config.ts';
import { PREFECT_VERSION } from './api/root.ts';
import { StoreOpenError } from './store/env.ts';
import pkg from '../package.json' with { type: 'json' };

const HELP = `artifactd ${pkg.version} — a Prefect-compatible artifact server (Prefect ${PREFECT_VERSION} API)

Usage:
  artifactd [serve] [options]     run the server (the default command)
  artifactd --help | --version

Options:
  --host HOST           address to listen on    (env PREFECT_SERVER_API_HOST, default ${DEFAULTS.host})
  --port PORT           port to listen on       (env PREFECT_SERVER_API_PORT, default ${DEFAULTS.port})
  --data-dir DIR        where the store lives   (env ARTIFACTD_DATA_DIR, default ${DEFAULTS.dataDir})
  --default-limit N     default and maximum page size of filter routes
                        (env PREFECT_SERVER_API_DEFAULT_LIMIT or PREFECT_API_DEFAULT_LIMIT, default ${DEFAULTS.defaultLimit})
  -h, --help            show this help
  -v, --version         print the version
`;

const COMMANDS = ['serve'];

function fail(message: string): never {
  console.error(`artifactd: ${message}`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'default-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void console.log(pkg.version);
  const [command = 'serve', ...rest] = positionals;
  if (!COMMANDS.includes(command)) fail(`unknown command "${command}" (see --help)`);
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}" (see --help)`);
  try {
    await serve(loadConfig(values, process.env));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StoreOpenError) fail(error.message);
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE') fail(`cannot listen: address already in use (${(error as Error).message})`);
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') fail(`cannot listen: ${(error as Error).message}`);
    throw error;
  }
}

await main(process.argv.slice(2));
