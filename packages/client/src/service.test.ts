// The service helper over the wire, against a scripted name server: the cases a real one will
// not produce on demand (a server that cannot prove its half, a drop, server→client requests
// with bad params or unknown methods). The full flow with the real name server and launch
// agent is in e2e/src/service.test.ts.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  checkTicketProof, isDpnsError, newTicket, randomHex, sealWithTicket, ticketProof, type LaunchTicket,
} from '@dpns/protocol';
import { ClientPair } from './auth-pair.js';
import { FakeServer, type FakeConn, type FakeHandler } from './fake-server.test.helper.js';
import { DpnsService, type DpnsServiceOptions } from './service.js';

const NAME = '/demo/echo';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function launchTicket(servers: string[]): LaunchTicket {
  return { service: NAME, ticket: newTicket(), nameserverTicket: newTicket(), servers };
}

interface AdvertiseParams { name: string; host: string; port: number; proof?: string; nonce?: string }

/** A name server that checks the advertise proof and proves its own half (or, with `lie`, a wrong one). */
function ticketServer(t: LaunchTicket, opts: { lie?: boolean; conns?: FakeConn[] } = {}): FakeHandler {
  return (req, conn) => {
    switch (req.method) {
      case 'identify':
        conn.reply(req.id, { owner: req.params.publicKey });
        break;
      case 'advertiseService': {
        opts.conns?.push(conn);
        const p = req.params as unknown as AdvertiseParams;
        if (p.proof === undefined || p.nonce === undefined || !checkTicketProof(t.ticket, p.proof, 'advertise', conn.nonce, p.name, p.host, p.port)) {
          conn.fail(req.id, -32021, 'TICKET_REFUSED', `${p.name} needs its launch ticket's proof`);
          break;
        }
        const nameserverProof = opts.lie === true ? randomHex(32) : ticketProof(t.nameserverTicket, 'nameserver', conn.nonce, p.nonce, p.name);
        conn.reply(req.id, { revision: 1, nameserverProof });
        break;
      }
      case 'unadvertiseService':
        conn.reply(req.id, { revision: 2 });
        break;
      default:
    }
  };
}

async function fake(handler?: FakeHandler): Promise<FakeServer> {
  const f = await FakeServer.start(handler);
  cleanups.push(() => f.close());
  return f;
}

async function service(t: LaunchTicket, logs: string[] = [], more: Partial<DpnsServiceOptions> = {}): Promise<DpnsService> {
  const svc = await DpnsService.fromTicket(JSON.stringify(t), {
    host: '127.0.0.1', port: 4000, log: (l) => logs.push(l), client: { reconnect: { minDelayMs: 5, maxDelayMs: 20 } }, ...more,
  });
  cleanups.push(() => svc.close());
  return svc;
}

function advertises(f: FakeServer): AdvertiseParams[] {
  return f.requests.filter((r) => r.method === 'advertiseService').map((r) => r.params as unknown as AdvertiseParams);
}

test('advertises with the ticket proof, and again with a fresh proof over the new nonce after a drop', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  const conns: FakeConn[] = [];
  f.handler = ticketServer(t, { conns });
  const svc = await service(t);
  assert.equal(svc.name, NAME);
  const again = new Promise((resolve) => svc.advertisement.once('advertised', resolve));
  f.dropAll();
  await again;
  const ads = advertises(f);
  assert.equal(ads.length, 2);
  assert.equal(conns.length, 2);
  assert.notEqual(conns[0]?.nonce, conns[1]?.nonce);
  ads.forEach((p, i) => {
    assert.ok(checkTicketProof(t.ticket, p.proof ?? '', 'advertise', conns[i]?.nonce ?? '', NAME, '127.0.0.1', 4000), `advertisement ${i + 1}`);
  });
  assert.notEqual(ads[0]?.proof, ads[1]?.proof);
  assert.notEqual(ads[0]?.nonce, ads[1]?.nonce);
});

test('a name server that cannot prove its half is dropped and the next one is used', async () => {
  const bad = await fake();
  const good = await fake();
  const t = launchTicket([bad.server, good.server]);
  bad.handler = ticketServer(t, { lie: true });
  good.handler = ticketServer(t);
  const logs: string[] = [];
  const svc = await service(t, logs);
  assert.equal(advertises(bad).length, 1);
  assert.equal(advertises(good).length, 1);
  assert.equal(svc.client.server, good.server);
  assert.ok(logs.some((l) => /TICKET_REFUSED: not trusting the name server at 127\.0\.0\.1:\d+ for \/demo\/echo/.test(l)), logs.join('\n'));
});

test('when no name server proves its half, fromTicket fails with TICKET_REFUSED', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  f.handler = ticketServer(t, { lie: true });
  await assert.rejects(service(t), (e) => isDpnsError(e, 'TICKET_REFUSED') && e.message.includes('nameserverProof'));
});

