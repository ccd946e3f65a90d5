// Proofs of a secret without sending it: the admin token as an HMAC over the
// connection's nonce, and an owner key as an Ed25519 signature over it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import nacl from 'tweetnacl';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { DpnsError } from './errors.js';

const LOGIN_CONTEXT = 'dpns-login\n';
const IDENTIFY_CONTEXT = 'dpns-identify\n';

/** A fresh random value, hex, for nonces and tokens. Never derived from the clock. */
export function randomHex(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

/** What a client sends to `login`: HMAC-SHA256(token, context ‖ nonce), hex. */
export function adminProof(token: string, nonce: string): string {
  return createHmac('sha256', token).update(LOGIN_CONTEXT).update(nonce).digest('hex');
}

/** Constant-time check of a `login` proof. */
export function checkAdminProof(token: string, nonce: string, proof: string): boolean {
  const want = Buffer.from(adminProof(token, nonce), 'hex');
  const got = Buffer.from(proof, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A key pair that owns advertisements across reconnects. */
export interface OwnerKey {
  publicKey: string;
  secretKey: Uint8Array;
}

export function newOwnerKey(): OwnerKey {
  const kp = nacl.sign.keyPair();
  return { publicKey: Buffer.from(kp.publicKey).toString('hex'), secretKey: kp.secretKey };
}

/**
 * The owner key made from a 32-byte seed (64 hex digits): a process that keeps its seed (in a
 * file of mode 0600) proves the same key after it restarts, and so takes back a name reserved
 * for it (PROTOCOL.md §9.6).
 */
export function ownerKeyFromSeed(seedHex: string): OwnerKey {
  if (!/^[0-9a-f]{64}$/.test(seedHex)) throw new DpnsError('INVALID_PARAMS', 'an owner key seed is 64 lowercase hex digits');
  const kp = nacl.sign.keyPair.fromSeed(Buffer.from(seedHex, 'hex'));
  return { publicKey: Buffer.from(kp.publicKey).toString('hex'), secretKey: kp.secretKey };
}

/** The `identify` signature for a nonce. */
export function identifySignature(key: OwnerKey, nonce: string): string {
  const msg = Buffer.from(IDENTIFY_CONTEXT + nonce, 'utf8');
  return Buffer.from(ed25519Sign(msg, key.secretKey)).toString('hex');
}

/** Checks an `identify` signature. */
export function checkIdentify(publicKey: string, nonce: string, signature: string): boolean {
  const msg = Buffer.from(IDENTIFY_CONTEXT + nonce, 'utf8');
  return ed25519Verify(msg, Buffer.from(signature, 'hex'), Buffer.from(publicKey, 'hex'));
}
