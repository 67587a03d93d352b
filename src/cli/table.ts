/**
 * Human output of the CLI: plain-text tables sized to the terminal. Values are flattened to one
 * line; when a row is too wide, the flexible column (a description or data preview) gives way
 * first, then the others, each cut with an ellipsis. Ids are never cut: they are what a user
 * copies into the next command.
 */
import { columnsSetting } from '../config.ts';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Shrinks first when the table is too wide. */
  flexible?: boolean;
  /** Never shortened (ids). */
  fixed?: boolean;
}

const GAP = '  ';
const MIN_WIDTH = 8;

/** The terminal's width, or none when output goes to a pipe or file (then nothing is cut). */
function terminalWidth(): number | undefined {
  return columnsSetting() ?? (process.stdout.isTTY ? process.stdout.columns : undefined);
}

/** One line of text: whitespace runs (newlines included) become single spaces. */
export function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

export function firstLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n', 1)[0].trim();
}

/**
 * Columns a string takes on a terminal: CJK and most emoji take two, combining marks none.
 * Counting code points instead pushes every later column of a row with such text out of line.
 */
const length = (text: string) => Bun.stringWidth(text);

function cut(text: string, width: number): string {
  if (length(text) <= width) return text;
  let kept = '';
  let used = 0;
  for (const char of text) {
    const w = length(char);
    if (used + w > width - 1) break;
    kept += char;
    used += w;
  }
  return `${kept.trimEnd()}…`;
}

export function renderTable<T>(rows: T[], columns: Column<T>[], width = terminalWidth()): string {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  const widths = columns.map((c, i) => Math.max(length(c.header), ...cells.map((r) => length(r[i]))));
  if (width !== undefined) {
    let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1) - width;
    // Shrink the flexible columns first, then the others from the right; never below MIN_WIDTH.
    const order = [...columns.keys()].filter((i) => !columns[i].fixed).sort((a, b) => Number(!!columns[b].flexible) - Number(!!columns[a].flexible) || b - a);
    for (const i of order) {
      if (excess <= 0) break;
      const floor = Math.min(widths[i], Math.max(MIN_WIDTH, length(columns[i].header)));
      const take = Math.min(excess, widths[i] - floor);
      widths[i] -= take;
      excess -= take;
    }
  }
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const text = cut(v, widths[i]);
        return i === values.length - 1 ? text : text + ' '.repeat(widths[i] - length(text));
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}
