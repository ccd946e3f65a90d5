// Imported for its effect: from here on, @dpns/protocol signs, verifies, seals and MACs with
// node:crypto, many times faster than its portable tweetnacl and @noble/hashes (see
// packages/protocol/src/ed25519.ts, x25519.ts, sha256.ts); the bytes are the same either way.
// Each module of a Node package that uses the protocol's crypto imports it, so no entry point
// can forget it.
import { useEd25519, useHmacSha256, useX25519 } from '@dpns/protocol';
import { nativeEd25519 } from './native-ed25519.js';
import { nativeHmacSha256, nativeX25519 } from './native-x25519.js';

useEd25519(nativeEd25519);
useX25519(nativeX25519);
useHmacSha256(nativeHmacSha256);
