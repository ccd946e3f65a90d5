// The protocol's own SHA-256, HMAC, hex and Ed25519 against node:crypto's and tweetnacl's: the
// proofs moved off node:crypto so that the protocol runs in a page, and the bytes on the wire
// must not have moved with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ed25519 as noble } from '@noble/curves/ed25519.js';
import nacl from 'tweetnacl';
import { adminProof, checkAdminProof } from './admin-proof.js';
import { equalBytes, fromHex, fromUtf8, toHex, utf8 } from './bytes.js';
import { isWeakPublicKey, tweetnaclEd25519 } from './ed25519.js';
import { checkIdentify, identifySignature, ownerKeyFromSeed } from './proofs.js';
import { hmacSha256, sha256 } from './sha256.js';
import { checkTicketProof, newTicket, openWithTicket, sealWithTicket, ticketProof } from './tickets.js';

test('sha256 and hmacSha256 are node:crypto\'s for every length around the block edges', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000]) {
    const data = randomBytes(n);
    assert.equal(toHex(sha256(data)), createHash('sha256').update(data).digest('hex'), `sha256 of ${n} bytes`);
    for (const k of [0, 32, 64, 65, 100]) {
      const key = randomBytes(k);
      assert.equal(toHex(hmacSha256(key, data)), createHmac('sha256', key).update(data).digest('hex'), `hmac, ${k}-byte key, ${n} bytes`);
    }
  }
});

test('the admin and ticket proofs are the HMACs PROTOCOL.md gives, as node:crypto computes them', () => {
  const nonce = toHex(randomBytes(32));
  const token = 'a token with ünïcode';
  assert.equal(adminProof(token, nonce), createHmac('sha256', token).update(`dpns-login\n${nonce}`).digest('hex'));
  assert.ok(checkAdminProof(token, nonce, adminProof(token, nonce)));
  assert.ok(checkAdminProof(token, nonce, adminProof(token, nonce).toUpperCase()));
  assert.ok(!checkAdminProof(token, nonce, adminProof('other', nonce)));
  assert.ok(!checkAdminProof(token, nonce, `${adminProof(token, nonce)}00`));
  assert.ok(!checkAdminProof(token, nonce, 'not hex'));

  const ticket = newTicket();
  const proof = ticketProof(ticket, 'advertise', nonce, 'svc', 'host', 7000);
  assert.equal(proof, createHmac('sha256', Buffer.from(ticket, 'hex')).update(`dpns-advertise\n${nonce}\nsvc\nhost\n7000`).digest('hex'));
  assert.ok(checkTicketProof(ticket, proof, 'advertise', nonce, 'svc', 'host', 7000));
  assert.ok(!checkTicketProof(ticket, proof, 'challenge', nonce, 'svc', 'host', 7000));
  assert.ok(!checkTicketProof(ticket, proof.toUpperCase(), 'advertise', nonce, 'svc', 'host', 7000));
});

test('a sealed ticket opens under the key node:crypto derives, and not under another ticket', () => {
  const ticket = newTicket();
  const sealed = sealWithTicket(ticket, 'secret ✓');
  const key = createHmac('sha256', Buffer.from(ticket, 'hex')).update('dpns-wrap').digest();
  const opened = nacl.secretbox.open(Buffer.from(sealed.box, 'hex'), Buffer.from(sealed.nonce, 'hex'), key);
  assert.equal(opened === null ? null : Buffer.from(opened).toString('utf8'), 'secret ✓');
  assert.equal(openWithTicket(ticket, sealed), 'secret ✓');
  assert.equal(openWithTicket(newTicket(), sealed), undefined);
  assert.equal(openWithTicket(ticket, { ...sealed, nonce: 'zz' }), undefined);
});

