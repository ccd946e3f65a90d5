// What a test that kills the server mid-stream must remember: every name a write was sent for
// (the only names allowed to exist afterwards) and those acknowledged (each must exist).
import assert from 'node:assert/strict';
import { isDpnsError, type DpnsClient } from '@dpns/client';

export class CrashLedger {
  /** Every name a write was sent for, with its port. */
  readonly requested = new Map<string, number>();
  /** Names whose write was acknowledged. */
  readonly acked = new Set<string>();

  /**
   * Sequential static advertisements of the names `next` gives, until it gives none or one fails
   * (the server died): the outcome of the write in flight then is unknown, later ones are never sent.
   */
  async writeUntilCrash(client: DpnsClient, next: () => { name: string; port: number } | undefined): Promise<void> {
    for (let w = next(); w !== undefined; w = next()) {
      this.requested.set(w.name, w.port);
      try {
        await client.advertiseStatic(w.name, '127.0.0.1', w.port);
      } catch (err) {
        assert.ok(isDpnsError(err), String(err));
        assert.ok(['CONNECTION_LOST', 'TIMEOUT', 'CLOSED', 'UNAVAILABLE'].includes(err.code), `${err.code}: ${err.message}`);
        return;
      }
      this.acked.add(w.name);
    }
  }
}
