// readFromBackups against scripted servers: reads and watches stay on a backup that serves
// reads, writes go to the primary over a second connection, and without the option (or on a
// backup that does not serve reads) everything goes to the primary.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerRole } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { FakeServer, type FakeConn, type FakeRequest } from './fake-server.test.helper.js';
import { isBackupRead } from './read-routing.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function answer(req: FakeRequest, conn: FakeConn): void {
  switch (req.method) {
    case 'listServices': conn.reply(req.id, { names: ['/a'] }); break;
    case 'ping': conn.reply(req.id, { revision: 1, time: 0 }); break;
    case 'findServices': conn.reply(req.id, { services: [] }); break;
    case 'watch': conn.reply(req.id, { watchId: `w${conn.n}`, revision: 1, entries: [] }); break;
    case 'identify': conn.reply(req.id, { owner: req.params.publicKey }); break;
    case 'advertiseService':
    case 'register.add': conn.reply(req.id, { revision: 1 }); break;
    default:
  }
}

/** A primary and a backup, in that SID order; `serves` says whether the backup serves reads. */
async function pair(serves: boolean): Promise<[FakeServer, FakeServer]> {
  const p = await FakeServer.start(answer);
  const b = await FakeServer.start(answer);
  cleanups.push(() => p.close(), () => b.close());
  const roles: ServerRole[] = ['primary', 'backup'];
  [p, b].forEach((f, sid) => {
    f.cluster = { sid, role: roles[sid] as ServerRole, epoch: 1, primary: p.url, servers: [p.url, b.url], readFromBackups: serves };
  });
  return [p, b];
}

function client(servers: FakeServer[], readFromBackups: boolean): DpnsClient {
  const c = new DpnsClient({ servers: servers.map((f) => f.server), readFromBackups, reconnect: { minDelayMs: 5, maxDelayMs: 20 } });
  cleanups.push(() => c.close());
  return c;
}

const methods = (f: FakeServer): string[] => f.requests.map((r) => r.method);

test('reads and watches go to a backup that serves reads; writes to the primary, dialed when first needed', async () => {
  const [p, b] = await pair(true);
  // The backup first: the client keeps it for reads.
  const c = client([b, p], true);
  assert.deepEqual(await c.listServices(), ['/a']);
  await c.findServices('/x/*');
  await c.findServices('/x', { launch: false });
  await c.watch('/x/*').ready;
  assert.equal(p.connections, 0, 'no connection to the primary before a write');
  await c.register.add('/x', { host: 'h', program: '/bin/true' });
  await c.findServices('/x');
  assert.equal((await c.ping()).server, b.server);
  assert.deepEqual(methods(b), ['listServices', 'findServices', 'findServices', 'watch', 'ping']);
  assert.deepEqual(methods(p), ['register.add', 'findServices']);
  assert.equal(c.server, b.server);
});

test('without the option, or when the backup does not serve reads, reads go to the primary', async () => {
  const [p, b] = await pair(true);
  const c = client([b, p], false);
  await c.listServices();
  assert.deepEqual(methods(b), []);
  assert.deepEqual(methods(p), ['listServices']);

  const [p2, b2] = await pair(false);
  const c2 = client([b2, p2], true);
  await c2.listServices();
  assert.deepEqual(methods(b2), []);
  assert.deepEqual(methods(p2), ['listServices']);
});

test('an advertisement rides the primary connection and a watch the reads one, each restored on its own', async () => {
  const [p, b] = await pair(true);
  const c = client([b, p], true);
  const w = c.watch('/x/*');
  await w.ready;
  await c.advertise('/x/svc', '127.0.0.1', 9000);
  const resubscribed = new Promise((resolve) => w.once('subscribed', resolve));
  b.dropAll();
  await resubscribed;
  // The reads connection moved on (to the next server that serves reads, here the primary); the
  // primary connection was not disturbed, so the advertisement was not made again.
  assert.deepEqual(p.methodsOn(1), ['identify', 'advertiseService']);
  assert.deepEqual(p.methodsOn(2), ['watch']);
  assert.deepEqual(methods(b), ['watch']);
});

test('isBackupRead: a find that may launch is not a read', () => {
  assert.equal(isBackupRead('findServices', { pattern: '/a', launch: true }), false);
  assert.equal(isBackupRead('findServices', { pattern: '/a', launch: false }), true);
  assert.equal(isBackupRead('findServices', { pattern: '/a/*', launch: true }), true);
  assert.equal(isBackupRead('register.add', {}), false);
  assert.equal(isBackupRead('watch', {}), true);
});
