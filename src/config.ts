/**
 * The server's configuration: one typed object built at start from flags, then environment
 * variables (Prefect's names where Prefect has one), then defaults. Nothing else reads
 * `process.env`.
 */

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Default and maximum `limit` of the filter routes (Prefect's PREFECT_API_DEFAULT_LIMIT). */
  defaultLimit: number;
}

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 4200,
  dataDir: './artifactd-data',
  defaultLimit: 200,
};

export class ConfigError extends Error {}

export interface ConfigFlags {
  host?: string;
  port?: string;
  'data-dir'?: string;
  'default-limit'?: string;
}

export function loadConfig(flags: ConfigFlags, env: Record<string, string | undefined>): Config {
  const pick = (flag: string | undefined, ...names: string[]) =>
    flag ?? names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  return {
    host: pick(flags.host, 'PREFECT_SERVER_API_HOST') ?? DEFAULTS.host,
    port: integer('port', pick(flags.port, 'PREFECT_SERVER_API_PORT'), DEFAULTS.port, 0, 65535),
    dataDir: pick(flags['data-dir'], 'ARTIFACTD_DATA_DIR') ?? DEFAULTS.dataDir,
    defaultLimit: integer(
      'default limit',
      pick(flags['default-limit'], 'PREFECT_SERVER_API_DEFAULT_LIMIT', 'PREFECT_API_DEFAULT_LIMIT'),
      DEFAULTS.defaultLimit,
      1,
      1_000_000,
    ),
  };
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw new ConfigError(`invalid ${name} "${text}": expected an integer from ${min} to ${max}`);
  }
  return n;
}
