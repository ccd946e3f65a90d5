// Liveness across a takeover (issue 4, item 5): advertisements belong to connections, which do
// not move with the primary. The new primary gives every advertised service a fresh grace period:
// a live service's client re-advertises on the new primary and stays running; one whose process
// died with the old primary is lost once that grace period ends, not before and not never.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient } from '@dpns/client';
import { startCluster, teardown } from './harness/index.js';

after(teardown);

const GRACE_MS = 1500;

test('after a takeover, a live advertiser stays running and a dead one is lost after one fresh grace period', { timeout: 60_000 }, async () => {
  const c = await startCluster({ n: 3, extraArgs: ['--grace-ms', String(GRACE_MS)] });
  const live = new DpnsClient({ servers: c.servers, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
  try {
    await live.connect();
    await live.advertise('/live/alive', '127.0.0.1', 4001);
    const first = await c.primary();
    // A service that knows only the primary's address, and goes down with it: it never comes back.
    const ghost = new DpnsClient({ servers: [c.servers[first.sid] as string] });
    await ghost.connect();
    await ghost.advertise('/live/ghost', '127.0.0.1', 4003);
    await c.kill9(first.sid);
    const killedAt = Date.now();
    await ghost.close().catch(() => undefined);
    const next = await c.primary({ minEpoch: first.epoch + 1, timeoutMs: 10_000 });

    const state = async (name: string): Promise<string | undefined> => {
      const a = await c.call(next.sid, 'serviceState', { pattern: name });
      assert.ok(a.ok);
      return (a.result as { entries: { state?: string }[] }).entries[0]?.state;
    };
    // Within the grace period both still count as running: the takeover expired nothing at once.
    assert.equal(await state('/live/ghost'), 'running', 'not expired by the takeover itself');
    // The live client found the new primary and advertised again.
    const t0 = Date.now();
    let ghostState = await state('/live/ghost');
    while (ghostState === 'running' && Date.now() - t0 < GRACE_MS * 4) {
      await new Promise((r) => setTimeout(r, 100));
      ghostState = await state('/live/ghost');
    }
    const lostAfter = Date.now() - killedAt;
    assert.equal(ghostState, 'lost', 'the dead advertiser is lost once the grace period ends');
    assert.ok(lostAfter >= GRACE_MS - 200, `lost ${lostAfter} ms after the kill: not before a whole grace period`);
    assert.equal(await state('/live/alive'), 'running', 'the live advertiser re-advertised on the new primary');
    console.log(`# ghost lost ${lostAfter} ms after the primary was killed (grace ${GRACE_MS} ms)`);
  } finally {
    await live.close().catch(() => undefined);
    await c.close();
  }
});
