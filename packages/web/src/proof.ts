// The admin login proof, exactly as packages/protocol/src/proofs.ts makes it:
// lowercase hex of HMAC-SHA256(key = UTF-8 of the token, message = "dpns-login\n" ‖ nonce).
// WebCrypto exists only in secure contexts (https, or http on loopback), and an operator opening
// http://nameserver:7700/ from another machine has neither, so the page computes the HMAC with
// @noble/hashes (audited, no dependencies) in every context: one code path, whatever the page's origin.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

const LOGIN_CONTEXT = 'dpns-login\n';

/** What `login` takes as `proof` for `token` on a connection whose hello carried `nonce`. */
export function adminProof(token: string, nonce: string): Promise<string> {
  return Promise.resolve(bytesToHex(hmac(sha256, utf8ToBytes(token), utf8ToBytes(LOGIN_CONTEXT + nonce))));
}
