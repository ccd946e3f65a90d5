// Health checks in backup mode, with real name server processes: only the primary probes (its
// verdicts are writes), backups see the state through the log, and a member that takes over
// after the primary's kill -9 probes in its turn. Apart from health-checks.test.ts because it
// launches nothing and loads no module, so it can guard a planted fault from any directory.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceView } from '@dpns/client';
import { closeListener, closeListeners, startCluster, tcpListener, teardown, type TestCluster } from './harness/index.js';

const INTERVAL_MS = 1000;
const TIMEOUT_MS = 500;
const THRESHOLD = 3;
/** What a loaded machine may add to interval × threshold before a verdict is written. */
const SLACK_MS = 4000;

after(async () => {
  await closeListeners();
  await teardown();
});

async function metrics(server: string): Promise<string> {
  const res = await fetch(`http://${server}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

test('backup mode: only the primary probes; backups see the state through the log; a new primary probes after a takeover', { timeout: 120_000 }, async () => {
  const c: TestCluster = await startCluster({ n: 3, readFromBackups: true });
  try {
    const primary = await c.primary();
    const { server, port } = await tcpListener();
    const adv = await c.call(primary.sid, 'advertiseService', {
      name: '/ha/db', host: '127.0.0.1', port, static: true, check: { kind: 'tcp', intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, threshold: THRESHOLD },
    });
    assert.ok(adv.ok, JSON.stringify(adv));
    await closeListener(server);
    const state = async (sid: number): Promise<ServiceView | undefined> => {
      const a = await c.call(sid, 'serviceState', { pattern: '/ha/db' });
      return a.ok ? (a.result as { entries: ServiceView[] }).entries[0] : undefined;
    };
    const untilOn = async (sid: number, what: string, cond: (e: ServiceView | undefined) => boolean, ms: number): Promise<ServiceView | undefined> => {
      const deadline = performance.now() + ms;
      for (;;) {
        const e = await state(sid);
        if (cond(e)) return e;
        if (performance.now() > deadline) assert.fail(`member ${sid}: /ha/db did not become ${what} within ${ms} ms; last seen ${JSON.stringify(e)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const backups = c.members.map((m) => m.sid).filter((sid) => sid !== primary.sid);
    for (const sid of backups) await untilOn(sid, 'unhealthy', (e) => e?.state === 'unhealthy', INTERVAL_MS * THRESHOLD + SLACK_MS);
    for (const m of c.members) {
      const text = await metrics(m.server);
      const probed = /^dpns_health_checked_entries (\d+)$/m.exec(text)?.[1];
      assert.equal(probed, m.sid === primary.sid ? '1' : '0', `member ${m.sid}`);
      if (m.sid !== primary.sid) assert.doesNotMatch(text, /^dpns_health_checks_total\{/m, `member ${m.sid} ran no probe`);
      assert.match(text, /^dpns_services_unhealthy 1$/m, `member ${m.sid}`);
    }
    // The primary dies; the new one probes, and the port listens again.
    await c.kill9(primary.sid);
    const next = await c.primary({ minEpoch: primary.epoch + 1, timeoutMs: 15_000 });
    await tcpListener(port);
    await untilOn(next.sid, 'running under the new primary', (e) => e?.state === 'running', INTERVAL_MS + SLACK_MS);
    const other = backups.find((sid) => sid !== next.sid) as number;
    await untilOn(other, 'running on the remaining backup', (e) => e?.state === 'running', SLACK_MS);
  } finally {
    await c.close();
  }
});
