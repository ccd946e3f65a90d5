// Online membership changes (docs/CLUSTER.md, "Membership changes"; PROTOCOL.md §19.8) with real
// server processes: a cluster of three grows to five (two servers started with --join, added with
// servers.add) and shrinks back to three (servers.remove) while client-library writers write
// without pause. Nothing acknowledged is lost on any remaining member; the removed servers stop
// by themselves; a removed member no longer counts for quorum (with it and one more voter dead,
// writes go on); a second change while one is pending is refused MEMBERSHIP_CHANGE_PENDING, and
// adding a server that is not there MEMBER_NOT_CAUGHT_UP. A server that joins a cluster whose
// members keep no log back to the start is caught up by a snapshot, and holds every write.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient, type MembershipResult } from '@dpns/client';
import { freePorts, runCli, startCluster, teardown, type TestCluster } from './harness/index.js';

after(teardown);

const WRITERS = 2;
const spec = { host: '127.0.0.1', program: 'echo' };

interface Tally {
  acked: Set<string>;
  errors: Map<string, number>;
}

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

async function list(c: TestCluster, sid: number): Promise<Set<string>> {
  const a = await c.call(sid, 'listServices', { pattern: '/mb/*' });
  assert.ok(a.ok, `listServices on member ${sid}: ${a.ok ? '' : `${a.code}`}`);
  return new Set((a.result as { names: string[] }).names);
}