test('a refused ticket is reported as the server said it', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  f.handler = ticketServer({ ...t, ticket: newTicket() });
  await assert.rejects(service(t), (e) => isDpnsError(e, 'TICKET_REFUSED') && e.message.includes('needs its launch ticket'));
});

test('server requests: ticket.challenge is answered with the proof; bad params, other names and unknown methods are refused', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  const conns: FakeConn[] = [];
  f.handler = ticketServer(t, { conns });
  await service(t);
  const conn = conns[0] as FakeConn;
  const challenge = randomHex(32);
  const ok = await conn.request('ticket.challenge', { name: NAME, challenge });
  assert.ok(checkTicketProof(t.ticket, String(ok.result?.proof), 'challenge', challenge, NAME));
  const code = async (method: string, params: unknown) => (await conn.request(method, params)).error?.data?.code;
  assert.equal(await code('ticket.challenge', { name: NAME }), 'INVALID_PARAMS');
  assert.equal(await code('ticket.challenge', { name: NAME, challenge: 'not hex' }), 'INVALID_PARAMS');
  assert.equal(await code('ticket.challenge', { name: '/other', challenge }), 'NOT_FOUND');
  assert.equal(await code('ticket.challenge', 'params'), 'INVALID_PARAMS');
  assert.equal(await code('something.else', {}), 'METHOD_NOT_FOUND');
  // The connection is still good after refusals.
  assert.ok((await conn.request('ticket.challenge', { name: NAME, challenge })).result !== undefined);
});

test('a ticket.pair lets the service verify the client and prove itself; a forged one is ignored', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  const conns: FakeConn[] = [];
  f.handler = ticketServer(t, { conns });
  const logs: string[] = [];
  const svc = await service(t, logs);
  const secret = { pairId: randomHex(16), clientTicket: newTicket(), serviceTicket: newTicket() };
  const client = ClientPair.fromSecret(secret, NAME);
  const waiting = svc.waitForPair(secret.pairId, 5000);
  conns[0]?.notify('ticket.pair', { name: NAME, pairId: secret.pairId, sealed: sealWithTicket(t.ticket, JSON.stringify(secret)) });
  assert.equal(await waiting, true);

  const serviceChallenge = randomHex(32);
  assert.ok(svc.verifyClient(secret.pairId, serviceChallenge, client.prove(serviceChallenge)));
  assert.ok(!svc.verifyClient(secret.pairId, randomHex(32), client.prove(serviceChallenge)));
  assert.ok(!svc.verifyClient('unknown', serviceChallenge, client.prove(serviceChallenge)));
  const clientChallenge = randomHex(32);
  assert.ok(client.checkService(clientChallenge, svc.prove(secret.pairId, clientChallenge)));
  assert.throws(() => svc.prove('unknown', clientChallenge), (e) => isDpnsError(e, 'NOT_FOUND'));

  const forged = { pairId: 'forged', clientTicket: newTicket(), serviceTicket: newTicket() };
  const reported = new Promise<void>((resolve) => svc.client.once('error', () => resolve()));
  conns[0]?.notify('ticket.pair', { name: NAME, pairId: 'forged', sealed: sealWithTicket(newTicket(), JSON.stringify(forged)) });
  await reported;
  assert.equal(await svc.waitForPair('forged', 50), false);
  assert.ok(logs.some((l) => l.includes('BAD_RESPONSE')), logs.join('\n'));
});

test('the ticket must be for the expected name; close unadvertises, twice is harmless', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  f.handler = ticketServer(t);
  await assert.rejects(service(t, [], { name: '/demo/other' }), (e) => isDpnsError(e, 'INVALID_PARAMS') && e.message.includes('/demo/other'));
  await assert.rejects(DpnsService.fromTicket('{}', { host: 'h', port: 1 }), (e) => isDpnsError(e, 'INVALID_PARAMS'));
  const svc = await service(t, [], { name: NAME });
  await Promise.all([svc.close(), svc.close()]);
  assert.equal(svc.state, 'closed');
  assert.equal(svc.client.state, 'closed');
  assert.deepEqual(f.requests.filter((r) => r.method === 'unadvertiseService').map((r) => r.params.name), [NAME]);
});

test('fromStdin reads the ticket line the launch agent writes, then advertises with it', async () => {
  const f = await fake();
  const t = launchTicket([f.server]);
  f.handler = ticketServer(t);
  const input = new PassThrough();
  input.end(`${JSON.stringify(t)}\n`);
  const svc = await DpnsService.fromStdin({ input, host: '127.0.0.1', port: 4000, log: () => undefined });
  cleanups.push(() => svc.close());
  assert.equal(advertises(f).length, 1);
  const none = new PassThrough();
  none.end();
  await assert.rejects(DpnsService.fromStdin({ input: none, host: '127.0.0.1', port: 4000 }), (e) => isDpnsError(e, 'INVALID_PARAMS') && /dpns-launchd/.test(e.message));
});
