// The choice a cluster of two has to make, made explicit (issue 4): a majority of two is both,
// so by default the survivor of a crash does NOT take over (it cannot tell a dead primary from a
// partition, and two primaries would both take writes). With --two-node-failover it does.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { RawWriter, rpcOnce, startCluster, teardown, type TestCluster } from './harness/index.js';

/** The failure window of the default settings: 150 ms heartbeats × 4 misses. */
const WINDOW_MS = 600;
const spec = { host: '127.0.0.1', program: 'echo' };
let cluster: TestCluster | undefined;
let writer: RawWriter | undefined;

afterEach(async () => {
  writer?.close();
  writer = undefined;
  await cluster?.close();
  cluster = undefined;
});

after(teardown);

async function names(c: TestCluster, sid: number): Promise<string[]> {
  const a = await c.call(sid, 'listServices', { pattern: '/two/*' });
  assert.ok(a.ok, `listServices on member ${sid}: ${a.ok ? '' : a.code}`);
  return (a.result as { names: string[] }).names;
}

test('without --two-node-failover, the survivor of two does not become primary and refuses writes', { timeout: 60_000 }, async () => {
  const c = (cluster = await startCluster({ n: 2 }));
  const first = await c.primary();
  writer = new RawWriter({ urls: c.urls, token: c.adminToken });
  const w = await writer.write('register.add', { name: '/two/before', spec });
  assert.ok(w.ok, `write with both up: ${w.code ?? ''}`);
  const survivor = 1 - first.sid;

  await c.kill9(first.sid);
  // Three failure windows and more: long enough for a takeover, had there been one.
  const until = performance.now() + 3 * WINDOW_MS + 500;
  const refusals = new Map<string, number>();
  let i = 0;
  while (performance.now() < until) {
    const s = await c.status(survivor);
    assert.ok(s !== undefined, 'the survivor answers servers');
    assert.notEqual(s.servers.find((x) => x.self)?.role, 'primary', `the survivor made itself primary: ${JSON.stringify(s)}`);
    const a = await rpcOnce(c.urls[survivor] as string, 'register.add', { name: `/two/refused${i++}`, spec, requestId: `two-refused-${i}` }, { token: c.adminToken });
    assert.ok(!a.ok, 'the survivor took a write alone');
    refusals.set(a.code, (refusals.get(a.code) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual([...refusals.keys()].filter((k) => k !== 'NOT_PRIMARY' && k !== 'NO_QUORUM'), [], `refusals: ${JSON.stringify([...refusals])}`);

  // With the other one back, the pair has its majority again and takes writes; nothing was lost.
  await c.restart(first.sid);
  await c.primary({ timeoutMs: 10_000 });
  const again = await writer.write('register.add', { name: '/two/after', spec });
  assert.ok(again.ok, `write after the restart: ${again.code ?? ''}`);
  const p = await c.primary();
  assert.deepEqual((await names(c, p.sid)).sort(), ['/two/after', '/two/before']);
});

test('with --two-node-failover, the survivor of two takes over, and the old primary rejoins as a backup', { timeout: 60_000 }, async (t) => {
  const c = (cluster = await startCluster({ n: 2, extraArgs: ['--two-node-failover'] }));
  const first = await c.primary();
  // With --two-node-failover a primary alone is a majority: until the backup has joined the star,
  // a write is acknowledged by the primary alone and a kill -9 then takes it along (as documented).
  // The claim under test is the failover of a pair that is whole, so wait until it is.
  await c.waitStatus(first.sid, (s) => s.servers.every((x) => x.connected && (x.lag ?? 0) === 0), 10_000);
  writer = new RawWriter({ urls: c.urls, token: c.adminToken });
  const w = await writer.write('register.add', { name: '/two/before', spec });
  assert.ok(w.ok, `write with both up: ${w.code ?? ''}`);
  const survivor = 1 - first.sid;

  const killedAt = performance.now();
  await c.kill9(first.sid);
  const w2 = await writer.write('register.add', { name: '/two/after', spec });
  assert.ok(w2.ok, `write after the kill: ${w2.code ?? ''} ${w2.message ?? ''}`);
  assert.equal(w2.url, c.urls[survivor]);
  const tookMs = w2.answeredAt - killedAt;
  t.diagnostic(`first write on the survivor ${tookMs.toFixed(0)} ms after the kill (after ${w2.failures.join(', ') || 'no failure'})`);
  // That it takes over, not how fast (that is `pnpm bench --only failover`): a loaded CI machine
  // may take a few failure windows.
  assert.ok(tookMs < 8000, `the survivor took ${tookMs.toFixed(0)} ms to take a write`);
  const p = await c.primary({ among: [survivor], minEpoch: first.epoch + 1 });
  assert.deepEqual((await names(c, p.sid)).sort(), ['/two/after', '/two/before']);

  await c.restart(first.sid);
  await c.waitStatus(first.sid, (s) => {
    const me = s.servers.find((x) => x.self);
    return me?.role === 'backup' && s.primary === survivor && me.lag === 0 && s.epoch === p.epoch;
  });
});
