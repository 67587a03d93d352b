/**
 * The failures every backend reports the same way, for the app to answer in Prefect's shapes:
 * a query stopped at its deadline (503, as Prefect answers a statement past its database
 * timeout) and a store that cannot be reached (503, as Prefect answers when its database is
 * down). A write refused by an API rule is `Refusal` (refusal.ts).
 */

/** A query ran past its deadline and was stopped. */
export class QueryDeadlineError extends Error {}

/** The store cannot be reached (the database is down or refuses connections); worth a retry. */
export class StoreUnavailableError extends Error {}
