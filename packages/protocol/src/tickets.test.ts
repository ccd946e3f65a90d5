// Tickets: the proofs and seals of docs/PROTOCOL.md §11.1, pinned by its test vectors (§11.6),
// and what each check and open refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { checkTicketProof, newTicket, openSealed, openWithTicket, sealTo, sealWithTicket, TICKET_BYTES, ticketProof } from './tickets.js';

const TS = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const TN = '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f';
const N = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const M = 'ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100';
const C = '0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000';
const PAIR = '64a01d569862a3e5bd3e957e5b775d46';
const ADVERTISE = 'cff96e439b61c3be7789bb163b3d6864f75572558d179605d0ddca5a6269206f';

test('test vectors: a ticket proof for each purpose', () => {
  assert.equal(ticketProof(TS, 'advertise', N, '/demo/echo', '10.0.0.5', 7007), ADVERTISE);
  assert.equal(ticketProof(TN, 'nameserver', N, M, '/demo/echo'), '370f9380141f4f8cd69f400739359ef22b17c8ce395444f1fecc3eb376191a40');
  assert.equal(ticketProof(TS, 'challenge', C, '/demo/echo'), '48fa7f0efa011f5207fb87125423d926e3663528d0a539535d3b6c67bc031dfc');
  assert.equal(ticketProof(TS, 'pair-client', PAIR, C), '09c356d8d9a7484076dd085159d3493f68d730063900b57e82c8ee2d65b8850e');
  assert.equal(ticketProof(TN, 'pair-service', PAIR, C), 'f523c97f2c25a45539a1e8b0546f9f171aec91956c520ce70f04db1d6cdfabe0');
});

test('a ticket proof passes only for its ticket, purpose and parts, and only as 64 lowercase hex digits', () => {
  const parts = [N, '/demo/echo', '10.0.0.5', 7007] as const;
  assert.ok(checkTicketProof(TS, ADVERTISE, 'advertise', ...parts));
  assert.ok(!checkTicketProof(TN, ADVERTISE, 'advertise', ...parts));
  assert.ok(!checkTicketProof(TS, ADVERTISE, 'challenge', ...parts));
  assert.ok(!checkTicketProof(TS, ADVERTISE, 'advertise', N, '/demo/echo', '10.0.0.5', 7008));
  for (const bad of [ADVERTISE.toUpperCase(), ADVERTISE.slice(0, 62), `${ADVERTISE}00`, `${ADVERTISE}\n`, ` ${ADVERTISE.slice(1)}`, '']) {
    assert.ok(!checkTicketProof(TS, bad, 'advertise', ...parts), JSON.stringify(bad));
  }
});

test('test vector: opening what was sealed under a ticket', () => {
  const sealed = { nonce: '808182838485868788898a8b8c8d8e8f9091929394959697', box: 'b581663aaa5c542334554b3ed8229689cd3bd8cdcbaf305d1f4b3d' };
  assert.equal(openWithTicket(TS, sealed), 'hello, dpns');
  assert.equal(openWithTicket(TN, sealed), undefined, 'another ticket');
  assert.equal(openWithTicket(TS, { ...sealed, box: sealed.box.replace('b5', 'b4') }), undefined, 'tampered');
});

test('test vector: opening what was sealed to a public key', () => {
  const secretKey = Buffer.from('404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f', 'hex');
  const sealed = {
    from: '675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f',
    nonce: '808182838485868788898a8b8c8d8e8f9091929394959697',
    box: '8e399c959a2e8e10491f55ec99e5267ea55ba01ac82ea7178c3ef1',
  };
  assert.equal(openSealed(sealed, secretKey), 'hello, dpns');
  assert.equal(openSealed(sealed, nacl.box.keyPair().secretKey), undefined, 'another key');
  assert.equal(openSealed({ nonce: sealed.nonce, box: sealed.box }, secretKey), undefined, 'no sender key: sealed under a ticket, not to a key');
});

test('seals round-trip with fresh randomness each time, and keep their text from anyone else', () => {
  const ticket = newTicket();
  const text = 'ticket line: ünïcode too';
  const a = sealWithTicket(ticket, text);
  const b = sealWithTicket(ticket, text);
  assert.equal(a.from, undefined);
  assert.match(a.nonce, /^[0-9a-f]{48}$/);
  assert.notEqual(a.nonce, b.nonce);
  assert.equal(openWithTicket(ticket, a), text);
  assert.equal(openWithTicket(newTicket(), a), undefined);

  const kp = nacl.box.keyPair();
  const to = Buffer.from(kp.publicKey).toString('hex');
  const s = sealTo(to, text);
  const t = sealTo(to, text);
  assert.match(s.from ?? '', /^[0-9a-f]{64}$/);
  assert.notEqual(s.from, t.from, 'a fresh ephemeral key per seal');
  assert.notEqual(s.nonce, t.nonce);
  assert.equal(openSealed(s, kp.secretKey), text);
  assert.equal(openSealed(s, nacl.box.keyPair().secretKey), undefined);
});

test('a new ticket is 32 fresh random bytes as lowercase hex', () => {
  assert.equal(TICKET_BYTES, 32);
  const t = newTicket();
  assert.match(t, /^[0-9a-f]{64}$/);
  assert.notEqual(t, newTicket());
});
