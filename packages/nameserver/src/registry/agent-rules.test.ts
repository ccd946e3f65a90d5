// The enrollment rules as pure functions: tokens made, pruned, spent once; proofs checked; the
// records replayed from the log and carried in a snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent as A, agentFingerprint, enrollParams, isDpnsError, parseJoinToken } from '@dpns/protocol';
import { MAX_JOIN_TOKENS, enrolled, planEnroll, planJoinToken, planRevoke, planTrust } from './agent-rules.js';
import { Registry } from './registry.js';

const NONCE = 'ab'.repeat(32);

/** Sealing happens in the handler; the plan does not use the key. */
const BOX_KEY = 'ab'.repeat(32);

function withToken(reg: Registry, now: number, ttlMs = 60_000, host?: string): { token: string } {
  const { ops, result } = planJoinToken(reg, { ttlMs, boxKey: BOX_KEY, ...(host === undefined ? {} : { host }) }, now);
  reg.apply(ops, reg.revision + 1);
  return { token: result.token };
}

function params(token: string, host = 'web-1', identity = A.newSigningKey(), nonce = NONCE) {
  const { id, secret } = parseJoinToken(token);
  return enrollParams({ secret, tokenId: id, host, nonce, identity });
}

test('a join token stores only a key derived from its secret, and enrolls one agent once', () => {
  const reg = new Registry();
  const { token } = withToken(reg, 1000);
  const stored = reg.joinTokens()[0];
  assert.ok(stored !== undefined);
  assert.ok(!JSON.stringify(reg.snapshot()).includes(token.split('.')[1] as string), 'the secret is not in the registry');
  const p = params(token);
  const ops = planEnroll(reg, p, NONCE, 2000);
  reg.apply(ops, reg.revision + 1);
  assert.deepEqual(reg.agentOf('web-1'), { host: 'web-1', key: p.identity, at: 2000, how: 'join' });
  assert.throws(() => planEnroll(reg, params(token), NONCE, 2001), (e: unknown) => isDpnsError(e, 'UNAUTHORIZED') && e.details?.cause === 'TOKEN_UNKNOWN');
});

test('a wrong secret, another nonce, an expired token, another host, a forged signature are refused', () => {
  const reg = new Registry();
  const { token } = withToken(reg, 1000, 60_000, 'web-1');
  const id = token.split('.')[0] as string;
  const cause = (c: string) => (e: unknown) => isDpnsError(e) && e.details?.cause === c;
  assert.throws(() => planEnroll(reg, params(`${id}.${'0'.repeat(64)}`), NONCE, 2000), cause('BAD_PROOF'));
  assert.throws(() => planEnroll(reg, params(token), 'cd'.repeat(32), 2000), cause('BAD_PROOF'), 'a proof made for another connection');
  assert.throws(() => planEnroll(reg, params(token), NONCE, 61_000), cause('TOKEN_EXPIRED'));
  assert.throws(() => planEnroll(reg, params(token, 'web-2'), NONCE, 2000), cause('WRONG_HOST'));
  const p = params(token);
  assert.throws(() => planEnroll(reg, { ...p, identity: A.newSigningKey().publicKey }, NONCE, 2000), cause('BAD_PROOF'), 'the proof covers the identity');
  assert.equal(reg.agentOf('web-1'), undefined);
});

test('expired tokens are pruned when a new one is made, and at most MAX_JOIN_TOKENS are outstanding', () => {
  const reg = new Registry();
  withToken(reg, 0, 1000);
  withToken(reg, 5000, 1000);
  assert.equal(reg.joinTokens().length, 1, 'the first, expired, was forgotten');
  for (let i = 1; i < MAX_JOIN_TOKENS; i++) withToken(reg, 5000, 60_000);
  assert.throws(() => planJoinToken(reg, { ttlMs: 1000, boxKey: BOX_KEY }, 5000), (e: unknown) => isDpnsError(e, 'LIMIT_EXCEEDED'));
});

test('trust replaces, revoke forgets, and both survive a snapshot', () => {
  const reg = new Registry();
  const key = 'ef'.repeat(32);
  reg.apply(planTrust({ host: 'h', key }, 7), 1);
  withToken(reg, 0);
  const copy = new Registry();
  copy.load(JSON.parse(JSON.stringify(reg.snapshot())) as ReturnType<Registry['snapshot']>);
  assert.deepEqual(copy.agentOf('h'), { host: 'h', key, at: 7, how: 'trust' });
  assert.equal(copy.joinTokens().length, 1);
  copy.apply(planRevoke(copy, 'h'), 3);
  assert.equal(copy.agentOf('h'), undefined);
  assert.throws(() => planRevoke(copy, 'h'), (e: unknown) => isDpnsError(e, 'NOT_FOUND'));
});

