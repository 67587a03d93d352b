/**
 * JSON text for records that carry Python floats: Prefect prints durations and retry delays as
 * floats (`0.0`, `5.0`), which `JSON.stringify` cannot tell from integers. Wrap such numbers in
 * `Float`; everything else serializes as usual.
 */

export class Float {
  constructor(readonly value: number) {}
}

export function toJson(value: unknown): string {
  if (value instanceof Float) {
    const n = value.value;
    return Number.isInteger(n) && Math.abs(n) < 1e16 ? n.toFixed(1) : JSON.stringify(n);
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members: string[] = [];
    for (const [name, item] of Object.entries(value)) {
      if (item !== undefined) members.push(`${JSON.stringify(name)}:${toJson(item)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
