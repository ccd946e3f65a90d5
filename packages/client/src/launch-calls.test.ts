// The launch calls' params, results and timeouts, against a scripted server (the real flows are
// in e2e/src/service.test.ts, with the real name server and launch agent).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, newTicket, sealTo } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { FakeServer, type FakeHandler } from './fake-server.test.helper.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(handler: FakeHandler, opts: ConstructorParameters<typeof DpnsClient>[0] = {}): Promise<{ fake: FakeServer; c: DpnsClient }> {
  const fake = await FakeServer.start(handler);
  cleanups.push(() => fake.close());
  const c = new DpnsClient({ servers: [fake.server], ...opts });
  cleanups.push(() => c.close());
  return { fake, c };
}

const here = { name: '/demo/echo', service: '/demo/echo', host: '127.0.0.1', port: 4000 };

test('find launches by default and not with launch: false; launch, kill and reset answer their shapes', async () => {
  const { fake, c } = await setup((req, conn) => {
    switch (req.method) {
      case 'findServices': conn.reply(req.id, { services: [here] }); break;
      case 'launchService': conn.reply(req.id, { service: here, launched: true }); break;
      case 'killService': conn.reply(req.id, { revision: 3, signal: 'SIGTERM', alreadyGone: false }); break;
      case 'resetService': conn.reply(req.id, { service: { ...here, port: 4001 } }); break;
      default:
    }
  });
  assert.deepEqual(await c.findServices('/demo/echo'), [here]);
  await c.findServices('/demo/echo', { launch: false });
  assert.deepEqual(fake.requests.filter((r) => r.method === 'findServices').map((r) => r.params.launch), [true, false]);
  assert.deepEqual(await c.launchService('/demo/echo'), { service: here, launched: true });
  assert.deepEqual(await c.killService('/demo/echo'), { revision: 3, signal: 'SIGTERM', alreadyGone: false });
  assert.equal((await c.resetService('/demo/echo')).port, 4001);
});

test('calls that may launch wait for launchTimeoutMs; the others for requestTimeoutMs', async () => {
  const { c } = await setup((req, conn) => {
    setTimeout(() => conn.reply(req.id, req.method === 'launchService' ? { service: here, launched: false } : { services: [here] }), 150);
  }, { requestTimeoutMs: 50, launchTimeoutMs: 2000 });
  assert.equal((await c.launchService('/demo/echo')).launched, false);
  assert.equal((await c.findServices('/demo/echo')).length, 1);
  await assert.rejects(c.findServices('/demo/echo', { launch: false }), (e) => isDpnsError(e, 'TIMEOUT') && e.message.includes('50 ms'));
});

test('a launch that fails keeps its code and cause', async () => {
  const { c } = await setup((req, conn) => {
    conn.ws.send(JSON.stringify({
      jsonrpc: '2.0', id: req.id,
      error: { code: -32020, message: '/demo/echo exited before advertising (exit code 1)', data: { code: 'LAUNCH_FAILED', cause: 'EXITED_EARLY' } },
    }));
  });
  await assert.rejects(c.launchService('/demo/echo'), (e) => isDpnsError(e, 'LAUNCH_FAILED') && e.details?.cause === 'EXITED_EARLY');
});

test('authenticateService sends a fresh box key each time and opens the pair sealed to it', async () => {
  const pair = { pairId: 'p1', clientTicket: newTicket(), serviceTicket: newTicket() };
  const { fake, c } = await setup((req, conn) => {
    const boxKey = String(req.params.boxKey);
    const sealed = req.params.name === '/tampered' ? sealTo(boxKey, 'garbage') : sealTo(boxKey, JSON.stringify(pair));
    conn.reply(req.id, { pairId: 'p1', service: '/demo/echo', sealed });
  });
  const p = await c.authenticateService('/demo/echo');
  assert.equal(p.pairId, 'p1');
  assert.equal(p.service, '/demo/echo');
  assert.deepEqual(p.exportSecret(), pair);
  await c.authenticateService('/demo/echo');
  const keys = fake.requests.map((r) => r.params.boxKey);
  assert.match(String(keys[0]), /^[0-9a-f]{64}$/);
  assert.notEqual(keys[0], keys[1]);
  await assert.rejects(c.authenticateService('/tampered'), (e) => isDpnsError(e, 'BAD_RESPONSE'));
});
