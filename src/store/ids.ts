/**
 * Ids of new records: UUID version 7 (RFC 9562), whose leading 48 bits are the creation time in
 * milliseconds. A table keyed by id then grows at its right edge, as the time indexes do,
 * instead of taking each insert on a random page of a B-tree that spans gigabytes at a million
 * artifacts: a commit dirties and syncs a few pages rather than one per insert. Clients see an
 * ordinary UUID; Prefect's own ids are random (version 4), and nothing may rely on either.
 */
export const newId = (): string => Bun.randomUUIDv7();
