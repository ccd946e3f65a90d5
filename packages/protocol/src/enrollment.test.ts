// Join tokens and the enrollment proof: the byte constructions of docs/PROTOCOL.md §17.10,
// pinned by a test vector (checked with Python's hmac), and what a proof is bound to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signingKeyFromSeed, newSigningKey } from './agent.js';
import { checkEnrollProof, enrollParams, joinKey, newJoinToken, parseJoinToken } from './enrollment.js';
import { isDpnsError } from './errors.js';

const identity = signingKeyFromSeed(new Uint8Array(Buffer.from('0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20', 'hex')));
const NONCE = 'ab'.repeat(32);

test('test vector: the stored key and the proof', () => {
  const secret = '23'.repeat(32);
  assert.equal(joinKey(secret), '259c4e7b5a86d314557b597ec1997d0fb0cb2be0ef3b317088719209a48850cb');
  const p = enrollParams({ secret, tokenId: '01'.repeat(8), host: 'web-1', nonce: NONCE, identity });
  assert.equal(p.identity, '79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664');
  assert.equal(p.proof, '349a7e8751d4b71a98e825ada790ee0caeb84cecbb37b2327e5d4b33d8edd03c');
  assert.deepEqual(checkEnrollProof(joinKey(secret), NONCE, p), { proof: true, signature: true });
});

test('a proof holds only for its nonce, token, host and identity; the secret is not in it', () => {
  const t = newJoinToken();
  const { id, secret } = parseJoinToken(t.token);
  assert.equal(id, t.id);
  assert.equal(t.key, joinKey(secret));
  const p = enrollParams({ secret, tokenId: id, host: 'web-1', nonce: NONCE, identity });
  assert.ok(!JSON.stringify(p).includes(secret));
  assert.deepEqual(checkEnrollProof(t.key, NONCE, p), { proof: true, signature: true });
  assert.equal(checkEnrollProof(t.key, 'cd'.repeat(32), p).proof, false, 'another connection');
  assert.equal(checkEnrollProof(t.key, NONCE, { ...p, host: 'web-2' }).proof, false, 'another host');
  assert.equal(checkEnrollProof(t.key, NONCE, { ...p, tokenId: '02'.repeat(8) }).proof, false, 'another token');
  assert.equal(checkEnrollProof(newJoinToken().key, NONCE, p).proof, false, 'another secret');
  const other = newSigningKey();
  const forged = { ...p, identity: other.publicKey };
  assert.equal(checkEnrollProof(t.key, NONCE, forged).signature, false, 'a key the caller does not hold');
});

test('a malformed token is INVALID_PARAMS saying what a token looks like', () => {
  for (const bad of ['', 'abc', `${'0'.repeat(16)}${'1'.repeat(64)}`, `${'0'.repeat(16)}.${'1'.repeat(63)}`, `${'G'.repeat(16)}.${'1'.repeat(64)}`]) {
    assert.throws(() => parseJoinToken(bad), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS') && /16 hex digits, a dot and 64 hex digits/.test(e.message), bad);
  }
});
