// The client library's promises that need real processes: an advertiser that dies leaves
// `running` as soon as its socket closes; an advertisement and a watch survive a server kill -9.
// (An advertiser that stops answering without closing its socket is heartbeat.test.ts.)
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { DpnsClient, type ServiceView, type Watch, type WatchEvent } from '@dpns/client';
import { RpcSession, spawnFixture, startServerProcess, teardown, type FixtureProcess, type ServerProcess } from './harness/index.js';

const HEARTBEAT_MS = 200;
const GRACE_MS = 300;
const SERVER_ARGS = ['--client-heartbeat-ms', String(HEARTBEAT_MS), '--grace-ms', String(GRACE_MS), '--log-level', 'warn'];

let ns: ServerProcess;
const clients: DpnsClient[] = [];
before(async () => {
  ns = await startServerProcess({ args: SERVER_ARGS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
after(async () => {
  await teardown();
});

function client(): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], token: ns.token, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

async function advertiser(name: string, port: number): Promise<FixtureProcess> {
  const fx = spawnFixture('advertiser', [ns.server, name, '127.0.0.1', String(port)]);
  await fx.stdout.waitFor(`advertised ${name}`);
  return fx;
}

async function entry(c: DpnsClient, name: string): Promise<ServiceView | undefined> {
  const [e] = await c.serviceState(name);
  return e?.kind === 'service' ? e : undefined;
}

/** Resolves with the first event of `w` that satisfies `pred`. */
function eventWhere(w: Watch, pred: (ev: WatchEvent) => boolean): Promise<WatchEvent> {
  return new Promise((resolve) => {
    const off = w.on('event', (ev) => {
      if (pred(ev)) {
        off();
        resolve(ev);
      }
    });
  });
}

const leftRunning = (name: string) => (ev: WatchEvent): boolean =>
  ev.name === name && (ev.type === 'delete' || (ev.entry?.kind === 'service' && ev.entry.state !== 'running'));

test('an advertised service is running; SIGKILL of its process closes its socket, and it leaves running without waiting for a heartbeat', async () => {
  const name = '/e2e/killed';
  const fx = await advertiser(name, 9401);
  const c = client();
  const e = await entry(c, name);
  assert.equal(e?.state, 'running');
  assert.equal(e?.advertiser?.kind, 'session');
  assert.ok(e?.advertiser?.kind === 'session' && e.advertiser.owner !== undefined, 'the advertiser identified with an owner key');

  const w = c.watch(name);
  await w.ready;
  const left = eventWhere(w, leftRunning(name));
  const t0 = Date.now();
  await fx.kill('SIGKILL');
  const ev = await left;
  const ms = Date.now() - t0;
  assert.equal(ev.entry?.kind === 'service' && ev.entry.state, 'lost');
  // The kernel closed the socket (a FIN, or a reset if a ping was unread): the connection ended, no beat was missed.
  const reason = ev.entry?.kind === 'service' ? ev.entry.reason ?? '' : '';
  assert.match(reason, /^its advertiser went away: (its connection closed|connection error: )/);
  assert.ok(ms <= 2 * HEARTBEAT_MS, `left running after ${ms} ms`);
  assert.deepEqual(await c.findServices('/e2e/killed*'), []);
});

test('advertise survives kill -9 of the server: running again once the client reconnects', async () => {
  const name = '/e2e/survivor';
  const fx = await advertiser(name, 9403);
  // A control that does not come back (a raw connection never reconnects): it leaves running when the grace period ends.
  const gone = await RpcSession.open(ns.url);
  const advertised = await gone.call('advertiseService', { name: '/e2e/gone', host: '127.0.0.1', port: 9405 });
  assert.ok(advertised.ok);
  const from = fx.stdout.lines.length;
  ns = await ns.restart();
  await fx.stdout.waitFor(`re-advertised ${name}`, 10_000, from);
  const c = client();
  const e = await entry(c, name);
  assert.equal(e?.state, 'running');
  assert.equal(e?.port, 9403);
  // Running because it was re-advertised, not only because of the restart's grace period:
  // once the grace is over (the control is lost) and two more heartbeats have passed, it is
  // still running, and no event said otherwise.
  const w = c.watch(name);
  await w.ready;
  const changes: WatchEvent[] = [];
  w.on('event', (ev) => changes.push(ev));
  const beats = await RpcSession.open(ns.url);
  const t0 = Date.now();
  while ((await entry(c, '/e2e/gone'))?.state !== 'lost') {
    assert.ok(Date.now() - t0 < GRACE_MS + 5000, 'the control was never lost: did the grace period end?');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Three pings: two whole heartbeats.
  for (let i = 0; i < 3; i++) await once(beats.ws, 'ping', { signal: AbortSignal.timeout(4 * HEARTBEAT_MS) });
  beats.close();
  assert.equal((await entry(c, name))?.state, 'running');
  assert.deepEqual(changes, []);
  // And it still belongs to the advertiser: SIGTERM makes it unadvertise itself.
  await fx.kill('SIGTERM');
  assert.equal(await entry(c, name), undefined);
});

test('a watch sees events again after kill -9 and restart of the server', async () => {
  const c = client();
  const w = c.watch('/e2e/w/*');
  await w.ready;
  const resynced = new Promise((resolve) => w.once('resync', resolve));
  ns = await ns.restart();
  await resynced;
  const seen = eventWhere(w, (ev) => ev.name === '/e2e/w/after');
  const writer = client();
  await writer.advertiseStatic('/e2e/w/after', '127.0.0.1', 9404);
  const ev = await seen;
  assert.equal(ev.type, 'put');
  assert.equal(ev.source, 'change');
});

test('a watch re-syncs what changed while it was disconnected', async () => {
  const admin = client();
  await admin.advertiseStatic('/e2e/rs/stays', '127.0.0.1', 9501);
  await admin.advertiseStatic('/e2e/rs/goes', '127.0.0.1', 9502);
  const watcher = client();
  const w = watcher.watch('/e2e/rs/*', { initial: true });
  await w.ready;
  const events: WatchEvent[] = [];
  w.on('event', (ev) => events.push(ev));
  const resynced = new Promise((resolve) => w.once('resync', resolve));
  // Kill the server and, before the watcher is back, change the registry from a fresh server on the same data.
  await ns.kill('SIGKILL');
  const paused = await startServerProcess({ dataDir: ns.dataDir, args: SERVER_ARGS });
  const side = new DpnsClient({ servers: [paused.server], token: paused.token });
  await side.unadvertiseService('/e2e/rs/goes');
  await side.advertiseStatic('/e2e/rs/new', '127.0.0.1', 9503);
  await side.close();
  await paused.stop();
  ns = await startServerProcess({ dataDir: ns.dataDir, port: ns.port, args: SERVER_ARGS });
  await resynced;
  assert.deepEqual(events.map((e) => `${e.source} ${e.type} ${e.name}`), ['resync delete /e2e/rs/goes', 'resync put /e2e/rs/new']);
  assert.deepEqual(w.entries().map((e) => e.name).sort(), ['/e2e/rs/new', '/e2e/rs/stays']);
});
