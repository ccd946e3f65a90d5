// X25519 and HMAC-SHA256 through Node's native crypto, for the protocol's pluggable ones
// (@dpns/protocol useX25519, useHmacSha256). The keys, shared secrets and MACs are exactly those of
// tweetnacl and @noble/hashes; a scalar multiplication costs ~0.1 ms instead of ~0.6 ms, an HMAC
// ~0.01 ms instead of ~0.1 ms (and the first in a process ~0.4 ms instead of ~1.4 ms).
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, randomBytes } from 'node:crypto';
import type { HmacSha256, X25519 } from '@dpns/protocol';

// DER prefixes that wrap a raw X25519 private key (PKCS#8) and public key (SPKI), per RFC 8410.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function privateKey(secretKey: Uint8Array) {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(secretKey)]), format: 'der', type: 'pkcs8' });
}

export const nativeX25519: X25519 = {
  keyPair() {
    const secretKey = new Uint8Array(randomBytes(32));
    const publicKey = new Uint8Array(createPublicKey(privateKey(secretKey)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
    return { publicKey, secretKey };
  },
  sharedSecret(secretKey, publicKey) {
    if (secretKey.length !== 32 || publicKey.length !== 32) return undefined;
    try {
      const pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey)]), format: 'der', type: 'spki' });
      return new Uint8Array(diffieHellman({ privateKey: privateKey(secretKey), publicKey: pub }));
    } catch {
      // OpenSSL refuses a public key of small order (an all-zero result), as the portable one does.
      return undefined;
    }
  },
};

export const nativeHmacSha256: HmacSha256 = (key, message) => new Uint8Array(createHmac('sha256', key).update(message).digest());
