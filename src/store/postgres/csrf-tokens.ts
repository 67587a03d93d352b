/**
 * CSRF tokens on PostgreSQL, one per client, so that every instance on the database accepts a
 * token any of them issued. A token is valid until its expiration.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { nowMicros } from '../../time.ts';
import type { CsrfTokenRecord, CsrfTokenRepository } from '../contract.ts';
import type { Db } from './db.ts';
import { pgText } from './schema-runs.ts';

type TokenRow = { id: string; created: string; updated: string; token: string; expiration: string };

export class PostgresCsrfTokens implements CsrfTokenRepository {
  constructor(private readonly db: Db) {}

  /** Issues a fresh token for `client`, replacing its old one (keeping its id and created); drops expired tokens. */
  async issue(client: string, lifetimeSeconds: number): Promise<CsrfTokenRecord> {
    const now = nowMicros();
    await this.db.unsafe('DELETE FROM csrf_token WHERE expiration <= $1::bigint', [String(now)]);
    const token = randomBytes(32).toString('hex');
    const expiration = now + Math.round(lifetimeSeconds * 1e6);
    const rows = await this.db.unsafe<TokenRow>(
      `INSERT INTO csrf_token (client, id, created, updated, token, expiration) VALUES ($1, $2, $3::bigint, $3::bigint, $4, $5::bigint)
       ON CONFLICT (client) DO UPDATE SET updated = excluded.updated, token = excluded.token, expiration = excluded.expiration
       RETURNING id, created, updated, token, expiration`,
      [pgText(client), randomUUID(), String(now), token, String(expiration)],
    );
    const row = rows[0];
    return { id: row.id, created: Number(row.created), updated: Number(row.updated), token: row.token, client, expiration: Number(row.expiration) };
  }

  /** True when `token` is the unexpired token of `client` (compared in constant time). */
  async isValid(client: string, token: string): Promise<boolean> {
    const rows = await this.db.unsafe<TokenRow>('SELECT token, expiration FROM csrf_token WHERE client = $1', [pgText(client)]);
    if (rows.length === 0 || Number(rows[0].expiration) <= nowMicros()) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(rows[0].token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
