/**
 * Options the listing commands (`ls`, `inspect`) share: `--limit`, and `--json` with Prefect's
 * spelling of it, `--output json`.
 */
import { UsageError, type OptionSpec } from './command.ts';

export const JSON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: "print a JSON array of the API's artifact objects" },
  output: { type: 'string', short: 'o', value: 'json', description: 'same as --json (Prefect spelling)' },
};

/** `--limit N`: a positive integer, or undefined when absent. */
export function limitOption(text: unknown, fallback: number | undefined): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(String(text)) || n < 1 || !Number.isSafeInteger(n)) throw new UsageError(`invalid --limit "${text}": expected a positive integer`);
  return n;
}

/** `--json`, or Prefect's `--output json` / `-o json`. */
export function wantsJson(values: Record<string, unknown>): boolean {
  const output = values.output as string | undefined;
  if (output !== undefined && output.toLowerCase() !== 'json') throw new UsageError(`invalid --output "${output}": only json is supported`);
  return values.json === true || output !== undefined;
}
