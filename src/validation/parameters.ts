/**
 * Flow parameters against a deployment's `parameter_openapi_schema`: the subset of JSON Schema
 * checking Prefect applies (declared types of top-level parameters, and `required` when asked).
 * Messages follow Prefect's "Validation failed for field '<name>'. Failure reason: …".
 */

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

type Schema = Record<string, unknown>;

/** Why `schema` is not a usable JSON schema, or undefined. */
export function schemaProblem(schema: unknown): string | undefined {
  const walk = (node: unknown): boolean => {
    if (node === null || typeof node !== 'object') return true;
    if (Array.isArray(node)) return node.every(walk);
    const s = node as Schema;
    if ('type' in s) {
      const types = Array.isArray(s.type) ? s.type : [s.type];
      if (!types.every((t) => typeof t === 'string' && JSON_TYPES.has(t))) return false;
    }
    const maps = ['properties', 'definitions', '$defs'].every((k) => {
      const map = s[k];
      if (map === undefined) return true;
      return map !== null && typeof map === 'object' && !Array.isArray(map) && Object.values(map as Schema).every(walk);
    });
    return maps && ['items', 'anyOf', 'allOf', 'oneOf'].every((k) => !(k in s) || walk(s[k]));
  };
  return walk(schema) ? undefined : 'The provided schema is not a valid json schema.';
}

function typeMatches(type: unknown, value: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case 'string':
        return typeof value === 'string';
      case 'integer':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value);
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      case 'null':
        return value === null;
      default:
        return true;
    }
  });
}

/** Why `parameters` do not satisfy `schema`, or undefined. */
export function parametersProblem(
  schema: Schema,
  parameters: Record<string, unknown>,
  options: { checkRequired: boolean },
): string | undefined {
  if (options.checkRequired && Array.isArray(schema.required)) {
    const missing = (schema.required as string[]).find((name) => !(name in parameters));
    if (missing !== undefined) return `Validation failed. Failure reason: '${missing}' is a required property`;
  }
  const properties = (typeof schema.properties === 'object' && schema.properties !== null ? schema.properties : {}) as Record<
    string,
    Schema | null
  >;
  for (const [name, value] of Object.entries(parameters)) {
    const property = properties[name];
    const declared = typeof property === 'object' && property !== null ? property.type : undefined;
    if (declared !== undefined && !typeMatches(declared, value)) {
      return `Validation failed for field '${name}'. Failure reason: ${JSON.stringify(value)} is not of type ${JSON.stringify(declared)}`;
    }
  }
  return undefined;
}
