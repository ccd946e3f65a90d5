// The admin proof and the owner key: the byte constructions of docs/PROTOCOL.md §4, pinned by its
// test vectors (§4.3), and what each check refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminProof, checkAdminProof } from './admin-proof.js';
import { checkIdentify, identifySignature, newOwnerKey, ownerKeyFromSeed } from './proofs.js';
import { randomHex } from './random.js';
import { isDpnsError } from './errors.js';

const TOKEN = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const NONCE = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const LOGIN_PROOF = 'cf65d12340831c848d1138f26767a3d2ca6b09154d4a4dc522ac4abdbe0bfe70';
const SEED = '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20';
const PUBLIC = '79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664';
const SIGNATURE = '6f0971adac401c0b7b9e1b64b5e964cd35c41221f65030ad2f8cfcc8d0ba7e51b90d4ea35a08b2ab1f91d88012334233727785bc661cbaa5829b0dbded90e50a';

test('test vector: the login proof', () => {
  assert.equal(adminProof(TOKEN, NONCE), LOGIN_PROOF);
  assert.ok(checkAdminProof(TOKEN, NONCE, LOGIN_PROOF));
});

test('a login proof for another token or nonce, cut short, or not hex does not pass', () => {
  assert.ok(!checkAdminProof(TOKEN.replace('0', '1'), NONCE, LOGIN_PROOF));
  assert.ok(!checkAdminProof(TOKEN, NONCE.replace('0', '1'), LOGIN_PROOF));
  assert.ok(!checkAdminProof(TOKEN, NONCE, LOGIN_PROOF.slice(0, 62)));
  assert.ok(!checkAdminProof(TOKEN, NONCE, `${LOGIN_PROOF}00`));
  assert.ok(!checkAdminProof(TOKEN, NONCE, ''));
  assert.ok(!checkAdminProof(TOKEN, NONCE, 'zz'.repeat(32)));
});

test('test vector: the identify signature, from the seed', () => {
  const key = ownerKeyFromSeed(SEED);
  assert.equal(key.publicKey, PUBLIC);
  assert.equal(identifySignature(key, NONCE), SIGNATURE);
  assert.ok(checkIdentify(PUBLIC, NONCE, SIGNATURE));
});

test('an identify signature passes only for its key and nonce', () => {
  const other = newOwnerKey();
  assert.match(other.publicKey, /^[0-9a-f]{64}$/);
  assert.notEqual(other.publicKey, PUBLIC);
  assert.ok(checkIdentify(other.publicKey, NONCE, identifySignature(other, NONCE)));
  assert.ok(!checkIdentify(other.publicKey, NONCE, SIGNATURE));
  assert.ok(!checkIdentify(PUBLIC, NONCE.replace('0', '1'), SIGNATURE));
  assert.ok(!checkIdentify(PUBLIC, NONCE, SIGNATURE.slice(0, 126)));
  assert.ok(!checkIdentify('', NONCE, SIGNATURE));
});

test('a seed is exactly 64 lowercase hex digits; the same seed is the same key', () => {
  assert.equal(ownerKeyFromSeed(SEED).publicKey, ownerKeyFromSeed(SEED).publicKey);
  assert.deepEqual(ownerKeyFromSeed(SEED).secretKey, ownerKeyFromSeed(SEED).secretKey);
  for (const bad of [SEED.toUpperCase(), SEED.slice(2), `${SEED}00`, `x${SEED.slice(1)}`, ` ${SEED}`, `${SEED}\n`]) {
    assert.throws(() => ownerKeyFromSeed(bad), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS') && e.message === 'an owner key seed is 64 lowercase hex digits', JSON.stringify(bad));
  }
});

test('randomHex: fresh lowercase hex of the size asked, 32 bytes unless told', () => {
  assert.match(randomHex(), /^[0-9a-f]{64}$/);
  assert.match(randomHex(4), /^[0-9a-f]{8}$/);
  assert.notEqual(randomHex(), randomHex());
});
