// DpnsClient against a REAL name server started in this process.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isDpnsError } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { startTestServer, type TestServer } from './nameserver.test.helper.js';

let ns: TestServer;
const clients: DpnsClient[] = [];
before(async () => {
  ns = await startTestServer();
});
after(async () => {
  await ns.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(opts: ConstructorParameters<typeof DpnsClient>[0] = {}): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], ...opts });
  clients.push(c);
  return c;
}

/** A port nothing listens on: bind one, then free it. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('connects lazily on the first call and answers ping', async () => {
  const c = client();
  assert.equal(c.state, 'idle');
  const r = await c.ping();
  assert.equal(c.state, 'open');
  assert.equal(r.server, ns.server);
  assert.equal(typeof r.revision, 'number');
  assert.ok(r.latencyMs >= 0);
});

test('admin writes and the reads that see them', async () => {
  const c = client({ token: ns.adminToken });
  await c.register.add('/t1/svc', { host: 'localhost', program: '/bin/true', args: ['-x'], env: { A: '1' } });
  await c.register.alias('/t1/a1', '/t1/svc');
  await c.register.alias('/t1/a2', '/t1/a1');
  await c.advertiseStatic('/t1/static', '127.0.0.1', 9000);
  assert.deepEqual(await c.listServices('/t1/*'), ['/t1/a1', '/t1/a2', '/t1/static', '/t1/svc']);
  assert.deepEqual(await c.listServices('/t1/a?'), ['/t1/a1', '/t1/a2']);
  assert.deepEqual(await c.findServices('/t1/static'), [{ name: '/t1/static', service: '/t1/static', host: '127.0.0.1', port: 9000 }]);
  const states = await c.serviceState('/t1/*');
  assert.deepEqual(states.map((e) => [e.name, e.kind]), [['/t1/a1', 'alias'], ['/t1/a2', 'alias'], ['/t1/static', 'service'], ['/t1/svc', 'service']]);
  const info = await c.register.info('/t1/a2');
  assert.equal(info.resolved, '/t1/svc');
  const edited = await c.register.edit('/t1/svc', { cwd: '/tmp' });
  assert.equal(edited.spec?.cwd, '/tmp');
  assert.deepEqual(edited.spec?.args, ['-x']);
  await assert.rejects(c.register.alias('/t1/svc2', '/t1/nope'), (e) => isDpnsError(e, 'NOT_FOUND'));
  await assert.rejects(c.register.delete('/t1/svc'), (e) => isDpnsError(e, 'IN_USE'));
  await c.unadvertiseService('/t1/static');
  assert.deepEqual(await c.listServices('/t1/static'), []);
});

test('an alias cycle is refused with ALIAS_CYCLE', async () => {
  const c = client({ token: ns.adminToken });
  await c.register.add('/t2/s', { host: 'localhost', program: '/bin/true' });
  await c.register.alias('/t2/a', '/t2/s');
  await c.register.alias('/t2/b', '/t2/a');
  // Re-pointing /t2/a at /t2/b would make a -> b -> a.
  await assert.rejects(c.register.alias('/t2/a', '/t2/b'), (e) => isDpnsError(e, 'ALIAS_CYCLE'));
  await assert.rejects(c.register.alias('/t2/s2', '/t2/s2'), (e) => isDpnsError(e, 'ALIAS_CYCLE'));
  assert.equal((await c.register.info('/t2/b')).resolved, '/t2/s');
});

test('admin calls without the token are UNAUTHORIZED; a wrong token says so', async () => {
  const anon = client();
  await assert.rejects(anon.register.add('/t3/x', { host: 'h', program: '/p' }), (e) => isDpnsError(e, 'UNAUTHORIZED'));
  await assert.rejects(anon.advertiseStatic('/t3/x', 'h', 1), (e) => isDpnsError(e, 'UNAUTHORIZED'));
  const wrong = client({ token: 'not-the-token' });
  const errors: string[] = [];
  wrong.on('error', (e) => errors.push(e.code));
  // Reads still work with a refused login.
  assert.deepEqual(await wrong.listServices('/t3/*'), []);
  await assert.rejects(wrong.register.info('/t3/x'), (e) => isDpnsError(e, 'UNAUTHORIZED') && /login with the given token was refused/.test(e.message));
  assert.deepEqual(errors, ['UNAUTHORIZED']);
});

test('bad names and patterns are refused locally, before connecting', async () => {
  const c = new DpnsClient({ servers: [`127.0.0.1:${await deadPort()}`] });
  clients.push(c);
  await assert.rejects(c.findServices('no-slash'), (e) => isDpnsError(e, 'INVALID_PATTERN') || isDpnsError(e, 'INVALID_NAME'));
  await assert.rejects(c.unadvertiseService('/a//b'), (e) => isDpnsError(e, 'INVALID_NAME'));
  await assert.rejects(c.listServices('[a'), (e) => isDpnsError(e, 'INVALID_PATTERN'));
  assert.throws(() => c.watch('[a'), (e) => isDpnsError(e, 'INVALID_PATTERN'));
  assert.equal(c.state, 'idle');
});

test('no server reachable: CONNECTION_LOST naming each server and its reason', async () => {
  const p1 = await deadPort();
  const p2 = await deadPort();
  const c = new DpnsClient({ servers: [`127.0.0.1:${p1}`, `127.0.0.1:${p2}`] });
  clients.push(c);
  await assert.rejects(c.connect(), (e) => {
    assert.ok(isDpnsError(e, 'CONNECTION_LOST'));
    assert.equal(e.message, `cannot reach any name server (tried 127.0.0.1:${p1}: ECONNREFUSED, 127.0.0.1:${p2}: ECONNREFUSED)`);
    return true;
  });
  assert.equal(c.state, 'idle');
  // The next call tries again (and fails again, the same way).
  await assert.rejects(c.ping(), (e) => isDpnsError(e, 'CONNECTION_LOST'));
});

test('the servers are tried in order: a dead first one is skipped', async () => {
  const c = new DpnsClient({ servers: [`127.0.0.1:${await deadPort()}`, ns.server] });
  clients.push(c);
  await c.connect();
  assert.equal(c.server, ns.server);
});

test('bad options are refused at construction', () => {
  assert.throws(() => new DpnsClient({ servers: ['host:99999'] }), (e) => isDpnsError(e, 'INVALID_PARAMS'));
  assert.throws(() => new DpnsClient({ requestTimeoutMs: -1 }), (e) => isDpnsError(e, 'INVALID_PARAMS'));
  assert.throws(() => new DpnsClient({ reconnect: { minDelayMs: 100, maxDelayMs: 10 } }), (e) => isDpnsError(e, 'INVALID_PARAMS'));
});

test('a read in flight survives a server restart (retried on the new connection)', async () => {
  const c = client({ reconnect: { minDelayMs: 10, maxDelayMs: 50 } });
  await c.connect();
  const reopened = new Promise((resolve) => c.once('open', resolve));
  ns = await ns.restart();
  await reopened;
  assert.equal(typeof (await c.ping()).revision, 'number');
});

test('a retry issued from the rejection of a failed first connection dials again', async () => {
  const c = new DpnsClient({ servers: [`127.0.0.1:${await deadPort()}`] });
  clients.push(c);
  const second = await c.ping().catch(() => c.ping().catch((e: unknown) => e));
  assert.ok(isDpnsError(second, 'CONNECTION_LOST'), String(second));
});
