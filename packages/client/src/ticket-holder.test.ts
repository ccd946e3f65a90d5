// The launched service's proofs, checked against the protocol's own functions: no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTicketProof, isDpnsError, newTicket, randomHex, sealWithTicket, ticketProof, type HelloParams, type LaunchTicket, type Params,
} from '@dpns/protocol';
import { isUntrustedServer, TicketHolder, type TicketConn } from './ticket-holder.js';

function conn(): TicketConn {
  const hello: HelloParams = { server: 'dpns', version: 't', protocol: 1, nonce: randomHex(32), heartbeatMs: 1000, maxFrameBytes: 1 << 20, revision: 0 };
  return { hello, endpoint: { label: 'ns1:7700', url: 'ws://ns1:7700' } };
}

function launchTicket(service = '/demo/echo'): LaunchTicket {
  return { service, ticket: newTicket(), nameserverTicket: newTicket(), servers: ['127.0.0.1:7700'] };
}

const AD = { name: '/demo/echo', host: '10.0.0.5', port: 4000 };

/** What an honest name server answers: it checks the proof and proves its own half. */
function honestServer(t: LaunchTicket, c: TicketConn) {
  return (p: Params<'advertiseService'>) => {
    assert.ok(p.proof !== undefined && p.nonce !== undefined);
    assert.ok(checkTicketProof(t.ticket, p.proof, 'advertise', c.hello.nonce, p.name, p.host, p.port), 'the advertise proof checks out');
    return Promise.resolve({ revision: 1, nameserverProof: ticketProof(t.nameserverTicket, 'nameserver', c.hello.nonce, p.nonce, p.name) });
  };
}

test('the advertisement carries ticketProof(ticket, advertise, hello.nonce, name, host, port) and a fresh nonce', async () => {
  const t = launchTicket();
  const h = new TicketHolder();
  h.hold(t);
  const c = conn();
  const sent: Params<'advertiseService'>[] = [];
  const send = honestServer(t, c);
  await h.advertise(c, AD, (p) => {
    sent.push(p);
    return send(p);
  });
  await h.advertise(c, AD, (p) => {
    sent.push(p);
    return send(p);
  });
  assert.equal(sent.length, 2);
  assert.equal(sent[0]?.static, false);
  assert.match(sent[0]?.nonce ?? '', /^[0-9a-f]{64}$/);
  assert.notEqual(sent[0]?.nonce, sent[1]?.nonce, 'each advertisement has its own nonce');
  // A proof made for another connection's nonce would not pass.
  assert.ok(!checkTicketProof(t.ticket, sent[0]?.proof ?? '', 'advertise', conn().hello.nonce, AD.name, AD.host, AD.port));
});

test('a name server that cannot prove its half is not trusted, and gets no challenge answers', async () => {
  const t = launchTicket();
  const h = new TicketHolder();
  h.hold(t);
  const c = conn();
  const wrongs: (string | undefined)[] = [undefined, 'f'.repeat(64), ticketProof(t.ticket, 'nameserver', c.hello.nonce, 'x', AD.name)];
  for (const nameserverProof of wrongs) {
    await assert.rejects(
      h.advertise(c, AD, () => Promise.resolve(nameserverProof === undefined ? { revision: 1 } : { revision: 1, nameserverProof })),
      (e) => isUntrustedServer(e) && e.code === 'TICKET_REFUSED' && e.message.includes('ns1:7700'),
    );
  }
  await assert.rejects(h.answerChallenge(c, { name: AD.name, challenge: randomHex(32) }), (e) => isDpnsError(e, 'UNAUTHORIZED'));
  // A server that refused the advertisement is not trusted either.
  const c2 = conn();
  await assert.rejects(h.advertise(c2, AD, () => Promise.reject(new Error('refused'))));
  await assert.rejects(h.answerChallenge(c2, { name: AD.name, challenge: randomHex(32) }), (e) => isDpnsError(e, 'UNAUTHORIZED'));
});

test('challenges are answered with ticketProof(ticket, challenge, challenge, name), only on a proven connection', async () => {
  const t = launchTicket();
  const h = new TicketHolder();
  h.hold(t);
  const c = conn();
  const challenge = randomHex(32);
  await assert.rejects(h.answerChallenge(c, { name: AD.name, challenge }), (e) => isDpnsError(e, 'UNAUTHORIZED'));
  await h.advertise(c, AD, honestServer(t, c));
  const { proof } = await h.answerChallenge(c, { name: AD.name, challenge });
  assert.ok(checkTicketProof(t.ticket, proof, 'challenge', challenge, AD.name));
  // Another connection to the same server is a new one: it has to be proven again.
  await assert.rejects(h.answerChallenge(conn(), { name: AD.name, challenge }), (e) => isDpnsError(e, 'UNAUTHORIZED'));
  await assert.rejects(h.answerChallenge(c, { name: '/other', challenge }), (e) => isDpnsError(e, 'NOT_FOUND'));
  for (const bad of [undefined, [], { name: AD.name }, { name: AD.name, challenge: 'XYZ' }, { name: AD.name, challenge: 'ab' }, { name: 'rel', challenge }]) {
    await assert.rejects(h.answerChallenge(c, bad), (e) => isDpnsError(e, 'INVALID_PARAMS') || isDpnsError(e, 'INVALID_NAME'), JSON.stringify(bad));
  }
});

test('a challenge racing the advertisement answer waits for the verdict', async () => {
  const t = launchTicket();
  const h = new TicketHolder();
  h.hold(t);
  const c = conn();
  let answer: (v: { revision: number; nameserverProof: string }) => void = () => undefined;
  let sentNonce = '';
  const advertised = h.advertise(c, AD, (p) => {
    sentNonce = p.nonce ?? '';
    return new Promise((resolve) => (answer = resolve));
  });
  const challenge = randomHex(32);
  const proof = h.answerChallenge(c, { name: AD.name, challenge });
  answer({ revision: 1, nameserverProof: ticketProof(t.nameserverTicket, 'nameserver', c.hello.nonce, sentNonce, AD.name) });
  await advertised;
  assert.ok(checkTicketProof(t.ticket, (await proof).proof, 'challenge', challenge, AD.name));
});

test('a ticket.pair opens with the ticket; a forged or foreign one is BAD_RESPONSE', () => {
  const t = launchTicket();
  const h = new TicketHolder();
  h.hold(t);
  const pair = { pairId: 'p-1', clientTicket: newTicket(), serviceTicket: newTicket() };
  assert.deepEqual(h.openPair({ name: AD.name, pairId: 'p-1', sealed: sealWithTicket(t.ticket, JSON.stringify(pair)) }), pair);
  const bad = (e: unknown) => isDpnsError(e, 'BAD_RESPONSE');
  assert.throws(() => h.openPair({ name: AD.name, pairId: 'p-1', sealed: sealWithTicket(newTicket(), JSON.stringify(pair)) }), bad);
  assert.throws(() => h.openPair({ name: AD.name, pairId: 'p-2', sealed: sealWithTicket(t.ticket, JSON.stringify(pair)) }), bad);
  assert.throws(() => h.openPair({ name: AD.name, pairId: 'p-1', sealed: sealWithTicket(t.ticket, '{"pairId":"p-1"}') }), bad);
  assert.throws(() => h.openPair({ name: '/other', pairId: 'p-1', sealed: sealWithTicket(t.ticket, JSON.stringify(pair)) }), bad);
  h.release(AD.name);
  assert.throws(() => h.openPair({ name: AD.name, pairId: 'p-1', sealed: sealWithTicket(t.ticket, JSON.stringify(pair)) }), bad);
});
