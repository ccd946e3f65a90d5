// A backup that needs a snapshot is sent the primary's newest snapshot on disk as it is stored,
// followed by the records after it (cluster/snapshot-transfer.ts): the primary does not make one
// again from its registry, which at a million names held its event loop for seconds. The backup
// ends with every committed write, and with nothing its own divergent log held.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcSession, startCluster, teardown } from './harness/index.js';

after(teardown);

const spec = { host: '127.0.0.1', program: 'echo' };

test('a backup whose log went another way gets the newest snapshot on disk and the records after it', { timeout: 60_000 }, async () => {
  // A snapshot every 10 records, so the primary has one on disk and writes after it.
  const c = await startCluster({ n: 3, readFromBackups: true, extraArgs: ['--snapshot-every', '10', '--log-level', 'info'] });
  try {
    const p = await c.primary();
    const backups = c.members.filter((m) => m.sid !== p.sid).map((m) => m.sid);
    const a = await RpcSession.open(p.url);
    await a.login(c.adminToken);
    assert.ok((await a.call('register.add', { name: '/stored/before', spec })).ok);
    // Without its backups the primary stores a write it cannot commit: its log goes another way.
    for (const sid of backups) await c.kill9(sid);
    assert.ok(!(await a.call('register.add', { name: '/stored/lost', spec }, 3000)).ok);
    a.close();
    await c.kill9(p.sid);
    for (const sid of backups) await c.restart(sid);
    const next = await c.primary({ among: backups, timeoutMs: 10_000 });
    const names = ['/stored/before'];
    let last = 0;
    const add = async (name: string): Promise<void> => {
      const r = await c.call(next.sid, 'register.add', { name, spec });
      assert.ok(r.ok);
      last = (r.result as { revision: number }).revision;
      names.push(name);
    };
    for (let i = 0; i < 35; i++) await add(`/stored/n${String(i).padStart(2, '0')}`);
    const writtenAt = (): number[] => c.proc(next.sid).stderrLines().filter((l) => /snapshot written/.test(l)).map((l) => Number(/(?:index|revision)=(\d+)/.exec(l)?.[1]));
    for (const t0 = Date.now(); Date.now() - t0 < 10_000 && writtenAt().length === 0;) await new Promise((r) => setTimeout(r, 50));
    assert.ok(writtenAt().length > 0, 'the new primary has a snapshot on disk');
    // The log must end after the newest snapshot, or "the records after it" are none and a
    // snapshot sent as if it were at the log end cannot be told from one that is. A snapshot is
    // taken on a write 10 or more after the last one written, so once the newest is below the last
    // write and fewer than 10 before it, none can be under way and the next needs a write.
    for (let extra = 0; ; extra++) {
      const newest = Math.max(...writtenAt());
      if (newest < last && last - newest < 10) break;
      assert.ok(extra < 40, `the log ends after its newest snapshot (newest ${newest}, last write ${last})`);
      // At the log end: one more write. Ten or more behind: one is being written, or the next write takes it.
      if (newest < last) await new Promise((r) => setTimeout(r, 100));
      if (Math.max(...writtenAt()) === newest) await add(`/stored/x${String(extra).padStart(2, '0')}`);
    }

    const old = await c.restart(p.sid);
    await c.waitStatus(p.sid, (st) => st.servers.find((x) => x.self)?.role === 'backup' && st.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 15_000);
    const sentLine = (): string | undefined => c.proc(next.sid).stderrLines().find((l) => /a snapshot for a backup/.test(l));
    for (const t0 = Date.now(); Date.now() - t0 < 5000 && sentLine() === undefined;) await new Promise((r) => setTimeout(r, 50));
    assert.match(sentLine() ?? 'none sent', /source=stored/, 'the snapshot on disk, not one made from the registry');
    const index = Number(/index=(\d+)/.exec(sentLine() ?? '')?.[1]);
    const newest = Math.max(...writtenAt());
    assert.ok(index <= newest, `sent the snapshot at ${index}, one written (newest ${newest})`);
    assert.ok(index < last, `sent the snapshot at ${index}, before the last write at ${last}: records follow it`);
    assert.match(old.stderrLines().join('\n'), /installed a snapshot from the primary/);
    const mine = await c.call(p.sid, 'listServices', { pattern: '/stored/*' });
    assert.ok(mine.ok);
    assert.deepEqual((mine.result as { names: string[] }).names, names, 'every committed write, the ones after the snapshot too, and not its own lost one');
    // It goes on following: a write now reaches it too.
    assert.ok((await c.call(next.sid, 'register.add', { name: '/stored/z', spec })).ok);
    await c.waitStatus(next.sid, (st) => st.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 10_000);
    const followed = await c.call(p.sid, 'listServices', { pattern: '/stored/z' });
    assert.ok(followed.ok);
    assert.deepEqual((followed.result as { names: string[] }).names, ['/stored/z']);
  } finally {
    await c.close();
  }
});
