import { test } from 'node:test';
import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { agent, ed25519InUse, tweetnaclEd25519 } from '@dpns/protocol';
import { nativeEd25519, nativeSigningKeyFromSeed } from './native-ed25519.js';

const { sign: ed25519Sign, verify: ed25519Verify } = nativeEd25519;

test('native signatures are byte for byte tweetnacl\'s, and each side verifies the other', () => {
  for (let i = 0; i < 20; i++) {
    const kp = nacl.sign.keyPair();
    const msg = nacl.randomBytes(i * 7);
    const ours = ed25519Sign(msg, kp.secretKey);
    assert.deepEqual(Buffer.from(ours), Buffer.from(nacl.sign.detached(msg, kp.secretKey)));
    assert.ok(ed25519Verify(msg, nacl.sign.detached(msg, kp.secretKey), kp.publicKey));
    assert.ok(nacl.sign.detached.verify(msg, ours, kp.publicKey));
  }
});

test('a wrong message, key or signature does not verify, and garbage does not throw', () => {
  const kp = nacl.sign.keyPair();
  const other = nacl.sign.keyPair();
  const msg = Buffer.from('dpns-agent-request\n{}');
  const sig = ed25519Sign(msg, kp.secretKey);
  assert.ok(!ed25519Verify(Buffer.from('dpns-agent-request\n{ }'), sig, kp.publicKey));
  assert.ok(!ed25519Verify(msg, sig, other.publicKey));
  const flipped = new Uint8Array(sig);
  flipped[5] = (flipped[5] as number) ^ 1;
  assert.ok(!ed25519Verify(msg, flipped, kp.publicKey));
  assert.ok(!ed25519Verify(msg, sig.subarray(0, 63), kp.publicKey));
  assert.ok(!ed25519Verify(msg, sig, new Uint8Array(31)));
});

// Imported late on purpose: the first assertion sees the protocol before it.
test('importing use-native-crypto makes the protocol sign with node:crypto', async () => {
  assert.equal(ed25519InUse(), tweetnaclEd25519);
  await import('./use-native-crypto.js');
  assert.equal(ed25519InUse(), nativeEd25519);
});

test('a key pair from a seed is byte for byte the protocol\'s (tweetnacl\'s); a seed of another length is refused', () => {
  for (let i = 0; i < 20; i++) {
    const seed = nacl.randomBytes(32);
    const ours = nativeSigningKeyFromSeed(seed);
    const theirs = nacl.sign.keyPair.fromSeed(seed);
    assert.equal(ours.publicKey, Buffer.from(theirs.publicKey).toString('hex'));
    assert.deepEqual(Buffer.from(ours.secretKey), Buffer.from(theirs.secretKey));
    // The same through the protocol's pluggable Ed25519, native and portable.
    const pair = nativeEd25519.keyPairFromSeed(seed);
    assert.deepEqual(Buffer.from(pair.publicKey), Buffer.from(theirs.publicKey));
    assert.deepEqual(Buffer.from(pair.secretKey), Buffer.from(theirs.secretKey));
    assert.deepEqual(Buffer.from(tweetnaclEd25519.keyPairFromSeed(seed).secretKey), Buffer.from(theirs.secretKey));
    assert.equal(agent.signingKeyFromSeed(seed).publicKey, ours.publicKey);
  }
  assert.throws(() => nativeSigningKeyFromSeed(new Uint8Array(31)), RangeError);
});
