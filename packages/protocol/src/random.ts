// Fresh random values for nonces, tokens and ids, from tweetnacl's source: the platform's CSPRNG
// (crypto.getRandomValues in a page, node:crypto in Node). Never derived from the clock.
import nacl from 'tweetnacl';
import { toHex } from './bytes.js';

/** `bytes` random bytes as hex. */
export function randomHex(bytes = 32): string {
  return toHex(nacl.randomBytes(bytes));
}
