// Issue 4's first check, with real processes and the real client library: kill -9 the primary of
// three while clients write as fast as they can; a backup takes over; every write any client saw
// acknowledged is on the new primary, none was applied twice; the dead server, restarted, rejoins
// as a backup. Five rounds in one test.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient } from '@dpns/client';
import { RawConnection, startCluster, teardown, type TestCluster } from './harness/index.js';

after(teardown);

const ROUNDS = 5;
const WRITERS = 4;
const spec = { host: '127.0.0.1', program: 'echo' };

interface Tally {
  acked: Set<string>;
  errors: Map<string, number>;
}

/** One client writing new names back to back until told to stop; a failed write is counted, not retried by hand. */
async function writeLoop(client: DpnsClient, prefix: string, tally: Tally, stop: { now: boolean }): Promise<void> {
  for (let i = 0; !stop.now; i++) {
    const name = `${prefix}/n${i}`;
    try {
      await client.register.add(name, spec);
      tally.acked.add(name);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'UNKNOWN';
      tally.errors.set(code, (tally.errors.get(code) ?? 0) + 1);
    }
  }
}

async function list(c: TestCluster, sid: number): Promise<string[]> {
  const a = await c.call(sid, 'listServices', { pattern: '/fo/*' });
  assert.ok(a.ok, `listServices on member ${sid}: ${a.ok ? '' : `${a.code}`}`);
  return (a.result as { names: string[] }).names;
}

