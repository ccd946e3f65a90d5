// Tickets: 256-bit random secrets shared by the name server and a launched service (and,
// after authenticateService, by a client and a service). They are never sent in the clear:
// each side proves it holds one with an HMAC over fresh values, and hands one on sealed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import nacl from 'tweetnacl';
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
  return Buffer.from(nacl.randomBytes(TICKET_BYTES)).toString('hex');
}

/** HMAC-SHA256 keyed with the ticket's bytes over "dpns-<purpose>\n" and the parts joined by "\n"; hex. */
export function ticketProof(ticket: string, purpose: ProofPurpose, ...parts: (string | number)[]): string {
  return createHmac('sha256', Buffer.from(ticket, 'hex')).update(`dpns-${purpose}\n${parts.join('\n')}`).digest('hex');
}

/** Constant-time check of a ticket proof. */
export function checkTicketProof(ticket: string, proof: string, purpose: ProofPurpose, ...parts: (string | number)[]): boolean {
  if (!/^[0-9a-f]{64}$/.test(proof)) return false;
  const want = Buffer.from(ticketProof(ticket, purpose, ...parts), 'hex');
  return timingSafeEqual(want, Buffer.from(proof, 'hex'));
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
  const eph = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const box = nacl.box(Buffer.from(plain, 'utf8'), nonce, Buffer.from(toPublicKey, 'hex'), eph.secretKey);
  return { from: hex(eph.publicKey), nonce: hex(nonce), box: hex(box) };
}

/** Opens what `sealTo` sealed; undefined when it was not for this key or was tampered with. */
export function openSealed(sealed: Sealed, secretKey: Uint8Array): string | undefined {
  if (sealed.from === undefined) return undefined;
  const out = nacl.box.open(Buffer.from(sealed.box, 'hex'), Buffer.from(sealed.nonce, 'hex'), Buffer.from(sealed.from, 'hex'), secretKey);
  return out === null ? undefined : Buffer.from(out).toString('utf8');
}

/** Seals `plain` under a key derived from a ticket both ends hold. */
export function sealWithTicket(ticket: string, plain: string): Sealed {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const box = nacl.secretbox(Buffer.from(plain, 'utf8'), nonce, wrapKey(ticket));
  return { nonce: hex(nonce), box: hex(box) };
}

export function openWithTicket(ticket: string, sealed: Sealed): string | undefined {
  const out = nacl.secretbox.open(Buffer.from(sealed.box, 'hex'), Buffer.from(sealed.nonce, 'hex'), wrapKey(ticket));
  return out === null ? undefined : Buffer.from(out).toString('utf8');
}

function wrapKey(ticket: string): Uint8Array {
  return createHmac('sha256', Buffer.from(ticket, 'hex')).update('dpns-wrap').digest();
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** The pair authenticateService hands out; the client gets it sealed to its key, the service under its ticket. */
export interface AuthPair {
  pairId: string;
  /** Proven by the client. */
  clientTicket: string;
  /** Proven by the service. */
  serviceTicket: string;
}
