// The Ed25519 signatures of the protocol (identify, enrollment, the agent's hello and requests),
// with the implementation chosen by the process. tweetnacl runs anywhere but costs 10–20 ms a
// signature on a busy host; node:crypto's costs ~0.1 ms, which is most of what a launch adds to
// a service's start-up. So the default is tweetnacl, and a Node process installs the native one
// (`@dpns/node-kit/use-native-ed25519`) without the protocol importing anything of Node's.
import nacl from 'tweetnacl';

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

/** Checks a detached signature; false for anything malformed. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return current.verify(message, signature, publicKey);
}