test('kill -9 of the primary under write load, five times: no acknowledged write lost, none applied twice, the dead server rejoins', { timeout: 120_000 }, async () => {
  const c = await startCluster({ n: 3, readFromBackups: true });
  const clients: DpnsClient[] = [];
  // Stopped in `finally` too: a failed assertion must not leave writers looping on closed clients.
  const stop = { now: false };
  try {
    let primary = await c.primary();
    const tally: Tally = { acked: new Set(), errors: new Map() };
    for (let w = 0; w < WRITERS; w++) {
      const client = new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 20_000, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
      await client.connect();
      clients.push(client);
    }
    const loops = clients.map((client, w) => writeLoop(client, `/fo/w${w}`, tally, stop));
    const epochs = [primary.epoch];
    for (let round = 0; round < ROUNDS; round++) {
      await new Promise((r) => setTimeout(r, 400));
      const before = tally.acked.size;
      assert.ok(before > 0, 'the writers are writing');
      await c.kill9(primary.sid);
      const next = await c.primary({ minEpoch: primary.epoch + 1, timeoutMs: 10_000 });
      assert.notEqual(next.sid, primary.sid);
      epochs.push(next.epoch);
      // Writes go on through the new primary while the old one is down.
      const t0 = Date.now();
      while (tally.acked.size < before + 20 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
      assert.ok(tally.acked.size >= before + 20, `round ${round}: writes resumed after the takeover (${tally.acked.size - before} since)`);
      await c.restart(primary.sid);
      const back = await c.waitStatus(primary.sid, (s) => {
        const me = s.servers.find((x) => x.self);
        return me?.role === 'backup' && s.primary === next.sid;
      }, 10_000);
      assert.equal(back.servers.find((x) => x.self)?.role, 'backup', `round ${round}: the restarted server rejoined as a backup`);
      console.log(`# round ${round}: SID ${primary.sid} killed, SID ${next.sid} primary of epoch ${next.epoch}, ${tally.acked.size} acknowledged`);
      primary = next;
    }
    stop.now = true;
    await Promise.all(loops);
    assert.deepEqual([...epochs].sort((a, b) => a - b), epochs, 'every takeover raised the epoch');
    assert.equal(tally.errors.get('ALREADY_EXISTS') ?? 0, 0, 'a retried add was never applied twice');
    assert.deepEqual([...tally.errors], [], 'the client library rode through every failover');

    const onPrimary = new Set(await list(c, primary.sid));
    const lost = [...tally.acked].filter((n) => !onPrimary.has(n));
    assert.deepEqual(lost, [], 'every acknowledged write is on the last primary');
    // Every member converges on the same state. The primary's view of each backup's lag is from
    // its acknowledgements; a member's view of its own is from the primary's last beat, and a
    // member restarted in the last round may say lag 0 before the last records reach it.
    await c.waitStatus(primary.sid, (s) => s.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 10_000);
    for (let sid = 0; sid < 3; sid++) {
      let names = await list(c, sid);
      for (const until = Date.now() + 10_000; names.length !== onPrimary.size && Date.now() < until;) {
        await new Promise((r) => setTimeout(r, 50));
        names = await list(c, sid);
      }
      if (names.length !== onPrimary.size) {
        // What the members logged about roles and catching up says which path lost the record.
        for (const m of c.members) {
          const lines = m.proc?.stderrLines().filter((l) => /primary|snapshot|catching|star|lost|broke|WARN|ERROR/.test(l)) ?? [];
          console.log(`# member ${m.sid}:\n${lines.map((l) => `#   ${l}`).join('\n')}`);
        }
        console.log(`# member ${sid} lacks ${[...onPrimary].filter((n) => !names.includes(n)).join(', ')}; has extra ${names.filter((n) => !onPrimary.has(n)).join(', ')}`);
      }
      assert.deepEqual(names, [...onPrimary], `member ${sid} holds the same names as the primary`);
    }
    // The takeovers show in the last primary's /metrics, with its role and the backups' lag.
    const metrics = await (await fetch(`http://${c.servers[primary.sid] as string}/metrics`)).text();
    assert.match(metrics, /^dpns_cluster_role\{role="primary"\} 1$/m);
    assert.match(metrics, /^dpns_failovers_total [1-9]\d*$/m, 'the takeover is counted');
    assert.match(metrics, /^dpns_replication_lag_records\{sid="\d"\} 0$/m);
    // /healthz answers on every member, with its role: exactly one primary.
    const roles = await Promise.all(c.servers.map(async (srv) => ((await (await fetch(`http://${srv}/healthz`)).json()) as { status: string; role: string }).role));
    assert.deepEqual(roles.filter((r) => r === 'primary').length, 1, `roles: ${roles.join(', ')}`);
    console.log(`# ${ROUNDS} failovers, epochs ${epochs.join(' → ')}; ${tally.acked.size} writes acknowledged, all present`);
  } finally {
    stop.now = true;
    for (const cl of clients) await cl.close().catch(() => undefined);
    await c.close();
  }
});

test('a member tells its open connections of the election\'s outcome: the winner that it is primary, the other whom it follows', { timeout: 60_000 }, async () => {
  const c = await startCluster({ n: 3 });
  const conns: RawConnection[] = [];
  try {
    const old = await c.primary();
    const others = [0, 1, 2].filter((sid) => sid !== old.sid);
    for (const sid of others) {
      const conn = await RawConnection.open(c.urls[sid] as string);
      conns.push(conn);
      const cluster = (conn.hello.params as { cluster: { notifies?: boolean; role: string } }).cluster;
      assert.equal(cluster.notifies, true, 'the hello says the member notifies');
      assert.equal(cluster.role, 'backup');
    }
    await c.kill9(old.sid);
    const next = await c.primary({ minEpoch: old.epoch + 1, timeoutMs: 10_000 });
    const settled = (p: Record<string, unknown>): boolean => p.role === 'primary' || (p.role === 'backup' && p.primary !== undefined && p.primary !== old.url);
    const said = await Promise.all(conns.map((conn) => conn.message('cluster', settled, 10_000)));
    others.forEach((sid, k) => {
      const p = (said[k] as { params: { sid: number; role: string; epoch: number; primary?: string; servers: string[] } }).params;
      assert.equal(p.sid, sid);
      assert.equal(p.epoch, next.epoch);
      assert.equal(p.role, sid === next.sid ? 'primary' : 'backup');
      assert.equal(p.primary, c.urls[next.sid]);
      assert.deepEqual(p.servers, c.urls);
    });
  } finally {
    await Promise.all(conns.map((conn) => conn.close()));
    await c.close();
  }
});
