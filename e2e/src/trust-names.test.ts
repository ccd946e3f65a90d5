// Attack 8 of the "Trust" issue, scripted: a name advertised by a process that proved an owner
// key stays that key's after the process dies (`lost`). Another client, anonymous or with another
// key, is refused RESERVED; the owner, restarted with its key, takes the name back; an admin's
// `dpns release` or the end of --reservation-ms frees it for anyone. Also --admin-prefix.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DpnsClient, isDpnsError, ownerKeyFromSeed, type ServiceView } from '@dpns/client';
import { RpcSession, runCli, spawnFixture, startServerProcess, teardown, type Answer, type FixtureProcess, type ServerProcess } from './harness/index.js';

after(teardown);

const seedA = randomBytes(32).toString('hex');
const keyA = ownerKeyFromSeed(seedA).publicKey;

/** The owner: the advertiser fixture proving the key made from `seedA`. */
async function owner(ns: ServerProcess, name: string, port: number): Promise<FixtureProcess> {
  const fx = spawnFixture('advertiser', [ns.server, name, '127.0.0.1', String(port)], { ADVERTISER_OWNER_SEED: seedA });
  await fx.stdout.waitFor(`advertised ${name}`);
  return fx;
}

async function entry(s: RpcSession, name: string): Promise<ServiceView | undefined> {
  const a = await s.call('serviceState', { pattern: name });
  assert.ok(a.ok, JSON.stringify(a));
  return (a.result as { entries: ServiceView[] }).entries[0];
}

/** Polls the state of `name` until it is `state` (the heartbeat notices a dead advertiser). */
async function waitState(s: RpcSession, name: string, state: string, timeoutMs = 5000): Promise<ServiceView> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const e = await entry(s, name);
    if (e?.state === state) return e;
    if (Date.now() > end) throw new Error(`${name} is ${e?.state ?? 'absent'}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const advertise = (s: RpcSession, name: string, port: number): Promise<Answer> => s.call('advertiseService', { name, host: '127.0.0.1', port });

test('a lost owner-keyed name: refused to others, taken back by its owner, freed by dpns release', { timeout: 60_000 }, async () => {
  const ns = await startServerProcess({ args: ['--client-heartbeat-ms', '200', '--log-level', 'warn'] });
  const anon = await RpcSession.open(ns.url);
  const other = new DpnsClient({ servers: [ns.server], ownerKey: ownerKeyFromSeed(randomBytes(32).toString('hex')) });
  const dpns = (args: string[], admin = true) => runCli(['--server', ns.server, ...args], { env: admin ? { DPNS_TOKEN: ns.token } : {} });
  try {
    let a = await owner(ns, '/own/a', 9501);
    await a.kill('SIGKILL');
    const lost = await waitState(anon, '/own/a', 'lost');
    assert.equal(lost.reservation?.owner, keyA);
    assert.ok((lost.reservation?.until ?? 0) > Date.now() + 5 * 3_600_000, 'held for the default of several hours');

    // Anonymous: RESERVED, saying until when and for which key.
    const refused = await advertise(anon, '/own/a', 9502);
    assert.ok(!refused.ok && refused.code === 'RESERVED', JSON.stringify(refused));
    assert.ok(refused.message.includes(keyA.slice(0, 16)), refused.message);
    assert.ok(refused.message.includes(new Date(lost.reservation?.until ?? 0).toISOString()), refused.message);
    // Another key: RESERVED too.
    await assert.rejects(other.advertise('/own/a', '127.0.0.1', 9503), (e: unknown) => isDpnsError(e, 'RESERVED'));

    // The owner comes back with its key: running again, its own.
    a = await owner(ns, '/own/a', 9504);
    const back = await waitState(anon, '/own/a', 'running');
    assert.equal(back.port, 9504);
    assert.deepEqual(back.advertiser, { kind: 'session', owner: keyA });
    assert.equal(back.reservation, undefined);

    // Lost again; an admin releases it; then anyone may advertise it.
    await a.kill('SIGKILL');
    await waitState(anon, '/own/a', 'lost');
    const noToken = await dpns(['release', '/own/a'], false);
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /UNAUTHORIZED/);
    const released = await dpns(['release', '/own/a']);
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, new RegExp(`^released /own/a \\(was reserved for owner key ${keyA.slice(0, 16)}… until `));
    const again = await dpns(['release', '/own/a', '--json']);
    assert.deepEqual(JSON.parse(again.stdout), { ok: true, name: '/own/a', released: false });
    const taken = await advertise(anon, '/own/a', 9505);
    assert.ok(taken.ok, JSON.stringify(taken));
    assert.equal((await entry(anon, '/own/a'))?.port, 9505);

    const help = await dpns(['release', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /release <name>/);
  } finally {
    anon.close();
    await other.close();
  }
});

test('the reservation ends on its own after --reservation-ms, and survives a restart', { timeout: 60_000 }, async () => {
  const HOLD_MS = 2500;
  let ns = await startServerProcess({ args: ['--client-heartbeat-ms', '200', '--reservation-ms', String(HOLD_MS), '--log-level', 'warn'] });
  const a = await owner(ns, '/own/b', 9511);
  let anon = await RpcSession.open(ns.url);
  await a.kill('SIGKILL');
  const lost = await waitState(anon, '/own/b', 'lost');
  const until = lost.reservation?.until ?? 0;
  assert.ok(until > Date.now() && until <= Date.now() + HOLD_MS);
  anon.close();
  // Durable: the hold is in the log, so a restarted server still keeps it.
  ns = await ns.restart({ args: ['--client-heartbeat-ms', '200', '--reservation-ms', String(HOLD_MS), '--log-level', 'warn'] });
  anon = await RpcSession.open(ns.url);
  try {
    assert.equal((await entry(anon, '/own/b'))?.reservation?.until, until);
    const refused = await advertise(anon, '/own/b', 9512);
    assert.ok(!refused.ok && refused.code === 'RESERVED', JSON.stringify(refused));
    // Waiting for the server's clock to pass `until` is the point of this test, not a guess.
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 50));
    const taken = await advertise(anon, '/own/b', 9513);
    assert.ok(taken.ok, JSON.stringify(taken));
  } finally {
    anon.close();
  }
});

test('--admin-prefix: only admins advertise under it; other names stay open', { timeout: 30_000 }, async () => {
  const ns = await startServerProcess({ args: ['--admin-prefix', '/prod/*', '--log-level', 'warn'], env: { DPNS_ADMIN_PREFIXES: '/ignored/*' } });
  const anon = await RpcSession.open(ns.url);
  const keyed = new DpnsClient({ servers: [ns.server] });
  const admin = await RpcSession.open(ns.url);
  await admin.login(ns.token);
  try {
    const refused = await advertise(anon, '/prod/db', 9521);
    assert.ok(!refused.ok && refused.code === 'FORBIDDEN', JSON.stringify(refused));
    assert.match(refused.message, /admin prefix \/prod\/\*/);
    await assert.rejects(keyed.advertise('/prod/db', '127.0.0.1', 9522), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
    assert.ok((await advertise(admin, '/prod/db', 9523)).ok);
    assert.ok((await advertise(anon, '/dev/db', 9524)).ok, 'outside the prefix anyone may');
    // The flag overrides the environment, as for every setting.
    assert.ok((await advertise(anon, '/ignored/x', 9525)).ok);
  } finally {
    anon.close();
    admin.close();
    await keyed.close();
  }
});
