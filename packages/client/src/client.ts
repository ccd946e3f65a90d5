// DpnsClient: the library clients and services use to talk to the dpns name servers.
// It owns the session a connection must carry (admin login, owner identity, watches,
// advertisements) and puts it back after every reconnect; the Channel does the wire work.
import {
  adminProof, assertName, compileGlob, DpnsError, identifySignature, isDpnsError, newOwnerKey,
  type EntryView, type Location, type MethodName, type OwnerKey, type Params, type Result, type WatchEventParams,
} from '@dpns/protocol';
import { Advertisement, type AdvertisementLink } from './advertisement.js';
import { Channel, type ClientState } from './channel.js';
import type { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { normalizeOptions, type DpnsClientOptions, type NormalizedOptions } from './options.js';
import { Register } from './register.js';
import { Watch, type WatchLink, type WatchOptions } from './watch.js';

export interface ClientEvents {
  /** The connection state changed. */
  state: [ClientState];
  /** A connection opened (the first, or after a reconnect) and the session was restored. */
  open: [{ server: string }];
  /** The open connection dropped; the client is reconnecting. */
  disconnect: [DpnsError];
  /** A background failure no caller is waiting for (login refused, identify refused). */
  error: [DpnsError];
}

/** What `ping` reports. */
export interface PingResult {
  /** The server answering, as "host:port". */
  server: string;
  revision: number;
  /** The server's clock, epoch milliseconds. */
  time: number;
  /** Round trip, milliseconds. */
  latencyMs: number;
}

/** Events that arrived for a watch id before the `watch` answer that names it; kept this long. */
const MAX_EARLY_EVENTS = 1000;

export class DpnsClient extends Emitter<ClientEvents> {
  readonly #opts: NormalizedOptions;
  readonly #channel: Channel;
  /** Made at the first `advertise`; proves ownership of this client's names on every connection. */
  #ownerKey: OwnerKey | undefined;
  readonly #identified = new WeakMap<Connection, Promise<void>>();
  #loginError: DpnsError | undefined;
  readonly #watches = new Set<Watch>();
  readonly #watchById = new Map<string, Watch>();
  readonly #earlyEvents = new Map<string, WatchEventParams[]>();
  readonly #ads = new Map<string, Advertisement>();
  /** The admin's registry operations. */
  readonly register: Register;

  constructor(options: DpnsClientOptions = {}) {
    super();
    this.#opts = normalizeOptions(options);
    this.#channel = new Channel(this.#opts, {
      restore: (conn) => this.#restore(conn),
      opened: (conn) => this.#opened(conn),
      lost: (reason) => this.#lost(reason),
      watchEvent: (p) => this.#routeEvent(p),
      state: (s) => this.emit('state', s),
      error: (e) => this.emit('error', e),
    });
    this.register = new Register((method, params) => this.call(method, params));
  }

  /** idle · connecting · open · closed. */
  get state(): ClientState {
    return this.#channel.state;
  }

  /** The server of the open connection ("host:port"), if any. */
  get server(): string | undefined {
    return this.#channel.connection?.endpoint.label;
  }

  /** Connects now rather than at the first call. Rejects with CONNECTION_LOST if no server answers. */
  connect(): Promise<void> {
    return this.#channel.connect();
  }

  /**
   * Sends any protocol method with typed params and result. Params are checked locally first;
   * wire errors reject as DpnsError with the server's code.
   */
  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    try {
      return await this.#channel.request(method, params);
    } catch (err) {
      throw this.#explain(err);
    }
  }

  /** Names matching a glob pattern (default every name), sorted. */
  async listServices(pattern = '*'): Promise<string[]> {
    return (await this.call('listServices', { pattern })).names;
  }

  /** Where a name (or the names matching a pattern) runs; aliases are resolved. */
  async findServices(nameOrPattern: string): Promise<Location[]> {
    return (await this.call('findServices', { pattern: nameOrPattern })).services;
  }

  /** The entries matching a pattern, with their states. */
  async serviceState(pattern = '*'): Promise<EntryView[]> {
    return (await this.call('serviceState', { pattern })).entries;
  }

  /** Measures a round trip to the server. */
  async ping(): Promise<PingResult> {
    const t0 = performance.now();
    const r = await this.call('ping', {});
    const latencyMs = performance.now() - t0;
    return { server: this.server ?? '', revision: r.revision, time: r.time, latencyMs };
  }

  /**
   * Watches the entries matching `pattern`. The watch re-subscribes by itself after a reconnect
   * and emits `resync` events for what changed meanwhile (see watch.ts). Throws INVALID_PATTERN.
   */
  watch(pattern = '*', options: WatchOptions = {}): Watch {
    if (this.state === 'closed') throw new DpnsError('CLOSED', 'the client is closed');
    compileGlob(pattern);
    const w = new Watch(pattern, options, this.#watchLink);
    this.#watches.add(w);
    w.start();
    return w;
  }

  /**
   * Advertises `name` at host:port for as long as this client lives: after a reconnect or a
   * server restart the client identifies with the same owner key and advertises it again.
   * `await ad.close()` unadvertises it.
   */
  async advertise(name: string, host: string, port: number): Promise<Advertisement> {
    assertName(name);
    if (this.#ads.has(name)) throw new DpnsError('ALREADY_EXISTS', `${name} is already advertised by this client`);
    this.#ownerKey ??= newOwnerKey();
    await this.connect();
    const conn = this.#channel.connection;
    if (conn !== undefined) await this.#identify(conn).catch(() => undefined);
    const ad = new Advertisement(name, host, port, this.#adLink);
    await this.call('advertiseService', { name, host, port, static: false });
    if (this.state === 'closed') {
      ad.end();
      return ad;
    }
    this.#ads.set(name, ad);
    return ad;
  }

  /** Records a static entry for a program that does not speak dpns; stays until unadvertised (admin). */
  async advertiseStatic(name: string, host: string, port: number): Promise<void> {
    await this.call('advertiseService', { name, host, port, static: true });
  }

  /** Removes an advertisement (this client's own, a static one as admin). */
  async unadvertiseService(name: string): Promise<void> {
    const ad = this.#ads.get(name);
    if (ad !== undefined) {
      await ad.close();
      return;
    }
    await this.call('unadvertiseService', { name });
  }

  /**
   * Closes the client; safe to call twice. Pending requests reject with CLOSED, watches end.
   * Advertisements are NOT unadvertised (the server marks them lost); close them first for a clean exit.
   */
  async close(): Promise<void> {
    const closing = this.#channel.close();
    for (const w of this.#watches) w.end();
    for (const ad of this.#ads.values()) ad.end();
    this.#watches.clear();
    this.#watchById.clear();
    this.#earlyEvents.clear();
    this.#ads.clear();
    await closing;
  }

  readonly #watchLink: WatchLink = {
    subscribe: (pattern) => this.call('watch', { pattern, initial: true }),
    unsubscribe: async (watchId) => {
      await this.call('unwatch', { watchId });
    },
    bind: (w, watchId) => {
      this.#watchById.set(watchId, w);
      const early = this.#earlyEvents.get(watchId);
      this.#earlyEvents.delete(watchId);
      for (const p of early ?? []) w.deliver(p);
    },
    release: (w) => {
      this.#watches.delete(w);
      for (const [id, x] of this.#watchById) if (x === w) this.#watchById.delete(id);
    },
    recoverable: (err) => this.#recoverable(err),
    isOpen: () => this.state === 'open',
  };

  readonly #adLink: AdvertisementLink = {
    advertise: (ad) => this.call('advertiseService', { name: ad.name, host: ad.host, port: ad.port, static: false }),
    unadvertise: async (ad) => {
      await this.call('unadvertiseService', { name: ad.name });
    },
    release: (ad) => {
      if (this.#ads.get(ad.name) === ad) this.#ads.delete(ad.name);
    },
    recoverable: (err) => this.#recoverable(err),
  };

  /** A failure that the next reconnect repairs (as opposed to a refusal). */
  #recoverable(err: unknown): boolean {
    return this.#channel.willReconnect && (isDpnsError(err, 'CONNECTION_LOST') || isDpnsError(err, 'TIMEOUT'));
  }

  /** Log in and identify on a fresh connection, before anything queued is sent on it. */
  async #restore(conn: Connection): Promise<void> {
    const { token } = this.#opts;
    if (token !== undefined) {
      try {
        await this.#channel.request('login', { proof: adminProof(token, conn.hello.nonce) }, conn);
        this.#loginError = undefined;
      } catch (err) {
        if (!isWireRefusal(err)) throw err;
        // A wrong token must not stop reads; admin calls will fail and say why (see #explain).
        this.#loginError = err;
        this.emit('error', err);
      }
    }
    if (this.#ownerKey !== undefined) await this.#identify(conn);
  }

  /** Proves the owner key on `conn`, once per connection. */
  #identify(conn: Connection): Promise<void> {
    const key = this.#ownerKey;
    if (key === undefined) return Promise.resolve();
    let done = this.#identified.get(conn);
    if (done === undefined) {
      done = this.#channel
        .request('identify', { publicKey: key.publicKey, signature: identifySignature(key, conn.hello.nonce) }, conn)
        .then(
          () => undefined,
          (err: unknown) => {
            this.#identified.delete(conn);
            if (!isWireRefusal(err)) throw err;
            this.emit('error', err);
          },
        );
      this.#identified.set(conn, done);
    }
    return done;
  }

  #opened(conn: Connection): void {
    this.#earlyEvents.clear();
    for (const w of this.#watches) if (w.state === 'detached') w.start();
    for (const ad of this.#ads.values()) ad.readvertise();
    this.emit('open', { server: conn.endpoint.label });
  }

  #lost(reason: DpnsError): void {
    this.#watchById.clear();
    this.#earlyEvents.clear();
    for (const w of this.#watches) w.detach();
    for (const ad of this.#ads.values()) ad.detach();
    this.emit('disconnect', reason);
  }

  #routeEvent(p: WatchEventParams): void {
    const w = this.#watchById.get(p.watchId);
    if (w !== undefined) {
      w.deliver(p);
      return;
    }
    // The server may send a new watch's first events before (or racing) the answer naming it.
    let early = this.#earlyEvents.get(p.watchId);
    if (early === undefined) {
      if (this.#earlyEvents.size >= MAX_EARLY_EVENTS) return;
      early = [];
      this.#earlyEvents.set(p.watchId, early);
    }
    if (early.length < MAX_EARLY_EVENTS) early.push(p);
  }

  /** Adds the login failure to an UNAUTHORIZED answer, which otherwise would not say why. */
  #explain(err: unknown): unknown {
    if (this.#loginError !== undefined && isDpnsError(err, 'UNAUTHORIZED')) {
      return new DpnsError('UNAUTHORIZED', `${err.message} (login with the given token was refused: ${this.#loginError.message})`, {
        details: err.details,
        cause: err,
      });
    }
    return err;
  }
}

/** True for an error the server answered with (as opposed to a lost connection or a timeout). */
function isWireRefusal(err: unknown): err is DpnsError {
  return err instanceof DpnsError && !['CONNECTION_LOST', 'TIMEOUT', 'CLOSED', 'BAD_RESPONSE'].includes(err.code);
}
