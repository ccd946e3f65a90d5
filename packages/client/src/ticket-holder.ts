// The launch tickets a client holds for the services it advertises (a launched service's client):
// the proof each advertisement carries, the check of the name server's proof in the answer, the
// answers to the server's `ticket.challenge`, and opening the `ticket.pair` it sends. Every proof
// is over the connection's own hello nonce, so each connection gets fresh ones.
import {
  assertName, checkTicketProof, DpnsError, openWithTicket, randomHex, ticketProof,
  type AuthPair, type HelloParams, type LaunchTicket, type Params, type Result, type TicketPairParams,
} from '@dpns/protocol';
import type { Endpoint } from './endpoints.js';
import { isObject } from './guards.js';
import { badResponse } from './local-errors.js';

/** What the holder needs of a connection: its nonce and its name for messages. */
export interface TicketConn {
  readonly hello: HelloParams;
  readonly endpoint: Endpoint;
}

type AdvertiseParams = Params<'advertiseService'>;
type AdvertiseResult = Result<'advertiseService'>;

/** The error for a name server that could not prove it holds the name server's half of a ticket. */
export function untrustedServer(server: string, name: string, why: string): DpnsError {
  return new DpnsError('TICKET_REFUSED', `not trusting the name server at ${server} for ${name}: ${why}`, {
    details: { untrustedServer: server, name },
  });
}

/** True for the error above: the connection was closed and the next server should be tried. */
export function isUntrustedServer(err: unknown): err is DpnsError {
  return err instanceof DpnsError && typeof err.details?.untrustedServer === 'string';
}

export class TicketHolder {
  readonly #tickets = new Map<string, LaunchTicket>();
  /**
   * Per connection and name, whether that server proved it holds the name server's half; a
   * pending promise while the advertisement is in flight, so a challenge racing the answer waits.
   */
  readonly #trust = new WeakMap<TicketConn, Map<string, Promise<boolean>>>();

  /** Holds `ticket` for its service name from now on. */
  hold(ticket: LaunchTicket): void {
    assertName(ticket.service, 'ticket service');
    this.#tickets.set(ticket.service, ticket);
  }

  release(name: string): void {
    this.#tickets.delete(name);
  }

  has(name: string): boolean {
    return this.#tickets.has(name);
  }

  /**
   * Advertises with proof on `conn` through `send` (which must pin the request to `conn`), then
   * checks the server's `nameserverProof`. Throws the `untrustedServer` error when it does not
   * check out; the caller closes the connection and tries the next server.
   */
  async advertise(
    conn: TicketConn,
    ad: { name: string; host: string; port: number },
    send: (params: AdvertiseParams) => Promise<AdvertiseResult>,
  ): Promise<AdvertiseResult> {
    const t = this.#ticket(ad.name);
    const helloNonce = conn.hello.nonce;
    const nonce = randomHex(32);
    let settle: (trusted: boolean) => void = () => undefined;
    const verdict = new Promise<boolean>((resolve) => (settle = resolve));
    this.#trustOf(conn).set(ad.name, verdict);
    try {
      const r = await send({
        name: ad.name, host: ad.host, port: ad.port, static: false,
        proof: ticketProof(t.ticket, 'advertise', helloNonce, ad.name, ad.host, ad.port),
        nonce,
      });
      if (r.nameserverProof === undefined) {
        throw untrustedServer(conn.endpoint.label, ad.name, 'its answer carries no nameserverProof');
      }
      if (!checkTicketProof(t.nameserverTicket, r.nameserverProof, 'nameserver', helloNonce, nonce, ad.name)) {
        throw untrustedServer(conn.endpoint.label, ad.name, 'its nameserverProof does not match the name server ticket this service was launched with');
      }
      settle(true);
      return r;
    } catch (err) {
      settle(false);
      throw err;
    }
  }

  /** The answer to a `ticket.challenge` that arrived on `conn`: `{proof}`, or a DpnsError to send back. */
  async answerChallenge(conn: TicketConn, raw: unknown): Promise<{ proof: string }> {
    const { name, challenge } = challengeParams(raw);
    const t = this.#tickets.get(name);
    if (t === undefined) throw new DpnsError('NOT_FOUND', `this client holds no launch ticket for ${name}`);
    // Only a server that proved itself gets proofs: a stranger learns nothing from a refusal.
    const trusted = await (this.#trust.get(conn)?.get(name) ?? Promise.resolve(false));
    if (!trusted) {
      throw new DpnsError('UNAUTHORIZED', `this connection's name server has not proven it holds the name server ticket for ${name}`);
    }
    return { proof: ticketProof(t.ticket, 'challenge', challenge, name) };
  }

  /** Opens a `ticket.pair` with the service's ticket; throws BAD_RESPONSE when it is not ours or was tampered with. */
  openPair(p: TicketPairParams): AuthPair {
    const t = this.#tickets.get(p.name);
    if (t === undefined) throw badResponse(`a ticket.pair arrived for ${p.name}, for which this client holds no ticket`);
    const plain = openWithTicket(t.ticket, p.sealed);
    if (plain === undefined) throw badResponse(`the ticket.pair for ${p.name} does not open with its launch ticket`);
    const pair = parseAuthPair(plain, `the ticket.pair for ${p.name}`);
    if (pair.pairId !== p.pairId) throw badResponse(`the ticket.pair for ${p.name} names pair ${p.pairId} outside and ${pair.pairId} inside`);
    return pair;
  }

  #ticket(name: string): LaunchTicket {
    const t = this.#tickets.get(name);
    if (t === undefined) throw new DpnsError('NOT_FOUND', `this client holds no launch ticket for ${name}`);
    return t;
  }

  #trustOf(conn: TicketConn): Map<string, Promise<boolean>> {
    let m = this.#trust.get(conn);
    if (m === undefined) {
      m = new Map();
      this.#trust.set(conn, m);
    }
    return m;
  }
}

const HEX_TICKET = /^[0-9a-f]{64}$/;

/** Parses the JSON of a pair (`{pairId, clientTicket, serviceTicket}`), as sealed by the name server. */
export function parseAuthPair(text: string, what: string): AuthPair {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw badResponse(`${what} is not JSON`, err);
  }
  if (!isObject(v)) throw badResponse(`${what} is not a JSON object`);
  const { pairId, clientTicket, serviceTicket } = v;
  if (typeof pairId !== 'string' || pairId === '' || pairId.length > 128) throw badResponse(`${what} lacks a pairId`);
  if (typeof clientTicket !== 'string' || !HEX_TICKET.test(clientTicket) || typeof serviceTicket !== 'string' || !HEX_TICKET.test(serviceTicket)) {
    throw badResponse(`${what} lacks clientTicket/serviceTicket (64 hex digits each)`);
  }
  return { pairId, clientTicket, serviceTicket };
}

/** `ticket.challenge` params, checked: a name and a hex challenge of 32 to 256 digits. */
function challengeParams(raw: unknown): { name: string; challenge: string } {
  if (!isObject(raw)) throw new DpnsError('INVALID_PARAMS', 'ticket.challenge: params must be an object {name, challenge}');
  const { name, challenge } = raw;
  assertName(name, 'params.name');
  if (typeof challenge !== 'string' || !/^[0-9a-f]{32,256}$/.test(challenge)) {
    throw new DpnsError('INVALID_PARAMS', `ticket.challenge: params.challenge must be 32 to 256 lowercase hex digits, got ${JSON.stringify(challenge)?.slice(0, 80)}`);
  }
  return { name, challenge };
}
