// A service's own advertisement that stays advertised across reconnects and server restarts:
// the client proves the same owner key on every new connection and advertises it again.
import { DpnsError, isDpnsError, type AuthPair } from '@dpns/protocol';
import { Emitter } from './emitter.js';

/** advertised · pending (connection lost, waiting to re-advertise) · closed (unadvertised or client closed). */
export type AdvertisementState = 'advertised' | 'pending' | 'closed';

/** What an advertisement needs from the client that made it. */
export interface AdvertisementLink {
  advertise(ad: Advertisement): Promise<{ revision: number }>;
  unadvertise(ad: Advertisement): Promise<void>;
  release(ad: Advertisement): void;
  recoverable(err: unknown): boolean;
}

export interface AdvertisementEvents {
  /** Advertised again after a reconnect. */
  advertised: [{ revision: number }];
  /**
   * Re-advertising was refused (e.g. another owner took the name), or a name server did not prove
   * it holds this launched service's name server ticket (code TICKET_REFUSED; that connection is
   * closed and the next server tried); retried after the next reconnect.
   */
  error: [DpnsError];
  /** A launched service was handed a fresh ticket pair for a client (authenticateService). */
  pair: [AuthPair];
}

export class Advertisement extends Emitter<AdvertisementEvents> {
  #state: AdvertisementState = 'advertised';
  #closing: Promise<void> | undefined;

  /** @internal Made by `DpnsClient.advertise`. */
  constructor(
    readonly name: string,
    readonly host: string,
    readonly port: number,
    private readonly link: AdvertisementLink,
    /** True for a launched service that advertises with its launch ticket's proof. */
    readonly ticketed = false,
  ) {
    super();
  }

  get state(): AdvertisementState {
    return this.#state;
  }

  /** @internal The connection dropped; the server keeps the entry in its grace period meanwhile. */
  detach(): void {
    if (this.#state === 'advertised') this.#state = 'pending';
  }

  /** @internal Advertise again on a fresh connection (the client has already identified). */
  readvertise(): void {
    if (this.#state === 'closed') return;
    this.link.advertise(this).then(
      (r) => {
        if (this.#state === 'closed') return;
        this.#state = 'advertised';
        this.emit('advertised', r);
      },
      (err: unknown) => {
        // A lost connection is retried by the next reconnect; a refusal is reported.
        if (this.#state === 'closed' || this.link.recoverable(err)) return;
        this.emit('error', isDpnsError(err) ? err : new DpnsError('INTERNAL', String(err), { cause: err }));
      },
    );
  }

  /** Unadvertises the name and stops re-advertising it. Safe to call twice. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#state = 'closed';
    this.link.release(this);
    this.#closing = this.link.unadvertise(this).catch((err: unknown) => {
      // Already gone (deleted, stopped by an admin) or the client is closed: nothing left to undo.
      if (isDpnsError(err, 'NOT_FOUND') || isDpnsError(err, 'NOT_RUNNING') || isDpnsError(err, 'CLOSED')) return;
      throw err;
    });
    return this.#closing;
  }

  /** @internal A `ticket.pair` for this name, opened with its ticket. */
  deliverPair(pair: AuthPair): void {
    if (this.#state !== 'closed') this.emit('pair', pair);
  }

  /** @internal The client closed: stop without unadvertising (the server marks the entry lost). */
  end(): void {
    this.#state = 'closed';
  }
}
