// The client's half of authenticateService (the paper's Figure 7): a one-off X25519 key the
// name server seals the fresh pair to, and the pair itself, with which the client proves itself
// to the service and checks the service's proof. Nothing secret is ever sent in the clear.
import { agent, checkTicketProof, openSealed, ticketProof, type AuthPair, type Result } from '@dpns/protocol';
import '@dpns/node-kit/use-native-crypto';
import { badResponse } from './local-errors.js';
import { parseAuthPair } from './ticket-holder.js';

/** An X25519 key pair as nacl.box uses it: the public key in hex (sent as `boxKey`), the secret key raw. */
export type BoxKeyPair = agent.BoxKeyPair;

/** A fresh X25519 key pair: the protocol's, through node:crypto in this process (use-native-crypto). */
export const newBoxKeyPair: () => BoxKeyPair = agent.newBoxKeyPair;

/** A ticket pair held by a client: proves the client to the service, and checks the service. */
export class ClientPair {
  readonly #pair: AuthPair;

  constructor(pair: AuthPair, readonly service: string) {
    this.#pair = { ...pair };
  }

  /** Rebuilds a pair from what `dpns auth NAME --json` prints (JSON text or the parsed object). */
  static fromSecret(pair: string | AuthPair, service: string): ClientPair {
    const text = typeof pair === 'string' ? pair : JSON.stringify(pair);
    return new ClientPair(parseAuthPair(text, 'the pair'), service);
  }

  /** Opens the `authenticateService` answer with the key its `boxKey` was the public half of. */
  static open(answer: Result<'authenticateService'>, key: BoxKeyPair): ClientPair {
    const plain = openSealed(answer.sealed, key.secretKey);
    if (plain === undefined) throw badResponse(`the pair for ${answer.service} does not open with this request's key`);
    const pair = parseAuthPair(plain, `the pair for ${answer.service}`);
    if (pair.pairId !== answer.pairId) throw badResponse(`the answer names pair ${answer.pairId} but the sealed pair is ${pair.pairId}`);
    return new ClientPair(pair, answer.service);
  }

  /** Names this pair to the service; not secret. */
  get pairId(): string {
    return this.#pair.pairId;
  }

  /** The client's proof for the service's `challenge`. */
  prove(challenge: string): string {
    return ticketProof(this.#pair.clientTicket, 'pair-client', this.#pair.pairId, challenge);
  }

  /** True when `proof` is the service's answer to the client's `challenge` (constant time). */
  checkService(challenge: string, proof: string): boolean {
    return checkTicketProof(this.#pair.serviceTicket, proof, 'pair-service', this.#pair.pairId, challenge);
  }

  /** The pair's secrets, for handing to another program of the same caller; never log them. */
  exportSecret(): AuthPair {
    return { ...this.#pair };
  }
}
