/**
 * Building blocks shared by every model. Schemas are plain TypeBox (JSON Schema) objects: the
 * validator in `validation/` walks them, `openapi.ts` publishes them, and `Static<>` types them.
 * A schema given an `$id` becomes a named component in the OpenAPI document.
 */
import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Plain TypeBox. Elysia's `t` is the same builder except for request-coercion variants (its
 * `t.Integer` also accepts numeric strings and publishes as a string/integer union); our
 * validator does Pydantic's coercions itself, so the schemas stay the plain JSON Schema.
 */
export const t = Type;

export const Uuid = (options: object = {}) => t.String({ format: 'uuid', ...options });
export const DateTime = (options: object = {}) => t.String({ format: 'date-time', ...options });

/** `X | null`, as Pydantic's `Optional[X]` (an `anyOf` with a `null` branch). */
export const Nullable = <T extends TSchema>(schema: T, options: object = {}) =>
  t.Union([schema, t.Null()], options);

/** An optional, nullable property: what every filter leaf and most model fields are. */
export const Opt = <T extends TSchema>(schema: T, options: object = {}) =>
  t.Optional(Nullable(schema, options));

/** A string enum published as `{"type": "string", "enum": [...]}`, as Prefect's OpenAPI has it. */
export const StringEnum = <const V extends readonly string[]>(values: V, options: object = {}) =>
  t.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });

/** Any JSON value; published like Pydantic's `Union[Dict[str, Any], Any]`. */
export const AnyJson = (options: object = {}) =>
  t.Unsafe<unknown>({ anyOf: [{ type: 'object', additionalProperties: true }, {}, { type: 'null' }], ...options });

export const Operator = StringEnum(['and_', 'or_'] as const, {
  $id: 'Operator',
  title: 'Operator',
  description: 'How the criteria of a filter object combine.',
});

export const StateType = StringEnum(
  ['SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', 'PAUSED', 'CANCELLING'] as const,
  { $id: 'StateType', title: 'StateType', description: 'The kind of a run state.' },
);

/** The `operator` property of operator filter objects (default `and_`). */
export const OperatorField = () => t.Optional({ ...Operator, default: 'and_' });

/** A filter object: every field optional, unknown keys rejected. */
export const FilterObject = <P extends Record<string, TSchema>>(name: string, properties: P, description: string) =>
  t.Object(properties, { $id: name, title: name, description, additionalProperties: false });

/** A filter sub-object used inside a parent filter: optional and nullable. */
export const Sub = <T extends TSchema>(schema: T) => Opt(schema);

export const UuidList = () => t.Array(Uuid());
export const StringList = () => t.Array(t.String());
