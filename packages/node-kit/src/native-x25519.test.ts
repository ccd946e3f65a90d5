import { test } from 'node:test';
import assert from 'node:assert/strict';
import nacl from 'tweetnacl';
import { nobleHmacSha256, openSealed, sealTo, tweetnaclX25519, useX25519 } from '@dpns/protocol';
import { nativeHmacSha256, nativeX25519 } from './native-x25519.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('native X25519 keys and shared secrets are byte for byte tweetnacl\'s', () => {
  for (let i = 0; i < 20; i++) {
    const a = nativeX25519.keyPair();
    assert.equal(hex(nacl.box.keyPair.fromSecretKey(a.secretKey).publicKey), hex(a.publicKey));
    const b = nacl.box.keyPair();
    const ours = nativeX25519.sharedSecret(a.secretKey, b.publicKey);
    assert.ok(ours !== undefined);
    assert.equal(hex(ours), hex(nacl.scalarMult(a.secretKey, b.publicKey)));
    assert.equal(hex(ours), hex(tweetnaclX25519.sharedSecret(a.secretKey, b.publicKey) ?? new Uint8Array()));
  }
});

test('a public key of small order, or of the wrong length, gives no shared secret either way', () => {
  const sk = nacl.box.keyPair().secretKey;
  for (const pk of [new Uint8Array(32), Uint8Array.from([1, ...new Uint8Array(31)]), new Uint8Array(31)]) {
    assert.equal(nativeX25519.sharedSecret(sk, pk), undefined);
    if (pk.length === 32) assert.equal(tweetnaclX25519.sharedSecret(sk, pk), undefined);
  }
  // And nothing can be sealed to one.
  assert.throws(() => sealTo('00'.repeat(32), 'secret'), /not a usable X25519 key/);
});

test('what one implementation seals the other opens, and nacl.box itself agrees', () => {
  const kp = nacl.box.keyPair();
  try {
    useX25519(nativeX25519);
    const sealed = sealTo(hex(kp.publicKey), 'hello');
    useX25519(tweetnaclX25519);
    assert.equal(openSealed(sealed, kp.secretKey), 'hello');
    const raw = nacl.box.open(Buffer.from(sealed.box, 'hex'), Buffer.from(sealed.nonce, 'hex'), Buffer.from(sealed.from as string, 'hex'), kp.secretKey);
    assert.equal(Buffer.from(raw ?? []).toString(), 'hello');
    const back = sealTo(hex(kp.publicKey), 'again');
    useX25519(nativeX25519);
    assert.equal(openSealed(back, kp.secretKey), 'again');
    assert.equal(openSealed({ ...back, box: back.box.replace(/^../, (x) => (x === '00' ? '01' : '00')) }, kp.secretKey), undefined);
  } finally {
    useX25519(tweetnaclX25519);
  }
});

test('native HMAC-SHA256 is @noble/hashes\' byte for byte', () => {
  for (let i = 0; i < 20; i++) {
    const key = nacl.randomBytes(1 + i * 7);
    const msg = nacl.randomBytes(i * 31);
    assert.equal(hex(nativeHmacSha256(key, msg)), hex(nobleHmacSha256(key, msg)));
  }
});
