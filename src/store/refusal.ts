/**
 * A write refused by a rule the API enforces (a missing parent, a uniqueness conflict), before
 * anything of it is written: every backend throws it, and the app answers 409 or 404 with its
 * message.
 */
export class Refusal extends Error {
  constructor(
    readonly kind: 'conflict' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

/** Prefect's text for a violated unique or foreign-key constraint. */
export const INTEGRITY_CONFLICT =
  'Data integrity conflict. This usually means a unique or foreign key constraint was violated. See server logs for details.';
