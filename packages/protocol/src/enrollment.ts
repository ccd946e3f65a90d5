// Agent enrollment: the join token an admin hands to a host, and the proof an agent sends to
// `agents.enroll` with it. The token is `<id>.<secret>`; the name server keeps only the id and a
// key derived from the secret, and the agent proves it holds the secret by an HMAC over the
// connection's nonce, its host name and its identity key, so the secret never crosses the wire.
// The agent also signs the same text with its identity, so nobody enrolls a key they do not hold.
import { equalBytes, fromHex, toHex, utf8 } from './bytes.js';
import type { Static } from '@sinclair/typebox';
import { Type } from './typebox.js';
import { oneOf } from './entries.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { DpnsError } from './errors.js';
import { randomHex } from './random.js';
import { hmacSha256 } from './sha256.js';

const KEY_CONTEXT = 'dpns-join-key\n';
const ENROLL_CONTEXT = 'dpns-agent-enroll\n';

/** Hex digits of a token's id (8 bytes) and secret (32 bytes). */
export const JOIN_ID_HEX = 16;
export const JOIN_SECRET_HEX = 64;
/** How long a join token lives when the admin names no --ttl, and the longest it may. */
export const JOIN_TTL_DEFAULT_MS = 60 * 60_000;
export const JOIN_TTL_MAX_MS = 7 * 24 * 60 * 60_000;

/** A token as the admin sees it once, and the part the name server stores. */
export interface JoinToken {
  /** `<id>.<secret>`: give it to the host that should enroll. */
  token: string;
  id: string;
  /** HMAC-SHA256(secret, 'dpns-join-key\n'), hex: what the name server stores in place of the secret. */
  key: string;
}

export function newJoinToken(): JoinToken {
  const id = randomHex(JOIN_ID_HEX / 2);
  const secret = randomHex(JOIN_SECRET_HEX / 2);
  return { token: `${id}.${secret}`, id, key: joinKey(secret) };
}

/** Splits a token given on a command line; throws DpnsError INVALID_PARAMS saying what a token looks like. */
export function parseJoinToken(text: string): { id: string; secret: string } {
  const m = /^([0-9a-f]{16})\.([0-9a-f]{64})$/.exec(text.trim());
  if (m === null) {
    throw new DpnsError('INVALID_PARAMS', `a join token is ${JOIN_ID_HEX} hex digits, a dot and ${JOIN_SECRET_HEX} hex digits, as printed by "dpns agents join-token"; got ${JSON.stringify(text.slice(0, 100))}`);
  }
  return { id: m[1] as string, secret: m[2] as string };
}

/** The key the name server stores for a token's secret. The HMAC key is the secret's hex text, not its bytes. */
export function joinKey(secret: string): string {
  return toHex(hmacSha256(utf8(secret), utf8(KEY_CONTEXT)));
}

/** What the proof and the signature of an enrollment cover. */
function enrollText(nonce: string, tokenId: string, host: string, identity: string): string {
  return `${ENROLL_CONTEXT}${nonce}\n${tokenId}\n${host}\n${identity}`;
}

/** The params of `agents.enroll` for the connection whose hello sent `nonce`. */
export function enrollParams(
  o: { secret: string; tokenId: string; host: string; nonce: string; identity: { publicKey: string; secretKey: Uint8Array } },
): { tokenId: string; host: string; identity: string; proof: string; signature: string } {
  const text = enrollText(o.nonce, o.tokenId, o.host, o.identity.publicKey);
  const proof = toHex(hmacSha256(utf8(joinKey(o.secret)), utf8(text)));
  const signature = toHex(ed25519Sign(utf8(text), o.identity.secretKey));
  return { tokenId: o.tokenId, host: o.host, identity: o.identity.publicKey, proof, signature };
}

/** Constant-time check of an enrollment's HMAC against the stored key, and of its signature. */
export function checkEnrollProof(
  storedKey: string, nonce: string, p: { tokenId: string; host: string; identity: string; proof: string; signature: string },
): { proof: boolean; signature: boolean } {
  const text = enrollText(nonce, p.tokenId, p.host, p.identity);
  const got = fromHex(p.proof);
  const proof = got !== undefined && equalBytes(got, hmacSha256(utf8(storedKey), utf8(text)));
  const sig = fromHex(p.signature);
  const identity = fromHex(p.identity);
  const signature = sig !== undefined && identity !== undefined && ed25519Verify(utf8(text), sig, identity);
  return { proof, signature };
}

/** How an agent came to be trusted for its host. */
export const AGENT_ENROLLMENTS = ['join', 'trust', 'static'] as const;
export type AgentEnrollment = (typeof AGENT_ENROLLMENTS)[number];

/** One enrolled agent as `agents.list` shows it: no more than an operator needs to recognise it. */
export const AgentInfo = Type.Object({
  host: Type.String(),
  fingerprint: Type.String({ description: 'The first 16 hex digits of the agent\'s identity key (dpns-launchd prints the whole key at start).' }),
  how: oneOf(AGENT_ENROLLMENTS),
  enrolledAt: Type.Optional(Type.Number({ description: 'Epoch milliseconds; absent for a static key from the name server\'s config.' })),
}, { title: 'AgentInfo' });
export type AgentInfo = Static<typeof AgentInfo>;

/** The fingerprint shown for an identity key. */
export function agentFingerprint(identity: string): string {
  return identity.slice(0, 16);
}
