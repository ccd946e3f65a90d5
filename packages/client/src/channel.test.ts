// The connection machinery against a scripted server: timeouts, drops mid-request, retries of
// reads, CONNECTION_LOST for writes, session restore after a reconnect, malformed answers.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { FakeServer, type FakeHandler } from './fake-server.test.helper.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function setup(handler?: FakeHandler): Promise<FakeServer> {
  const fake = await FakeServer.start(handler);
  cleanups.push(() => fake.close());
  return fake;
}

function client(fake: FakeServer, opts: ConstructorParameters<typeof DpnsClient>[0] = {}): DpnsClient {
  const c = new DpnsClient({ servers: [fake.server], reconnect: { minDelayMs: 5, maxDelayMs: 20 }, ...opts });
  cleanups.push(() => c.close());
  return c;
}

test('a request nobody answers fails with TIMEOUT', async () => {
  const fake = await setup();
  const c = client(fake, { requestTimeoutMs: 100 });
  // Connected first: on a busy host the connection alone can take longer than the timeout.
  await c.connect();
  await assert.rejects(c.listServices(), (e) => isDpnsError(e, 'TIMEOUT'));
  assert.equal(c.state, 'open');
});

test('a read in flight when the connection drops is retried once on the next connection', async () => {
  const fake = await setup();
  fake.handler = (req, conn) => {
    if (req.method !== 'listServices') return;
    if (conn.n === 1) conn.drop();
    else conn.reply(req.id, { names: ['/a'] });
  };
  const c = client(fake);
  assert.deepEqual(await c.listServices(), ['/a']);
  assert.equal(fake.connections, 2);
});

test('a read dropped twice fails with CONNECTION_LOST', async () => {
  const fake = await setup((req, conn) => {
    if (req.method === 'serviceState') conn.drop();
  });
  const c = client(fake);
  await assert.rejects(c.serviceState(), (e) => isDpnsError(e, 'CONNECTION_LOST'));
});

test('a write in flight when the connection drops fails with CONNECTION_LOST and is not re-sent', async () => {
  const fake = await setup();
  fake.handler = (req, conn) => {
    if (req.method === 'advertiseService') conn.drop();
    if (req.method === 'ping') conn.reply(req.id, { revision: 0, time: 0 });
  };
  const c = client(fake);
  await assert.rejects(c.advertiseStatic('/a', '127.0.0.1', 80), (e) => {
    assert.ok(isDpnsError(e, 'CONNECTION_LOST'));
    assert.match(e.message, /may or may not have been applied/);
    return true;
  });
  // The client reconnects by itself; the write was sent exactly once.
  await c.ping();
  assert.equal(fake.requests.filter((r) => r.method === 'advertiseService').length, 1);
});

test('login and identify run again on every new connection, before queued requests', async () => {
  const fake = await setup();
  fake.handler = (req, conn) => {
    switch (req.method) {
      case 'login': conn.reply(req.id, { admin: true }); break;
      case 'identify': conn.reply(req.id, { owner: req.params.publicKey }); break;
      case 'advertiseService': conn.reply(req.id, { revision: 1 }); break;
      case 'ping':
        if (conn.n === 1) conn.drop();
        else conn.reply(req.id, { revision: 1, time: 0 });
        break;
      default:
    }
  };
  const c = client(fake, { token: 'secret' });
  const ad = await c.advertise('/svc/a', '127.0.0.1', 9000);
  const readvertised = new Promise((resolve) => ad.once('advertised', resolve));
  await c.ping();
  await readvertised;
  assert.deepEqual(fake.methodsOn(1), ['login', 'identify', 'advertiseService', 'ping']);
  assert.deepEqual(fake.methodsOn(2).slice(0, 2), ['login', 'identify']);
  assert.ok(fake.methodsOn(2).includes('advertiseService'));
  assert.ok(fake.methodsOn(2).includes('ping'));
  // Each login proves the token against that connection's own nonce.
  const proofs = fake.requests.filter((r) => r.method === 'login').map((r) => r.params.proof);
  assert.notEqual(proofs[0], proofs[1]);
});

test('an answer of the wrong shape is BAD_RESPONSE', async () => {
  const fake = await setup((req, conn) => conn.reply(req.id, { names: 'not-a-list' }));
  const c = client(fake);
  await assert.rejects(c.listServices(), (e) => isDpnsError(e, 'BAD_RESPONSE'));
});

test('wire errors keep their stable code', async () => {
  const fake = await setup();
  fake.handler = (req, conn) => conn.fail(req.id, -32004, 'NOT_FOUND', 'no service named /x');
  const c = client(fake);
  await assert.rejects(c.findServices('/x'), (e) => isDpnsError(e, 'NOT_FOUND') && e.message === 'no service named /x');
});

test('unknown notifications are ignored', async () => {
  const fake = await setup();
  fake.handler = (req, conn) => {
    conn.notify('something.new', { x: 1 });
    conn.reply(req.id, { revision: 3, time: 0 });
  };
  const c = client(fake);
  assert.equal((await c.ping()).revision, 3);
});

test('close rejects pending requests with CLOSED, twice is harmless, calls after it fail', async () => {
  const fake = await setup();
  const c = client(fake);
  await c.connect();
  const pending = assert.rejects(c.listServices(), (e) => isDpnsError(e, 'CLOSED'));
  await Promise.all([c.close(), c.close()]);
  await pending;
  await assert.rejects(c.ping(), (e) => isDpnsError(e, 'CLOSED'));
  assert.equal(c.state, 'closed');
});

test('after a drop the client reconnects by itself and reports the state changes', async () => {
  const fake = await setup();
  fake.handler = (req, conn) => {
    if (req.method === 'ping') conn.reply(req.id, { revision: conn.n, time: 0 });
    if (req.method === 'listServices') conn.drop();
  };
  const c = client(fake);
  const states: string[] = [];
  c.on('state', (s) => states.push(s));
  const disconnects: string[] = [];
  c.on('disconnect', (e) => disconnects.push(e.code));
  assert.equal((await c.ping()).revision, 1);
  const reopened = new Promise((resolve) => c.once('open', resolve));
  await assert.rejects(c.listServices(), (e) => isDpnsError(e, 'CONNECTION_LOST'));
  await reopened;
  assert.equal((await c.ping()).revision, 3);
  assert.deepEqual(states, ['connecting', 'open', 'connecting', 'open', 'connecting', 'open']);
  assert.deepEqual(disconnects, ['CONNECTION_LOST', 'CONNECTION_LOST']);
});
