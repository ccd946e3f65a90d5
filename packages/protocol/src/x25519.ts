// The X25519 of nacl.box (an agent's key for each connection, a launch's sealed spec, a pair
// sealed to a client), with the scalar multiplication chosen by the process as ed25519.ts does for
// signatures: tweetnacl's costs ~0.6 ms, node:crypto's ~0.1 ms, and every launch does three.
// The box itself (XSalsa20-Poly1305) stays tweetnacl's: nacl.box is box.before then box.after,
// and box.before is HSalsa20 of the shared secret, which is what boxKey() computes.
import nacl from 'tweetnacl';

/** X25519 with nacl.box's key formats: 32-byte secret and public keys. */
export interface X25519 {
  /** A fresh key pair. */
  keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** The raw shared secret; undefined when there is none to have (a public key of small order gives all zeros). */
  sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined;
}

/** The portable implementation. */
export const tweetnaclX25519: X25519 = {
  keyPair: () => nacl.box.keyPair(),
  sharedSecret: (secretKey, publicKey) => {
    const s = nacl.scalarMult(secretKey, publicKey);
    return s.every((b) => b === 0) ? undefined : s;
  },
};

let current: X25519 = tweetnaclX25519;

/** Makes every box of this process use `impl`; the keys and boxes are the same bytes either way. */
export function useX25519(impl: X25519): void {
  current = impl;
}

/** A fresh X25519 key pair. */
export function boxKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  return current.keyPair();
}

// tweetnacl's own lowlevel export, which its type declarations leave out.
const lowlevel = (nacl as unknown as { lowlevel: { crypto_core_hsalsa20(out: Uint8Array, inp: Uint8Array, k: Uint8Array, c: Uint8Array): number } }).lowlevel;
const ZERO16 = new Uint8Array(16);
/** "expand 32-byte k", Salsa20's constant. */
const SIGMA = new Uint8Array([101, 120, 112, 97, 110, 100, 32, 51, 50, 45, 98, 121, 116, 101, 32, 107]);

/**
 * nacl.box.before(publicKey, secretKey): the key nacl.box.after and nacl.box.open.after take;
 * undefined for keys of the wrong length or a public key of small order.
 */
function boxKey(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | undefined {
  if (publicKey.length !== nacl.box.publicKeyLength || secretKey.length !== nacl.box.secretKeyLength) return undefined;
  const s = current.sharedSecret(secretKey, publicKey);
  if (s === undefined) return undefined;
  const k = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(k, ZERO16, s, SIGMA);
  return k;
}

/** nacl.box(message, nonce, publicKey, secretKey), through boxKey. */
export function box(message: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const k = boxKey(publicKey, secretKey);
  if (k === undefined) throw new TypeError('cannot seal to this public key: it is not a usable X25519 key');
  return nacl.box.after(message, nonce, k);
}

/** nacl.box.open(box, nonce, publicKey, secretKey), through boxKey; null when it does not open. */
export function boxOpen(sealed: Uint8Array, nonce: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
  const k = boxKey(publicKey, secretKey);
  return k === undefined ? null : nacl.box.open.after(sealed, nonce, k);
}
