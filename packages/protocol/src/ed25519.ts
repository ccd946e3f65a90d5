// The Ed25519 signatures of the protocol (identify, enrollment, the agent's hello and requests),
// with the implementation chosen by the process. tweetnacl runs anywhere but costs 10–20 ms a
// signature on a busy host; node:crypto's costs ~0.1 ms, which is most of what a launch adds to
// a service's start-up. So the default is tweetnacl, and a Node process installs the native one
// (`@dpns/node-kit/use-native-crypto`) without the protocol importing anything of Node's.
import nacl from 'tweetnacl';

/** Detached Ed25519 with tweetnacl's key formats: a 64-byte secret key (seed ‖ public key), 32-byte public keys, 64-byte signatures. */
export interface Ed25519 {
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** False for anything malformed; never throws. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  /** The key pair of a 32-byte seed (tweetnacl's derivation costs ~5 ms; a launched service makes one before it can advertise). */
  keyPairFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
}

/** The portable implementation. */
export const tweetnaclEd25519: Ed25519 = {
  sign: (message, secretKey) => nacl.sign.detached(message, secretKey),
  verify: (message, signature, publicKey) =>
    signature.length === nacl.sign.signatureLength && publicKey.length === nacl.sign.publicKeyLength
    && nacl.sign.detached.verify(message, signature, publicKey),
  keyPairFromSeed: (seed) => nacl.sign.keyPair.fromSeed(seed),
};

let current: Ed25519 = tweetnaclEd25519;

/** Makes every signature of this process use `impl`; the keys and signatures are the same bytes either way. */
export function useEd25519(impl: Ed25519): void {
  current = impl;
}

/** The implementation in use: for a test that checks a process installed the one it meant to. */
export function ed25519InUse(): Ed25519 {
  return current;
}

/** A detached signature by a 64-byte secret key. */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return current.sign(message, secretKey);
}

/** The key pair of a 32-byte seed: tweetnacl's formats (a 64-byte secret key, seed ‖ public key). */
export function ed25519KeyPairFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (seed.length !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  return current.keyPairFromSeed(seed);
}

/** Checks a detached signature; false for anything malformed, and for a key of small order. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return !isWeakPublicKey(publicKey) && current.verify(message, signature, publicKey);
}

/**
 * The y-coordinates (little-endian, sign bit clear) of the eight points of small order, and the
 * two non-canonical encodings y = p and y = p + 1 that decoders read as y = 0 and y = 1: 0, 1,
 * p - 1, the two of order 8, p, p + 1. With the sign bit ignored they cover every encoding of a
 * small-order point, as libsodium's blocklist does (crypto.test.ts holds it to @noble/curves'
 * own torsion points). A table, not a point decoder: a curve library costs every process 50 ms
 * at start, and the check runs on every signature.
 */
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16)));

/**
 * Whether `publicKey` cannot prove anything: the wrong length, or a point of small order (in any
 * encoding). Neither tweetnacl nor node:crypto refuses those, and with one a "signature" needs no
 * secret: for the identity point, R = identity and S = 0 verify for every message; for the
 * all-zero key, zero bytes verify about one message in five.
 */
export function isWeakPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return true;
  return SMALL_ORDER_Y.some((y) => {
    for (let i = 0; i < 31; i++) if (publicKey[i] !== y[i]) return false;
    return ((publicKey[31] as number) & 0x7f) === y[31];
  });
}
