// SHA-256 and HMAC-SHA256 for the proofs and tickets, from @noble/hashes (audited, no
// dependencies, pure JavaScript): node:crypto would keep the protocol out of the page, and
// WebCrypto's digest is async and exists only in secure contexts. crypto.test.ts holds both
// to node:crypto's answers.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** An HMAC-SHA256 implementation: the portable one below, or node:crypto's in a Node process (@dpns/node-kit/use-native-crypto). */
export type HmacSha256 = (key: Uint8Array, message: Uint8Array) => Uint8Array;

/** The portable implementation: ~0.1 ms a proof, ~1.4 ms the first in a process; node:crypto's ~0.01 and ~0.4. */
export const nobleHmacSha256: HmacSha256 = (key, message) => hmac(nobleSha256, key, message);

let currentHmac: HmacSha256 = nobleHmacSha256;

/** Makes every HMAC of this process use `impl`; the bytes are the same either way. */
export function useHmacSha256(impl: HmacSha256): void {
  currentHmac = impl;
}

/** HMAC-SHA256 of `message` under `key`. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return currentHmac(key, message);
}