test('a join token: its ops, and the host it is bound to in both the record and the answer', () => {
  const reg = new Registry();
  const bound = planJoinToken(reg, { ttlMs: 1000, boxKey: BOX_KEY, host: 'web-1' }, 50);
  assert.equal(bound.ops.length, 1);
  const op = bound.ops[0];
  assert.ok(op?.t === 'join' && op.v !== null);
  assert.deepEqual(op.v, { id: bound.result.id, key: op.v.key, expires: 1050, host: 'web-1' });
  assert.deepEqual(bound.result, { token: bound.result.token, id: bound.result.id, expiresAt: 1050, host: 'web-1' });
  const free = planJoinToken(reg, { ttlMs: 1000, boxKey: BOX_KEY }, 50);
  assert.ok(free.ops[0]?.t === 'join' && free.ops[0].v !== null && !('host' in free.ops[0].v));
  assert.equal('host' in free.result, false);
});

test('a token is expired from its expiry time on: pruned then, and refused then', () => {
  const reg = new Registry();
  const { token } = withToken(reg, 0, 1000);
  assert.throws(() => planEnroll(reg, params(token), NONCE, 1000), { code: 'UNAUTHORIZED', details: { cause: 'TOKEN_EXPIRED' } });
  const { ops } = planJoinToken(reg, { ttlMs: 1000, boxKey: BOX_KEY }, 1000);
  assert.equal(ops.filter((o) => o.t === 'join' && o.v === null).length, 1, 'the token expiring now is pruned');
});

test('too many tokens is LIMIT_EXCEEDED, saying how many and which limit', () => {
  const reg = new Registry();
  reg.apply(Array.from({ length: MAX_JOIN_TOKENS }, (_, i) => ({ t: 'join' as const, id: `t${i}`, v: { id: `t${i}`, key: 'k', expires: 10_000 } })), 1);
  assert.throws(() => planJoinToken(reg, { ttlMs: 1000, boxKey: BOX_KEY }, 5000), {
    code: 'LIMIT_EXCEEDED', message: /^1000 join tokens are outstanding, the most a name server keeps;/, details: { limit: MAX_JOIN_TOKENS, what: 'joinTokens' },
  });
});

test('each enrollment refusal: its code, its cause, and the token it concerns', () => {
  const reg = new Registry();
  const { token } = withToken(reg, 1000, 60_000, 'web-1');
  const id = token.split('.')[0] as string;
  assert.throws(() => planEnroll(reg, params(`${'9'.repeat(16)}.${'0'.repeat(64)}`), NONCE, 2000), { code: 'UNAUTHORIZED', message: /^join token 9{16} is unknown or was already used;/ });
  assert.throws(() => planEnroll(reg, params(token), NONCE, 61_000), { code: 'UNAUTHORIZED', message: new RegExp(`^join token ${id} expired at 1970-01-01T00:01:01\\.000Z;`) });
  assert.throws(() => planEnroll(reg, params(`${id}.${'0'.repeat(64)}`), NONCE, 2000), { code: 'UNAUTHORIZED', message: new RegExp(`^the proof does not match join token ${id}:`) });
  const p = params(token);
  assert.throws(() => planEnroll(reg, { ...p, signature: 'ab'.repeat(64) }, NONCE, 2000), {
    code: 'UNAUTHORIZED', message: `the enrollment is not signed by identity ${p.identity}`, details: { cause: 'BAD_SIGNATURE' },
  });
  assert.throws(() => planEnroll(reg, params(token, 'web-2'), NONCE, 2000), { code: 'FORBIDDEN', message: `join token ${id} enrolls only an agent for web-1, not for web-2` });
  assert.deepEqual(planEnroll(reg, p, NONCE, 2000).map((o) => o.t), ['join', 'agent'], 'the host it is bound to');
});

test('revoking an agent that is not there says so; enrolled answers the fingerprint', () => {
  assert.throws(() => planRevoke(new Registry(), 'h9'), { code: 'NOT_FOUND', message: 'no agent is enrolled for h9; dpns agents list shows the enrolled ones', details: { host: 'h9' } });
  const key = A.newSigningKey();
  assert.deepEqual(enrolled({ ...params(withToken(new Registry(), 0).token, 'h1', key) }, 5, 7), {
    host: 'h1', fingerprint: agentFingerprint(key.publicKey), enrolledAt: 5, revision: 7,
  });
});
