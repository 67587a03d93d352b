/**
 * The load benches' shared options (bench/run.ts, and bench/postgres.ts behind `--postgres`): each
 * declares them to parseArgs (`loadArgOptions`, with its own default sizes) beside its own, and
 * reads their values with `loadOptions`.
 */
import { resolve } from 'node:path';
import { SCENARIOS } from './scenarios.ts';

const ROOT = resolve(import.meta.dir, '..');

/** parseArgs's declarations of the options both benches take; only the default sizes differ. */
export const loadArgOptions = (sizes: string) =>
  ({
    sizes: { type: 'string', default: sizes },
    million: { type: 'boolean', default: false },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    scenarios: { type: 'string' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
    'quiet-wait': { type: 'string', default: '60' },
    build: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  }) as const;

/** The values of the options both benches take, as parseArgs gives them. */
export interface LoadArgs {
  sizes: string;
  million: boolean;
  duration: string;
  warmup: string;
  rounds: string;
  connections: string;
  threads: string;
  scenarios?: string;
  out: string;
  'quiet-wait': string;
  build: boolean;
  keep: boolean;
}

/** `--name`'s value as a positive integer; throws naming the option otherwise. */
export function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The shared options' values: `--sizes` ascending (`_` allowed in a number, 1,000,000 added by
 * `--million`), `--scenarios` as `only` (each a known scenario id; undefined: all), `--out` from
 * the repository's root.
 */
export function loadOptions(values: LoadArgs) {
  const sizes = values.sizes
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => positive('sizes', s.trim().replace(/_/g, '')));
  if (values.million && !sizes.includes(1_000_000)) sizes.push(1_000_000);
  sizes.sort((a, b) => a - b);
  const only = values.scenarios?.split(',').map((s) => s.trim());
  for (const id of only ?? []) if (!SCENARIOS.some((s) => s.id === id)) throw new Error(`unknown scenario ${id}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return {
    sizes,
    only,
    duration: positive('duration', values.duration),
    warmup: Number(values.warmup),
    rounds: positive('rounds', values.rounds),
    connections: positive('connections', values.connections),
    threads: positive('threads', values.threads),
    out: resolve(ROOT, values.out),
    quietWait: Number(values['quiet-wait']),
    build: values.build,
    keep: values.keep,
  };
}
