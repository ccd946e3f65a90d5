// Who may make an agent trusted for a host, and how: join tokens, enrollment with one, an admin's
// trust and revoke. Pure functions of the registry, the request and the time, like rules.ts.
import { DpnsError, agentFingerprint, checkEnrollProof, newJoinToken, type Params, type Result } from '@dpns/protocol';
import type { Op } from './ops.js';
import type { Registry } from './registry.js';

/** Unspent tokens a name server holds at most; expired ones are pruned whenever a token is made. */
export const MAX_JOIN_TOKENS = 1000;

/** A new join token; the ops also forget every expired one. */
/** A new join token as the admin gets it once it is sealed: its text (`id.secret`), id and expiry. */
export interface JoinTokenIssued {
  token: string;
  id: string;
  expiresAt: number;
  host?: string;
}

export function planJoinToken(reg: Registry, p: Params<'agents.joinToken'>, now: number): { ops: Op[]; result: JoinTokenIssued } {
  const ops: Op[] = [];
  let live = 0;
  for (const t of reg.joinTokens()) {
    if (t.expires <= now) ops.push({ t: 'join', id: t.id, v: null });
    else live++;
  }
  if (live >= MAX_JOIN_TOKENS) {
    throw new DpnsError('LIMIT_EXCEEDED', `${live} join tokens are outstanding, the most a name server keeps; let some expire or use them first`, {
      details: { limit: MAX_JOIN_TOKENS, what: 'joinTokens' },
    });
  }
  const token = newJoinToken();
  const expires = now + p.ttlMs;
  ops.push({ t: 'join', id: token.id, v: { id: token.id, key: token.key, expires, ...(p.host === undefined ? {} : { host: p.host }) } });
  return { ops, result: { token: token.token, id: token.id, expiresAt: expires, ...(p.host === undefined ? {} : { host: p.host }) } };
}

/**
 * Enrolls the calling agent with a join token, proven over the connection's `nonce`. Spends the
 * token and replaces whatever agent was enrolled for that host.
 */
export function planEnroll(reg: Registry, p: Params<'agents.enroll'>, nonce: string, now: number): Op[] {
  const token = reg.joinToken(p.tokenId);
  if (token === undefined) {
    throw new DpnsError('UNAUTHORIZED', `join token ${p.tokenId} is unknown or was already used; ask an admin for a new one (dpns agents join-token)`, {
      details: { cause: 'TOKEN_UNKNOWN' },
    });
  }
  if (token.expires <= now) {
    throw new DpnsError('UNAUTHORIZED', `join token ${p.tokenId} expired at ${new Date(token.expires).toISOString()}; ask an admin for a new one (dpns agents join-token)`, {
      details: { cause: 'TOKEN_EXPIRED' },
    });
  }
  const check = checkEnrollProof(token.key, nonce, p);
  if (!check.proof) {
    throw new DpnsError('UNAUTHORIZED', `the proof does not match join token ${p.tokenId}: the token's secret part is wrong`, { details: { cause: 'BAD_PROOF' } });
  }
  if (!check.signature) {
    throw new DpnsError('UNAUTHORIZED', `the enrollment is not signed by identity ${p.identity}`, { details: { cause: 'BAD_SIGNATURE' } });
  }
  if (token.host !== undefined && token.host !== p.host) {
    throw new DpnsError('FORBIDDEN', `join token ${p.tokenId} enrolls only an agent for ${token.host}, not for ${p.host}`, { details: { cause: 'WRONG_HOST' } });
  }
  return [{ t: 'join', id: token.id, v: null }, { t: 'agent', h: p.host, v: { host: p.host, key: p.identity, at: now, how: 'join' } }];
}

/** An admin trusts `key` for `host`. */
export function planTrust(p: Params<'agents.trust'>, now: number): Op[] {
  return [{ t: 'agent', h: p.host, v: { host: p.host, key: p.key, at: now, how: 'trust' } }];
}

/** An admin forgets the agent enrolled for `host`. */
export function planRevoke(reg: Registry, host: string): Op[] {
  if (reg.agentOf(host) === undefined) {
    throw new DpnsError('NOT_FOUND', `no agent is enrolled for ${host}; dpns agents list shows the enrolled ones`, { details: { host } });
  }
  return [{ t: 'agent', h: host, v: null }];
}

/** What `agents.enroll` answers. */
export function enrolled(p: Params<'agents.enroll'>, now: number, revision: number): Result<'agents.enroll'> {
  return { host: p.host, fingerprint: agentFingerprint(p.identity), enrolledAt: now, revision };
}
