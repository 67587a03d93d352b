/**
 * Parameterized SQL built from fragments: every value goes into the parameter list and the
 * text holds only its placeholder (`$1`, `$2`, …), so no client value is ever spliced into SQL.
 * Filter compilers append conditions to one `Params` per statement, then the statement runs
 * with `db.unsafe(text, params.values)` — "unsafe" only in that the text is ours to keep safe.
 */
/**
 * A page offset as a parameter PostgreSQL's bigint takes: the API accepts any non-negative
 * integer (1e21 included), and every offset past the table's rows gives the same empty page.
 */
export const rowOffset = (offset: number): number => Math.min(offset, Number.MAX_SAFE_INTEGER);

export class Params {
  readonly values: unknown[] = [];

  /** The placeholder of `value`, added to the list. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
