// Ed25519 signatures through Node's native crypto. The keys and signatures are exactly
// tweetnacl's (a 32-byte seed, a 32-byte public key, 64-byte detached signatures, and
// tweetnacl's 64-byte secret key is seed ‖ public key), but a sign or verify costs ~0.1 ms
// instead of tweetnacl's 10–20 ms, which is most of what a launch adds to a service's start-up.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Ed25519 } from '@dpns/protocol';

// DER prefixes that wrap a raw Ed25519 seed (PKCS#8) and public key (SPKI), per RFC 8410.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const privateKeys = new WeakMap<Uint8Array, KeyObject>();
const publicKeys = new Map<string, KeyObject>();
const PUBLIC_CACHE = 1024;

/** A detached signature by a tweetnacl-style 64-byte secret key. */
function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  let key = privateKeys.get(secretKey);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(secretKey.subarray(0, 32))]), format: 'der', type: 'pkcs8' });
    privateKeys.set(secretKey, key);
  }
  return new Uint8Array(sign(null, message, key));
}

/** Checks a detached signature; false for anything malformed. */
function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const hex = Buffer.from(publicKey).toString('hex');
  let key = publicKeys.get(hex);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey)]), format: 'der', type: 'spki' });
    } catch {
      return false;
    }
    if (publicKeys.size >= PUBLIC_CACHE) publicKeys.clear();
    publicKeys.set(hex, key);
  }
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * The key pair of a 32-byte seed, as the protocol's signingKeyFromSeed makes it (public key in
 * hex, tweetnacl's 64-byte secret key), through node:crypto: tweetnacl's derivation costs ~20 ms,
 * which every start of the name server paid before it could answer.
 */
export function nativeSigningKeyFromSeed(seed: Uint8Array): { publicKey: string; secretKey: Uint8Array } {
  if (seed.length !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seed)]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(pub, 32);
  return { publicKey: Buffer.from(pub).toString('hex'), secretKey };
}

/** The protocol's Ed25519 (see @dpns/protocol useEd25519) through node:crypto. */
export const nativeEd25519: Ed25519 = {
  sign: ed25519Sign,
  verify: ed25519Verify,
  keyPairFromSeed: (seed) => {
    const kp = nativeSigningKeyFromSeed(seed);
    return { publicKey: kp.secretKey.slice(32), secretKey: kp.secretKey };
  },
};
