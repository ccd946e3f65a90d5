// The admin login proof, exactly as packages/protocol/src/proofs.ts makes it:
// lowercase hex of HMAC-SHA256(key = UTF-8 of the token, message = "dpns-login\n" ‖ nonce).
import { hmacSha256 } from './sha256.js';

const LOGIN_CONTEXT = 'dpns-login\n';

/** What `login` takes as `proof` for `token` on a connection whose hello carried `nonce`. */
export async function adminProof(token: string, nonce: string): Promise<string> {
  const key = new TextEncoder().encode(token);
  const message = new TextEncoder().encode(LOGIN_CONTEXT + nonce);
  // WebCrypto exists only in secure contexts: https, or http on loopback. An operator opening
  // http://nameserver:7700/ from another machine has neither, so the page carries its own HMAC.
  const subtle = globalThis.crypto?.subtle as SubtleCrypto | undefined;
  if (subtle === undefined) return toHex(hmacSha256(key, message));
  const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return toHex(new Uint8Array(await subtle.sign('HMAC', k, message)));
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
