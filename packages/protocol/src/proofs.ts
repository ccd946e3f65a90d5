// An owner key proven without sending it: `identify` carries an Ed25519 signature over the
// connection's nonce. (The admin token's proof is in admin-proof.ts.)
import nacl from 'tweetnacl';
import { fromHex, toHex, utf8 } from './bytes.js';
import { ed25519KeyPairFromSeed, ed25519Sign, ed25519Verify } from './ed25519.js';
import { DpnsError } from './errors.js';

const IDENTIFY_CONTEXT = 'dpns-identify\n';

/** A key pair that owns advertisements across reconnects. */
export interface OwnerKey {
  publicKey: string;
  secretKey: Uint8Array;
}

export function newOwnerKey(): OwnerKey {
  const kp = ed25519KeyPairFromSeed(nacl.randomBytes(32));
  return { publicKey: toHex(kp.publicKey), secretKey: kp.secretKey };
}

/**
 * The owner key made from a 32-byte seed (64 hex digits): a process that keeps its seed (in a
 * file of mode 0600) proves the same key after it restarts, and so takes back a name reserved
 * for it (PROTOCOL.md §9.6).
 */
export function ownerKeyFromSeed(seedHex: string): OwnerKey {
  const seed = /^[0-9a-f]{64}$/.test(seedHex) ? fromHex(seedHex) : undefined;
  if (seed === undefined) throw new DpnsError('INVALID_PARAMS', 'an owner key seed is 64 lowercase hex digits');
  const kp = ed25519KeyPairFromSeed(seed);
  return { publicKey: toHex(kp.publicKey), secretKey: kp.secretKey };
}

/** The `identify` signature for a nonce. */
export function identifySignature(key: OwnerKey, nonce: string): string {
  return toHex(ed25519Sign(utf8(IDENTIFY_CONTEXT + nonce), key.secretKey));
}

/** Checks an `identify` signature. */
export function checkIdentify(publicKey: string, nonce: string, signature: string): boolean {
  const sig = fromHex(signature);
  const key = fromHex(publicKey);
  return sig !== undefined && key !== undefined && ed25519Verify(utf8(IDENTIFY_CONTEXT + nonce), sig, key);
}
