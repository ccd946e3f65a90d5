// advertise(): a service's own advertisement, kept across reconnects and server restarts.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, type ServiceView } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { startTestServer, type TestServer } from './nameserver.test.helper.js';

let ns: TestServer;
const clients: DpnsClient[] = [];
before(async () => {
  ns = await startTestServer({ clientHeartbeatMs: 100, graceMs: 5000 });
});
after(async () => {
  await ns.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], reconnect: { minDelayMs: 10, maxDelayMs: 100 } });
  clients.push(c);
  return c;
}

async function entry(c: DpnsClient, name: string): Promise<ServiceView | undefined> {
  const [e] = await c.serviceState(name);
  return e?.kind === 'service' ? e : undefined;
}

test('advertise makes the service running, owned by the client; close unadvertises it', async () => {
  const svc = client();
  const ad = await svc.advertise('/ad/one', '127.0.0.1', 7001);
  assert.equal(ad.state, 'advertised');
  const e = await entry(svc, '/ad/one');
  assert.equal(e?.state, 'running');
  assert.equal(e?.advertiser?.kind, 'session');
  assert.deepEqual(await client().findServices('/ad/one'), [{ name: '/ad/one', service: '/ad/one', host: '127.0.0.1', port: 7001 }]);
  await ad.close();
  await ad.close();
  assert.equal(ad.state, 'closed');
  assert.equal(await entry(svc, '/ad/one'), undefined);
});

test('the same name twice from one client is refused locally', async () => {
  const svc = client();
  await svc.advertise('/ad/twice', '127.0.0.1', 7002);
  await assert.rejects(svc.advertise('/ad/twice', '127.0.0.1', 7003), (e) => isDpnsError(e, 'ALREADY_EXISTS'));
});

test('another connection cannot advertise over a running advertisement', async () => {
  await client().advertise('/ad/taken', '127.0.0.1', 7004);
  await assert.rejects(client().advertise('/ad/taken', '127.0.0.1', 7005), (e) => isDpnsError(e, 'FORBIDDEN'));
});

test('a client that goes away without unadvertising leaves its entry lost', async () => {
  const svc = client();
  await svc.advertise('/ad/gone', '127.0.0.1', 7006);
  const observer = client();
  const w = observer.watch('/ad/gone');
  await w.ready;
  const lost = new Promise<void>((resolve) => w.on('event', (ev) => {
    if (ev.entry?.kind === 'service' && ev.entry.state === 'lost') resolve();
  }));
  await svc.close();
  await lost;
});

test('the advertisement comes back after a server restart', async () => {
  const svc = client();
  const ad = await svc.advertise('/ad/restart', '127.0.0.1', 7007);
  const again = new Promise((resolve) => ad.once('advertised', resolve));
  ns = await ns.restart();
  await again;
  assert.equal(ad.state, 'advertised');
  const e = await entry(client(), '/ad/restart');
  assert.equal(e?.state, 'running');
  assert.equal(e?.port, 7007);
  // And it can still be unadvertised by its owner from the new connection.
  await ad.close();
  assert.equal(await entry(client(), '/ad/restart'), undefined);
});

test('a load reported while the connection is down is sent once the name is advertised again', async () => {
  const svc = client();
  const ad = await svc.advertise('/ad/load', '127.0.0.1', 7008);
  await ad.reportLoad(3);
  assert.equal((await entry(svc, '/ad/load'))?.load, 3);
  let during: Promise<void> | undefined;
  // Detached before 'disconnect' is emitted: the value is kept, not sent.
  svc.once('disconnect', () => {
    assert.equal(ad.state, 'pending');
    during = ad.reportLoad(9);
  });
  const again = new Promise((resolve) => ad.once('advertised', resolve));
  ns = await ns.restart();
  await again;
  await during;
  // The initial events show it if it already arrived; a change event if it arrives later.
  await new Promise<void>((resolve) => {
    client().watch('/ad/load', { initial: true, onEvent: (ev) => {
      if (ev.entry?.kind === 'service' && ev.entry.load === 9) resolve();
    } });
  });
  await assert.rejects(ad.reportLoad(-1), (e) => isDpnsError(e, 'INVALID_PARAMS'));
  await ad.close();
  await assert.rejects(ad.reportLoad(1), (e) => isDpnsError(e, 'CLOSED'));
});
