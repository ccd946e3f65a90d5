// Tickets: 256-bit random secrets shared by the name server and a launched service (and,
// after authenticateService, by a client and a service). They are never sent in the clear:
// each side proves it holds one with an HMAC over fresh values, and hands one on sealed.
import type { Static } from '@sinclair/typebox';
import nacl from 'tweetnacl';
import { equalBytes, fromHex, fromUtf8, toHex, utf8 } from './bytes.js';
import { hmacSha256 } from './sha256.js';
import { box as naclBox, boxKeyPair, boxOpen } from './x25519.js';
import { Type } from './typebox.js';

/** Tickets are this many random bytes (256 bits), from tweetnacl's random source. */
export const TICKET_BYTES = 32;

/** What each proof is for; part of the HMAC input, so a proof for one purpose never passes for another. */
export type ProofPurpose =
  /** A launched service advertising itself: over the connection nonce, name, host and port. */
  | 'advertise'
  /** The name server answering the service's nonce with its own half. */
  | 'nameserver'
  /** A service answering the name server's challenge that it still holds its ticket. */
  | 'challenge'
  /** Client and service proving to each other that they hold an authenticateService pair. */
  | 'pair-client'
  | 'pair-service';

/** A fresh ticket, hex. */
export function newTicket(): string {
  return toHex(nacl.randomBytes(TICKET_BYTES));
}

/** HMAC-SHA256 keyed with the ticket's bytes over "dpns-<purpose>\n" and the parts joined by "\n"; hex. */
export function ticketProof(ticket: string, purpose: ProofPurpose, ...parts: (string | number)[]): string {
  return toHex(ticketMac(ticket, purpose, parts));
}

/** Constant-time check of a ticket proof. */
export function checkTicketProof(ticket: string, proof: string, purpose: ProofPurpose, ...parts: (string | number)[]): boolean {
  const got = /^[0-9a-f]{64}$/.test(proof) ? fromHex(proof) : undefined;
  return got !== undefined && equalBytes(got, ticketMac(ticket, purpose, parts));
}

function ticketMac(ticket: string, purpose: ProofPurpose, parts: (string | number)[]): Uint8Array {
  return hmacSha256(ticketBytes(ticket), utf8(`dpns-${purpose}\n${parts.join('\n')}`));
}

/** A ticket's bytes. Tickets come from this module or were checked as hex where they entered. */
function ticketBytes(ticket: string): Uint8Array {
  const bytes = fromHex(ticket);
  if (bytes === undefined) throw new TypeError('a ticket is hex');
  return bytes;
}

/** A secret sealed for one recipient: nacl.box to an X25519 key, or nacl.secretbox under a ticket. */
export const Sealed = Type.Object({
  from: Type.Optional(Type.String({ description: 'The sender\'s ephemeral X25519 public key (box only).' })),
  nonce: Type.String(),
  box: Type.String(),
}, { title: 'Sealed' });
export type Sealed = Static<typeof Sealed>;

/** Seals `plain` for the holder of the X25519 secret key matching `toPublicKey` (hex). */
export function sealTo(toPublicKey: string, plain: string): Sealed {
  const eph = boxKeyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const to = fromHex(toPublicKey);
  if (to === undefined) throw new TypeError('a public key is hex');
  const box = naclBox(utf8(plain), nonce, to, eph.secretKey);
  return { from: toHex(eph.publicKey), nonce: toHex(nonce), box: toHex(box) };
}

/** Opens what `sealTo` sealed; undefined when it was not for this key or was tampered with. */
export function openSealed(sealed: Sealed, secretKey: Uint8Array): string | undefined {
  if (sealed.from === undefined) return undefined;
  const box = fromHex(sealed.box);
  const nonce = fromHex(sealed.nonce);
  const from = fromHex(sealed.from);
  if (box === undefined || nonce?.length !== nacl.box.nonceLength || from?.length !== nacl.box.publicKeyLength) return undefined;
  const out = boxOpen(box, nonce, from, secretKey);
  return out === null ? undefined : fromUtf8(out);
}

/** Seals `plain` under a key derived from a ticket both ends hold. */
export function sealWithTicket(ticket: string, plain: string): Sealed {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const box = nacl.secretbox(utf8(plain), nonce, wrapKey(ticket));
  return { nonce: toHex(nonce), box: toHex(box) };
}

export function openWithTicket(ticket: string, sealed: Sealed): string | undefined {
  const box = fromHex(sealed.box);
  const nonce = fromHex(sealed.nonce);
  if (box === undefined || nonce?.length !== nacl.secretbox.nonceLength) return undefined;
  const out = nacl.secretbox.open(box, nonce, wrapKey(ticket));
  return out === null ? undefined : fromUtf8(out);
}

function wrapKey(ticket: string): Uint8Array {
  return hmacSha256(ticketBytes(ticket), utf8('dpns-wrap'));
}

/** The pair authenticateService hands out; the client gets it sealed to its key, the service under its ticket. */
export interface AuthPair {
  pairId: string;
  /** Proven by the client. */
  clientTicket: string;
  /** Proven by the service. */
  serviceTicket: string;
}
