// The admin token proven without sending it: `login` carries an HMAC of the connection's nonce
// under the token. Imports only pure code, so the monitor page bundles this file as it is.
import { equalBytes, fromHex, toHex, utf8 } from './bytes.js';
import { hmacSha256 } from './sha256.js';

const LOGIN_CONTEXT = 'dpns-login\n';

/** What a client sends to `login`: HMAC-SHA256(key = UTF-8 of the token, context ‖ nonce), hex. */
export function adminProof(token: string, nonce: string): string {
  return toHex(loginMac(token, nonce));
}

/** Constant-time check of a `login` proof. */
export function checkAdminProof(token: string, nonce: string, proof: string): boolean {
  const got = fromHex(proof);
  return got !== undefined && equalBytes(got, loginMac(token, nonce));
}

function loginMac(token: string, nonce: string): Uint8Array {
  return hmacSha256(utf8(token), utf8(LOGIN_CONTEXT + nonce));
}
