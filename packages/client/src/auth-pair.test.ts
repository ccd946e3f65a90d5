// The client's half of authenticateService against the protocol's sealing and proof functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTicketProof, isDpnsError, newTicket, randomHex, sealTo, ticketProof } from '@dpns/protocol';
import { ClientPair, newBoxKeyPair } from './auth-pair.js';

const pair = { pairId: 'pair-7', clientTicket: newTicket(), serviceTicket: newTicket() };

test('the node:crypto X25519 key opens what the protocol seals to it (nacl.box)', () => {
  const key = newBoxKeyPair();
  assert.match(key.publicKey, /^[0-9a-f]{64}$/);
  assert.equal(key.secretKey.length, 32);
  const p = ClientPair.open({ pairId: 'pair-7', service: '/demo/echo', sealed: sealTo(key.publicKey, JSON.stringify(pair)) }, key);
  assert.equal(p.pairId, 'pair-7');
  assert.equal(p.service, '/demo/echo');
  assert.deepEqual(p.exportSecret(), pair);
});

test('a pair sealed to another key, or naming another pair, is BAD_RESPONSE', () => {
  const key = newBoxKeyPair();
  const bad = (e: unknown) => isDpnsError(e, 'BAD_RESPONSE');
  assert.throws(() => ClientPair.open({ pairId: 'pair-7', service: '/s', sealed: sealTo(newBoxKeyPair().publicKey, JSON.stringify(pair)) }, key), bad);
  assert.throws(() => ClientPair.open({ pairId: 'pair-8', service: '/s', sealed: sealTo(key.publicKey, JSON.stringify(pair)) }, key), bad);
  assert.throws(() => ClientPair.open({ pairId: 'pair-7', service: '/s', sealed: sealTo(key.publicKey, 'not json') }, key), bad);
});

test('the client proves with its ticket and checks the service with the other', () => {
  const p = ClientPair.fromSecret(JSON.stringify(pair), '/demo/echo');
  const challenge = randomHex(32);
  assert.ok(checkTicketProof(pair.clientTicket, p.prove(challenge), 'pair-client', pair.pairId, challenge));
  assert.ok(p.checkService(challenge, ticketProof(pair.serviceTicket, 'pair-service', pair.pairId, challenge)));
  // Each proof is bound to its purpose, its pair and its challenge.
  assert.ok(!p.checkService(challenge, ticketProof(pair.serviceTicket, 'pair-client', pair.pairId, challenge)));
  assert.ok(!p.checkService(challenge, ticketProof(pair.clientTicket, 'pair-service', pair.pairId, challenge)));
  assert.ok(!p.checkService(randomHex(32), ticketProof(pair.serviceTicket, 'pair-service', pair.pairId, challenge)));
  assert.ok(!p.checkService(challenge, 'nothex'));
  assert.deepEqual(ClientPair.fromSecret(pair, '/demo/echo').exportSecret(), pair);
  assert.throws(() => ClientPair.fromSecret('{"pairId":"x","clientTicket":"00"}', '/s'), (e) => isDpnsError(e, 'BAD_RESPONSE'));
});
