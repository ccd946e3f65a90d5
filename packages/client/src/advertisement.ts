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
  reportLoad(ad: Advertisement, load: number): Promise<void>;
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
  /** The last load asked for: sent again after a reconnect re-advertises. */
  #load: number | undefined;
  #reporter: NodeJS.Timeout | undefined;

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
        // The entry may be a fresh one without a load (a new address, or a server that forgot it).
        if (this.#load !== undefined) this.#sendLoad(this.#load).catch((err: unknown) => this.#reportError(err));
      },
      (err: unknown) => {
        // A lost connection is retried by the next reconnect; a refusal is reported.
        if (this.#state === 'closed' || this.link.recoverable(err)) return;
        this.emit('error', isDpnsError(err) ? err : new DpnsError('INTERNAL', String(err), { cause: err }));
      },
    );
  }

  /**
   * Reports this service's load (a finite number >= 0; lower is less loaded): `findServices` of a
   * pattern answers least loaded first. While the connection is down the value is kept and sent
   * once the name is advertised again. RATE_LIMITED past 10 reports a second.
   */
  async reportLoad(load: number): Promise<void> {
    if (typeof load !== 'number' || !Number.isFinite(load) || load < 0) {
      throw new DpnsError('INVALID_PARAMS', `load must be a finite number >= 0, got ${String(load)}`);
    }
    if (this.#state === 'closed') throw new DpnsError('CLOSED', `the advertisement of ${this.name} is closed`);
    const before = this.#load;
    this.#load = load;
    if (this.#state === 'pending') return;
    try {
      await this.#sendLoad(load);
    } catch (err) {
      // A refused report is not re-sent after a reconnect; a lost connection's is.
      if (!this.link.recoverable(err) && this.#load === load) this.#load = before;
      throw err;
    }
  }

  /**
   * Calls `read` every `ms` and reports its value when it differs from the last one reported.
   * Failures are emitted as 'error' (a lost connection is not one). Returns a function that stops
   * it; closing the advertisement stops it too. One reporter at a time: a new one replaces the old.
   */
  reportLoadEvery(ms: number, read: () => number): () => void {
    if (!Number.isFinite(ms) || ms < 100) throw new DpnsError('INVALID_PARAMS', `the report interval must be at least 100 ms, got ${String(ms)}`);
    this.#stopReporter();
    const tick = (): void => {
      let load: number;
      try {
        load = read();
      } catch (err) {
        this.#reportError(err);
        return;
      }
      if (load === this.#load || this.#state === 'closed') return;
      this.reportLoad(load).catch((err: unknown) => this.#reportError(err));
    };
    const timer = setInterval(tick, ms);
    // The reporter alone should not keep a process alive that has nothing else to do.
    timer.unref();
    this.#reporter = timer;
    tick();
    return () => {
      if (this.#reporter === timer) this.#stopReporter();
    };
  }

  #sendLoad(load: number): Promise<void> {
    return this.link.reportLoad(this, load);
  }

  #stopReporter(): void {
    if (this.#reporter !== undefined) clearInterval(this.#reporter);
    this.#reporter = undefined;
  }

  #reportError(err: unknown): void {
    if (this.#state === 'closed' || this.link.recoverable(err)) return;
    this.emit('error', isDpnsError(err) ? err : new DpnsError('INTERNAL', String(err), { cause: err }));
  }

  /** Unadvertises the name and stops re-advertising it. Safe to call twice. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#state = 'closed';
    this.#stopReporter();
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
    this.#stopReporter();
  }
}
