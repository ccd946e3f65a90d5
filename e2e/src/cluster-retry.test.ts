// A retried write (same requestId) is answered from the log, never applied twice, and never
// acknowledged before the write it repeats is committed: a retry must not turn an uncommitted
// write into an acknowledged one that a failover then loses.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcSession, startCluster, teardown } from './harness/index.js';

after(teardown);

const spec = { host: '127.0.0.1', program: 'echo' };

test('a retry with the same requestId is answered with the first outcome, not applied twice', { timeout: 30_000 }, async () => {
  const c = await startCluster({ n: 3 });
  try {
    const p = await c.primary();
    const a = await RpcSession.open(p.url);
    await a.login(c.adminToken);
    const first = await a.call('register.add', { name: '/retry/once', spec, requestId: 'once-1' });
    assert.ok(first.ok);
    const again = await a.call('register.add', { name: '/retry/once', spec, requestId: 'once-1' });
    assert.ok(again.ok, 'the retry is answered, not refused ALREADY_EXISTS');
    assert.deepEqual(again.result, first.result, 'with the revision that applied it');
    const fresh = await a.call('register.add', { name: '/retry/once', spec, requestId: 'once-2' });
    assert.ok(!fresh.ok && fresh.code === 'ALREADY_EXISTS', 'a new request id is a new write');
    a.close();
  } finally {
    await c.close();
  }
});

test('a retry of a write still waiting for its commit is not acknowledged before it, and a lost write stays unacknowledged', { timeout: 60_000 }, async () => {
  const c = await startCluster({ n: 3, readFromBackups: true });
  try {
    const p = await c.primary();
    const backups = c.members.filter((m) => m.sid !== p.sid).map((m) => m.sid);
    const a = await RpcSession.open(p.url);
    await a.login(c.adminToken);
    const b = await RpcSession.open(p.url);
    await b.login(c.adminToken);
    assert.ok((await a.call('register.add', { name: '/retry/warm', spec })).ok);
    // Without its backups the primary can store the write but not commit it.
    for (const sid of backups) await c.kill9(sid);
    const first = a.call('register.add', { name: '/retry/x', spec, requestId: 'dup-1' }, 5000);
    await new Promise((r) => setTimeout(r, 50));
    const retry = await b.call('register.add', { name: '/retry/x', spec, requestId: 'dup-1' }, 5000);
    assert.ok(!retry.ok, `the retry was not acknowledged (answered ${retry.ok ? 'ok' : retry.code})`);
    assert.ok(!(await first).ok, 'nor was the first attempt');
    // The primary dies too; the backups, which never stored it, elect one of themselves.
    await c.kill9(p.sid);
    for (const sid of backups) await c.restart(sid);
    const next = await c.primary({ among: backups, timeoutMs: 10_000 });
    const list = await c.call(next.sid, 'listServices', { pattern: '/retry/*' });
    assert.ok(list.ok);
    assert.deepEqual((list.result as { names: string[] }).names, ['/retry/warm'], 'the unacknowledged write is gone, as nobody was told it was done');
    a.close();
    b.close();
    // The old primary's log went another way (it holds the lost write): back, it takes the new primary's snapshot.
    const old = await c.restart(p.sid);
    await c.waitStatus(p.sid, (st) => st.servers.find((x) => x.self)?.role === 'backup' && st.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 10_000);
    for (const t0 = Date.now(); Date.now() - t0 < 5000 && !old.stderrLines().some((l) => /installed a snapshot/.test(l));) await new Promise((r) => setTimeout(r, 50));
    assert.match(old.stderrLines().join('\n'), /installed a snapshot from the primary/);
    const mine = await c.call(p.sid, 'listServices', { pattern: '/retry/*' });
    assert.ok(mine.ok);
    assert.deepEqual((mine.result as { names: string[] }).names, ['/retry/warm'], 'its divergent record is gone from it too');
    const w = await c.call(next.sid, 'register.add', { name: '/retry/after', spec });
    assert.ok(w.ok);
  } finally {
    await c.close();
  }
});
