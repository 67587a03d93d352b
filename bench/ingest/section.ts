/**
 * The logs-and-events section of bench/RESULTS.md (written by `npm run bench -- --only
 * logs,events`, kept by the main bench when it rewrites the file), between these markers.
 */
import { existsSync, readFileSync } from 'node:fs';

export const BEGIN = '<!-- logs-events:begin (written by npm run bench -- --only logs,events) -->';
export const END = '<!-- logs-events:end -->';

export function withLogsSection(text: string, section: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start !== -1 && end > start) return text.slice(0, start) + section + text.slice(end + END.length);
  return `${text.trimEnd()}\n\n${section}\n`;
}

/** For the main bench: the logs-and-events section of the file it is about to overwrite, if any. */
export function keptLogsSection(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return start !== -1 && end > start ? text.slice(start, end + END.length) : undefined;
}