/** Waits until the writers acknowledged `n` more writes. */
async function progress(tally: Tally, n: number, what: string): Promise<void> {
  const before = tally.acked.size;
  const t0 = Date.now();
  while (tally.acked.size < before + n && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
  assert.ok(tally.acked.size >= before + n, `${what}: writes went on (${tally.acked.size - before} acknowledged in 15 s)`);
}

function codeOf(e: unknown): string {
  return (e as { code?: string }).code ?? String(e);
}

test('grow 3 → 5 and shrink 5 → 3 under write load: nothing lost, removed members stop and no longer count, refusals say why', { timeout: 120_000 }, async () => {
  const c = await startCluster({ n: 3, readFromBackups: true });
  const clients: DpnsClient[] = [];
  const stop = { now: false };
  const cli = async (args: string[]): Promise<{ stdout: string }> => {
    const r = await runCli(args, { env: { DPNS_SERVERS: c.servers.join(','), DPNS_TOKEN: c.adminToken }, timeoutMs: 30_000 });
    assert.equal(r.code, 0, `dpns ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  let loops: Promise<void>[] = [];
  try {
    const primary = await c.primary();
    const admin = new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 20_000, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
    await admin.connect();
    clients.push(admin);
    const tally: Tally = { acked: new Set(), errors: new Map() };
    for (let w = 0; w < WRITERS; w++) {
      const client = new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 20_000, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
      await client.connect();
      clients.push(client);
    }
    loops = clients.slice(1).map((client, w) => writeLoop(client, `/mb/w${w}`, tally, stop));
    await progress(tally, 20, 'before any change');

    // Grow: two servers join, one at a time.
    const added: MembershipResult[] = [];
    for (let k = 0; k < 2; k++) {
      const m = await c.startJoiner();
      // The first through the client library, the second through the dpns command.
      const r = k === 0 ? await admin.addServer(m.server) : await cli(['--json', 'servers', 'add', m.server]).then((o) => JSON.parse(o.stdout) as MembershipResult);
      assert.equal(r.sid, 3 + k, 'an added member gets the next unused SID');
      assert.equal(r.address, m.server);
      assert.deepEqual(r.voters, Array.from({ length: 4 + k }, (_, s) => s));
      added.push(r);
      // The new member is a voter, caught up, following the primary.
      await c.waitStatus(m.sid, (s) => s.self === m.sid && s.servers.find((x) => x.self)?.role === 'backup' && s.primary === primary.sid, 10_000);
      await progress(tally, 10, `after adding SID ${r.sid}`);
    }
    const five = await c.waitStatus(primary.sid, (s) => s.servers.length === 5 && s.servers.every((x) => x.connected), 10_000);
    assert.deepEqual(five.servers.map((x) => x.sid), [0, 1, 2, 3, 4], 'dpns servers shows the five voters');
    // Adding a member that is already one changes nothing and says so.
    const again = await admin.addServer((c.members[3] as { server: string }).server);
    assert.equal(again.sid, 3);
    assert.deepEqual(again.voters, [0, 1, 2, 3, 4]);

    // Refusals: a server that is not there never catches up; while it is being caught up, no other change is taken.
    const [nobodyPort] = await freePorts(1);
    const pending = admin.addServer(`127.0.0.1:${nobodyPort}`).then(() => 'added', codeOf);
    await new Promise((r) => setTimeout(r, 200));
    const second = await admin.removeServer(4).then(() => 'removed', codeOf);
    assert.equal(second, 'MEMBERSHIP_CHANGE_PENDING', 'a second change while one is pending is refused');
    assert.equal(await pending, 'MEMBER_NOT_CAUGHT_UP', 'a server that is not running is not added');
    const invalid = await runCli(['servers', 'remove', '9'], { env: { DPNS_SERVERS: c.servers.join(','), DPNS_TOKEN: c.adminToken } });
    assert.equal(invalid.code, 1, 'a refused change exits 1');
    assert.match(invalid.stderr, /^dpns: MEMBERSHIP_CHANGE_INVALID: SID 9 is not a voter/, 'a SID that is not a voter cannot be removed');

    // Shrink: the two original members other than the primary leave.
    const leaving = [0, 1, 2].filter((s) => s !== primary.sid);
    for (const sid of leaving) {
      const r = await admin.removeServer(sid);
      assert.equal(r.sid, sid);
      assert.ok(!r.voters.includes(sid));
      // The removed server learns its removal is committed, says so, and stops by itself.
      const exit = await Promise.race([c.proc(sid).exited, new Promise<undefined>((r2) => setTimeout(() => r2(undefined), 10_000))]);
      assert.ok(exit !== undefined, `removed SID ${sid} stopped by itself`);
      assert.ok(c.proc(sid).stderrLines().some((l) => /removed from the cluster/.test(l)), `removed SID ${sid} says why it stops`);
      (c.members[sid] as { proc: unknown }).proc = undefined;
      await progress(tally, 10, `after removing SID ${sid}`);
    }
    const voters = [primary.sid, 3, 4];
    const shown = JSON.parse((await cli(['--json', 'servers'])).stdout) as { servers: { sid: number }[] };
    assert.deepEqual(shown.servers.map((x) => x.sid), [...voters].sort((a, b) => a - b), 'dpns servers shows the voters');
    const three = await c.waitStatus(primary.sid, (s) => s.servers.length === 3, 10_000);
    assert.deepEqual(three.servers.map((x) => x.sid), [...voters].sort((a, b) => a - b), 'dpns servers shows the three voters');

    // The removed members no longer count: with them gone and SID 3 killed too, two of the three voters are a majority.
    await c.kill9(3);
    await progress(tally, 20, 'with SID 3 down and the removed members gone');
    await c.restart(3);

    stop.now = true;
    await Promise.all(loops);
    assert.equal(tally.errors.get('ALREADY_EXISTS') ?? 0, 0, 'no write applied twice');
    assert.deepEqual([...tally.errors], [], 'the writers rode through every change');
    for (const sid of voters) {
      await c.waitStatus(sid, (s) => s.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 15_000);
      const names = await list(c, sid);
      const lost = [...tally.acked].filter((n) => !names.has(n));
      assert.deepEqual(lost, [], `every acknowledged write is on SID ${sid}`);
    }
    console.log(`# grew 3 → 5 (${added.map((r) => `SID ${r.sid} at index ${r.index}`).join(', ')}), shrank to ${voters.join(',')}; ${tally.acked.size} writes acknowledged, all present`);
  } catch (e) {
    for (const m of c.members) {
      const lines = m.proc?.stderrLines().filter((l) => /voters|join|removed|primary|WARN|ERROR|catch/i.test(l)).slice(-30) ?? [];
      console.log(`# member ${m.sid}:\n${lines.map((l) => `#   ${l}`).join('\n')}`);
    }
    throw e;
  } finally {
    stop.now = true;
    await Promise.all(loops);
    for (const cl of clients) await cl.close();
    await c.close();
  }
});

test('the primary removes itself: it answers once the change is committed, then stops; the other two elect a primary and take writes', { timeout: 60_000 }, async () => {
  const c = await startCluster({ n: 3 });
  const admin = new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 20_000, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
  try {
    const first = await c.primary();
    await admin.connect();
    await admin.register.add('/mb/before', spec);
    const r = await admin.removeServer(first.sid);
    assert.equal(r.sid, first.sid);
    assert.deepEqual(r.voters, [0, 1, 2].filter((s) => s !== first.sid));
    const exit = await Promise.race([c.proc(first.sid).exited, new Promise<undefined>((r2) => setTimeout(() => r2(undefined), 10_000))]);
    assert.ok(exit !== undefined, 'the removed primary stopped by itself');
    assert.equal(exit.code, 0, 'a removed member exits 0');
    (c.members[first.sid] as { proc: unknown }).proc = undefined;
    const next = await c.primary({ minEpoch: first.epoch + 1, timeoutMs: 10_000 });
    assert.notEqual(next.sid, first.sid);
    await admin.register.add('/mb/after', spec);
    const s = await c.waitStatus(next.sid, (x) => x.servers.length === 2 && x.servers.every((m) => m.connected), 10_000);
    assert.deepEqual(s.servers.map((m) => m.sid), r.voters);
    const names = await c.call(next.sid, 'listServices', { pattern: '/mb/*' });
    assert.ok(names.ok);
    assert.deepEqual((names.result as { names: string[] }).names, ['/mb/after', '/mb/before']);
  } finally {
    await admin.close();
    await c.close();
  }
});

test('a server that joins after the log was cut back at a snapshot is caught up by the snapshot and holds every write', { timeout: 90_000 }, async () => {
  const c = await startCluster({ n: 3, readFromBackups: true, extraArgs: ['--snapshot-every', '10'] });
  const admin = new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 20_000, reconnect: { minDelayMs: 10, maxDelayMs: 200 } });
  try {
    await c.primary();
    await admin.connect();
    const names: string[] = [];
    for (let i = 0; i < 60; i++) {
      names.push(`/mb/s${i}`);
      await admin.register.add(`/mb/s${i}`, spec);
    }
    // Restarted, each member keeps its log only from its newest snapshot on: none can send the log from the start.
    for (const sid of [0, 1, 2]) {
      await c.stop(sid);
      await c.restart(sid);
    }
    const primary = await c.primary({ timeoutMs: 10_000 });
    await admin.register.add('/mb/after-restart', spec);
    names.push('/mb/after-restart');
    const m = await c.startJoiner();
    const r = await admin.addServer(m.server);
    assert.equal(r.sid, 3);
    assert.deepEqual(r.voters, [0, 1, 2, 3]);
    await c.waitStatus(m.sid, (s) => s.servers.find((x) => x.self)?.role === 'backup' && s.primary === primary.sid, 10_000);
    assert.ok(m.proc?.stderrLines().some((l) => /installed a snapshot from the primary/.test(l)), 'the joiner was caught up by a snapshot');
    // Meanwhile its threads ran at a lower priority, and have it back once caught up (root may give it back: catch-up-priority.ts).
    const restoredLine = (l: string): boolean => /restored this server's CPU priority/.test(l);
    for (const t0 = Date.now(); Date.now() - t0 < 10_000 && !(m.proc?.stderrLines().some(restoredLine) ?? false);) await new Promise((r) => setTimeout(r, 50));
    const lines = m.proc?.stderrLines() ?? [];
    const lowered = lines.findIndex((l) => /lowered this server's CPU priority while it takes the primary's snapshot/.test(l));
    const restored = lines.findIndex(restoredLine);
    assert.ok(lowered >= 0 && restored > lowered, `lowered at line ${lowered}, restored at line ${restored}`);
    assert.match(lines[restored] ?? '', / nice=0 /);
    await admin.register.add('/mb/after-join', spec);
    names.push('/mb/after-join');
    // It holds every write, and its acknowledgements count: with one of the first three down, a majority of the four
    // voters needs all three others, SID 3 among them.
    await c.waitStatus(primary.sid, (s) => s.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 10_000);
    const held = await c.call(m.sid, 'listServices', { pattern: '/mb/*' });
    assert.ok(held.ok, `listServices on the joiner: ${held.ok ? '' : held.code}`);
    assert.deepEqual(new Set((held.result as { names: string[] }).names), new Set(names));
    const other = [0, 1, 2].find((s) => s !== primary.sid) as number;
    await c.kill9(other);
    await admin.register.add('/mb/with-one-down', spec);
  } finally {
    await admin.close();
    await c.close();
  }
});
