// Imported for its effect: from here on, @dpns/protocol signs and verifies with node:crypto, ~150
// times faster than its portable tweetnacl (see packages/protocol/src/ed25519.ts). Each module
// of a Node package that signs or verifies imports it, so no entry point can forget it.
import { useEd25519 } from '@dpns/protocol';
import { nativeEd25519 } from './native-ed25519.js';

useEd25519(nativeEd25519);
