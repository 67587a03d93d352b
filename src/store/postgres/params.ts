/**
 * Parameterized SQL built from fragments: every value goes into the parameter list and the
 * text holds only its placeholder (`$1`, `$2`, …), so no client value is ever spliced into SQL.
 * Filter compilers append conditions to one `Params` per statement, then the statement runs
 * with `db.unsafe(text, params.values)` — "unsafe" only in that the text is ours to keep safe.
 */
export class Params {
  readonly values: unknown[] = [];

  /** The placeholder of `value`, added to the list. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
