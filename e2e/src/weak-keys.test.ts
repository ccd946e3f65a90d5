// Ed25519 keys of small order sign nothing: with the identity point as the public key, R = identity
// and S = 0 "verify" for every message, in tweetnacl and in node:crypto alike. The name server must
// not let such a key identify (it would own names nobody needs a secret to claim), and a forged
// signature must not pass whatever the nonce. Tried against the real server over a real socket.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcSession, startServerProcess, teardown } from './harness/index.js';

after(teardown);

const IDENTITY_POINT = `01${'00'.repeat(31)}`;
const FORGED = `01${'00'.repeat(63)}`;

test('identify with a key of small order is refused, even with the signature such a key accepts for any nonce', { timeout: 30_000 }, async () => {
  const ns = await startServerProcess();
  for (const [publicKey, signature] of [[IDENTITY_POINT, FORGED], ['00'.repeat(32), '00'.repeat(64)], [`ec${'ff'.repeat(30)}7f`, FORGED]] as const) {
    // Several connections: the all-zero key's forgery passes a plain verifier for about one nonce in five.
    for (let i = 0; i < 5; i++) {
      const s = await RpcSession.open(ns.url);
      try {
        const a = await s.call('identify', { publicKey, signature });
        assert.ok(!a.ok && a.code === 'UNAUTHORIZED', `${publicKey}: ${JSON.stringify(a)}`);
      } finally {
        s.close();
      }
    }
  }
});