test('identify signatures are tweetnacl\'s, and malformed ones are refused without throwing', () => {
  const key = ownerKeyFromSeed('11'.repeat(32));
  const nonce = 'ab'.repeat(32);
  const sig = identifySignature(key, nonce);
  assert.equal(sig, Buffer.from(nacl.sign.detached(Buffer.from(`dpns-identify\n${nonce}`), key.secretKey)).toString('hex'));
  assert.ok(checkIdentify(key.publicKey, nonce, sig));
  assert.ok(!checkIdentify(key.publicKey, 'cd'.repeat(32), sig));
  assert.ok(!checkIdentify(key.publicKey, nonce, sig.slice(2)));
  assert.ok(!checkIdentify(key.publicKey, nonce, 'xy'));
  assert.ok(!checkIdentify('00', nonce, sig));
  assert.ok(!tweetnaclEd25519.verify(new Uint8Array(1), new Uint8Array(63), new Uint8Array(32)));
  assert.ok(!tweetnaclEd25519.verify(new Uint8Array(1), new Uint8Array(64), new Uint8Array(31)));
});

test('hex and UTF-8 round-trip as Buffer spells them; bad hex is undefined', () => {
  const bytes = randomBytes(40);
  assert.equal(toHex(bytes), bytes.toString('hex'));
  assert.deepEqual(fromHex(bytes.toString('hex')), new Uint8Array(bytes));
  assert.deepEqual(fromHex('ABcd'), new Uint8Array([0xab, 0xcd]));
  for (const bad of ['a', 'zz', '0g', ' 00', '00 ']) assert.equal(fromHex(bad), undefined, bad);
  assert.deepEqual(fromHex(''), new Uint8Array(0));
  const text = 'dpns ✓ 名前';
  assert.deepEqual(utf8(text), new Uint8Array(Buffer.from(text, 'utf8')));
  assert.equal(fromUtf8(utf8(text)), text);
  assert.ok(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.ok(!equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])));
});

test('a key of small order verifies nothing, though the bare verifiers accept forgeries under it', () => {
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  const forged = new Uint8Array(64);
  forged[0] = 1;
  const message = utf8('dpns-identify\nany nonce');
  assert.ok(tweetnaclEd25519.verify(message, forged, identityPoint), 'the attack works on the bare verifier');
  assert.ok(isWeakPublicKey(identityPoint));
  assert.ok(isWeakPublicKey(new Uint8Array(32)), 'the all-zero key (order 4)');
  assert.ok(isWeakPublicKey(fromHex(`ec${'ff'.repeat(30)}7f`) ?? new Uint8Array()), 'y = -1 (order 2)');
  assert.ok(isWeakPublicKey(new Uint8Array(31)), 'the wrong length');
  assert.ok(!checkIdentify(toHex(identityPoint), 'any nonce', toHex(forged)), 'identify refuses it');
  const sound = ownerKeyFromSeed('22'.repeat(32));
  assert.ok(!isWeakPublicKey(fromHex(sound.publicKey) ?? new Uint8Array()));
  assert.ok(checkIdentify(sound.publicKey, 'n', identifySignature(sound, 'n')), 'a real key still verifies (twice: the second from the cache)');
  assert.ok(checkIdentify(sound.publicKey, 'n', identifySignature(sound, 'n')));
});

test('the small-order table covers every torsion point @noble/curves finds, in both signs, and no real key', () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const torsion = new Set<string>();
  for (let i = 0; torsion.size < 8 && i < 5000; i++) {
    let p;
    try {
      p = noble.Point.fromBytes(randomBytes(32), true);
    } catch {
      continue;
    }
    // p·L leaves only p's small-order part: one of the eight torsion points.
    torsion.add(toHex(p.multiplyUnsafe(L - 1n).add(p).toBytes()));
  }
  assert.equal(torsion.size, 8, 'all eight torsion points found');
  for (const hex of torsion) {
    const key = fromHex(hex) ?? new Uint8Array();
    assert.ok(noble.Point.fromBytes(key).isSmallOrder());
    assert.ok(isWeakPublicKey(key), hex);
    const flipped = Uint8Array.from(key);
    flipped[31] = (flipped[31] as number) ^ 0x80;
    assert.ok(isWeakPublicKey(flipped), `${hex} with the sign bit flipped`);
  }
  for (const nonCanonical of [`ed${'ff'.repeat(30)}7f`, `ee${'ff'.repeat(30)}7f`]) {
    assert.ok(isWeakPublicKey(fromHex(nonCanonical) ?? new Uint8Array()), `${nonCanonical} (y = p or p + 1, read as 0 or 1)`);
  }
  for (let i = 0; i < 500; i++) assert.ok(!isWeakPublicKey(nacl.sign.keyPair().publicKey), 'a generated key is sound');
});
