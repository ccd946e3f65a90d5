// The Ed25519 signatures of the protocol (identify, enrollment, the agent's hello and requests),
// with the implementation chosen by the process. tweetnacl runs anywhere but costs 10–20 ms a
// signature on a busy host; node:crypto's costs ~0.1 ms, which is most of what a launch adds to
// a service's start-up. So the default is tweetnacl, and a Node process installs the native one
// (`@dpns/node-kit/use-native-ed25519`) without the protocol importing anything of Node's.
import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js';
import nacl from 'tweetnacl';
import { toHex } from './bytes.js';

/** Detached Ed25519 with tweetnacl's key formats: a 64-byte secret key (seed ‖ public key), 32-byte public keys, 64-byte signatures. */
export interface Ed25519 {
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** False for anything malformed; never throws. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}

/** The portable implementation. */
export const tweetnaclEd25519: Ed25519 = {
  sign: (message, secretKey) => nacl.sign.detached(message, secretKey),
  verify: (message, signature, publicKey) =>
    signature.length === nacl.sign.signatureLength && publicKey.length === nacl.sign.publicKeyLength
    && nacl.sign.detached.verify(message, signature, publicKey),
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

/** Checks a detached signature; false for anything malformed, and for a key of small order. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return !isWeakPublicKey(publicKey) && current.verify(message, signature, publicKey);
}

/** Keys already found sound, so that a busy agent or server decodes each point once. */
const soundKeys = new Set<string>();
const MAX_SOUND_KEYS = 4096;

/**
 * Whether `publicKey` cannot prove anything: not a canonical encoding of a curve point, or one of
 * the eight points of small order. Neither tweetnacl nor node:crypto refuses those, and with one
 * a "signature" needs no secret: for the identity point, R = identity and S = 0 verify for every
 * message; for the all-zero key, zero bytes verify about one message in five.
 */
export function isWeakPublicKey(publicKey: Uint8Array): boolean {
  return publicKeyProblem(publicKey) !== undefined;
}

/** Why `publicKey` is weak (isWeakPublicKey), or undefined for a sound key. */
export function publicKeyProblem(publicKey: Uint8Array): 'wrong length' | 'not a curve point' | 'small order' | undefined {
  if (publicKey.length !== 32) return 'wrong length';
  const hex = toHex(publicKey);
  if (soundKeys.has(hex)) return undefined;
  let problem: 'not a curve point' | 'small order' | undefined;
  try {
    problem = nobleEd25519.Point.fromBytes(publicKey).isSmallOrder() ? 'small order' : undefined;
  } catch {
    problem = 'not a curve point';
  }
  if (problem === undefined) {
    if (soundKeys.size >= MAX_SOUND_KEYS) soundKeys.clear();
    soundKeys.add(hex);
  }
  return problem;
}
