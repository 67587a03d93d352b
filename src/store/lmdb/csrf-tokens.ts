/**
 * CSRF tokens, one per client id (stored under `indexString(client)`), kept in the store so every process on the data dir (and a
 * restarted server) honours them. A token is valid until its expiration.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { nowMicros } from '../../time.ts';
import { durably } from './durable.ts';
import { indexString } from '../index-keys.ts';
import type { StoreDbs } from './env.ts';
import type { CsrfTokenRecord } from '../contract.ts';


export class CsrfTokenStore {
  constructor(private readonly dbs: StoreDbs) {}

  /** Issues a fresh token for `client`, replacing its old one; drops expired tokens. */
  issue(client: string, lifetimeSeconds: number): Promise<CsrfTokenRecord> {
    return durably(this.dbs.env, () => {
      const now = nowMicros();
      for (const { key, value } of this.dbs.csrfTokens.getRange({})) {
        if (value.expiration <= now) this.dbs.csrfTokens.remove(key);
      }
      const old = this.dbs.csrfTokens.get(indexString(client));
      const record: CsrfTokenRecord = {
        id: old?.id ?? randomUUID(),
        created: old?.created ?? now,
        updated: now,
        token: randomBytes(32).toString('hex'),
        client,
        expiration: now + Math.round(lifetimeSeconds * 1e6),
      };
      this.dbs.csrfTokens.put(indexString(client), record);
      return record;
    });
  }

  /** True when `token` is the unexpired token of `client` (compared in constant time). */
  isValid(client: string, token: string): boolean {
    const record = this.dbs.csrfTokens.get(indexString(client));
    if (!record || record.expiration <= nowMicros()) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(record.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
