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

/** HMAC-SHA256 of `message` under `key`. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, message);
}
