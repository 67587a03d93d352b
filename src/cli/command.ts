/**
 * What a CLI command is: a name, its options (for `node:util` parseArgs and for `--help`), and
 * what it runs. `main.ts` dispatches to one; each command lives in its own file.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. "DIR". */
  value?: string;
  description: string;
}

export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, as shown in usage (e.g. "[KEY]"). */
  args?: string;
  /** How many positional arguments it takes at most. */
  maxArgs?: number;
  options: Record<string, OptionSpec>;
  /** Runs the command; resolves to the process exit code (a server resolves once listening). */
  run(values: Record<string, string | boolean | undefined>, args: string[]): Promise<number | undefined>;
}

/** Thrown for a user mistake: printed as one `artifactd: …` line, exit status 2. */
export class UsageError extends Error {}

export function commandHelp(command: Command): string {
  const lines = [`Usage: artifactd ${command.name}${command.args ? ` ${command.args}` : ''} [options]`, '', command.summary, '', 'Options:'];
  const entries = Object.entries({ ...command.options, help: { type: 'boolean', short: 'h', description: 'show this help' } as OptionSpec });
  const label = ([name, spec]: [string, OptionSpec]) =>
    `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`;
  const width = Math.max(...entries.map((e) => label(e).length)) + 2;
  for (const entry of entries) lines.push(`  ${label(entry).padEnd(width)}${entry[1].description}`);
  return `${lines.join('\n')}\n`;
}
