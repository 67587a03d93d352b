/**
 * Events as Prefect 3.0.0 defines them: the Event a client sends (over `/api/events/in` or
 * `POST /api/events`), and the EventFilter of `POST /api/events/filter`.
 *
 * A resource is a flat object of string labels with a non-empty `prefect.resource.id`; a related
 * resource also has a non-empty `prefect.resource.role` (checked by `validation/`'s
 * `x-check` hooks, as Pydantic's model validators do).
 */
import type { Static } from '@sinclair/typebox';
import { DateTime, Nullable, Opt, StringEnum, StringList, t, Uuid, UuidList } from './common.ts';

/** Prefect's PREFECT_EVENTS_MAXIMUM_LABELS_PER_RESOURCE and …_RELATED_RESOURCES defaults. */
export const MAX_LABELS_PER_RESOURCE = 500;
export const MAX_RELATED_RESOURCES = 500;

export const Resource = t.Record(t.String(), t.String(), {
  $id: 'Resource',
  title: 'Resource',
  description: 'An observable business object of interest to the user: string labels, `prefect.resource.id` required.',
  maxProperties: MAX_LABELS_PER_RESOURCE,
  'x-check': 'resource',
});

export const RelatedResource = t.Record(t.String(), t.String(), {
  $id: 'RelatedResource',
  title: 'RelatedResource',
  description: 'A Resource with a specific role in an Event (`prefect.resource.role` required).',
  maxProperties: MAX_LABELS_PER_RESOURCE,
  'x-check': 'related-resource',
});

export const Event = t.Object(
  {
    occurred: DateTime({ description: "When the event happened from the sender's perspective" }),
    event: t.String({ description: 'The name of the event that happened' }),
    resource: Resource,
    related: t.Optional(t.Array(RelatedResource, { maxItems: MAX_RELATED_RESOURCES, default: [] })),
    payload: t.Optional(t.Record(t.String(), t.Unknown(), { default: {} })),
    id: Uuid({ description: 'The client-provided identifier of this event' }),
    follows: t.Optional(Nullable(Uuid())),
  },
  // Pydantic's PrefectBaseModel ignores unknown fields here (no `extra="forbid"`).
  { $id: 'Event', title: 'Event', description: 'The client-side view of an event that has happened to a Resource' },
);

/** `{"label": "value" | ["value", "prefix*", "!not"]}` — accepted in shape, answered 501 when used. */
const ResourceSpecification = t.Record(t.String(), t.Union([t.String(), StringList()]), { title: 'ResourceSpecification' });

export const EventOccurredFilter = t.Object(
  {
    since: t.Optional(DateTime({ description: 'Only include events after this time (inclusive); default: 180 days before today began (UTC)' })),
    until: t.Optional(DateTime({ description: 'Only include events prior to this time (inclusive); default: now' })),
  },
  { $id: 'EventOccurredFilter', title: 'EventOccurredFilter', additionalProperties: false },
);
export const EventNameFilter = t.Object(
  {
    prefix: Opt(StringList(), { description: 'Only include events matching one of these prefixes' }),
    exclude_prefix: Opt(StringList(), { description: 'Exclude events matching one of these prefixes' }),
    name: Opt(StringList(), { description: 'Only include events matching one of these names exactly' }),
    exclude_name: Opt(StringList(), { description: 'Exclude events matching one of these names exactly' }),
  },
  { $id: 'EventNameFilter', title: 'EventNameFilter', additionalProperties: false },
);
const resourceFields = {
  id: Opt(StringList(), { description: 'Only include events for resources with these IDs' }),
  id_prefix: Opt(StringList(), { description: 'Only include events for resources with IDs starting with these prefixes' }),
  labels: Opt(ResourceSpecification),
};
export const EventAnyResourceFilter = t.Object(resourceFields, {
  $id: 'EventAnyResourceFilter',
  title: 'EventAnyResourceFilter',
  additionalProperties: false,
  description: 'Events with the primary resource or any related resource matching',
});
export const EventResourceFilter = t.Object(
  { ...resourceFields, distinct: t.Optional(t.Boolean({ default: false })) },
  { $id: 'EventResourceFilter', title: 'EventResourceFilter', additionalProperties: false, description: "Events by their primary resource" },
);
export const EventRelatedFilter = t.Object(
  {
    id: Opt(StringList(), { description: 'Only include events for related resources with these IDs' }),
    role: Opt(StringList(), { description: 'Only include events for related resources in these roles' }),
    resources_in_roles: Opt(t.Array(t.Tuple([t.String(), t.String()]))),
    labels: Opt(ResourceSpecification),
  },
  { $id: 'EventRelatedFilter', title: 'EventRelatedFilter', additionalProperties: false, description: 'Events by their related resources' },
);
export const EventIDFilter = t.Object(
  { id: Opt(UuidList(), { description: 'Only include events with one of these IDs' }) },
  { $id: 'EventIDFilter', title: 'EventIDFilter', additionalProperties: false },
);
export const EventOrder = StringEnum(['ASC', 'DESC'] as const, { $id: 'EventOrder', title: 'EventOrder' });

export const EventFilter = t.Object(
  {
    occurred: t.Optional(EventOccurredFilter),
    event: Opt(EventNameFilter),
    any_resource: Opt(EventAnyResourceFilter),
    resource: Opt(EventResourceFilter),
    related: Opt(EventRelatedFilter),
    id: t.Optional(EventIDFilter),
    order: t.Optional({ ...EventOrder, default: 'DESC' }),
  },
  { $id: 'EventFilter', title: 'EventFilter', additionalProperties: false },
);

export const ReadEventsBody = t.Object(
  {
    filter: t.Optional(Nullable(EventFilter)),
    limit: t.Optional(t.Integer({ minimum: 0, maximum: 50, default: 50, title: 'Limit', description: 'The number of events to return with each page' })),
  },
  { $id: 'Body_read_events_events_filter_post', title: 'Body_read_events_events_filter_post' },
);

export type Event = Static<typeof Event>;
export type EventFilter = Static<typeof EventFilter>;
