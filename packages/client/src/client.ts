// DpnsClient: the library clients and services use to talk to the dpns name servers.
// It owns the session a connection must carry (admin login, owner identity, watches,
// advertisements) and puts it back after every reconnect; the Channel does the wire work.
import {
  assertName, compileGlob, DpnsError, isDpnsError,
  type EntryView, type Location, type MethodName, type Params, type Result, type WatchEventParams,
} from '@dpns/protocol';
import { Advertisement, type AdvertisementLink } from './advertisement.js';
import { Channel, type ClientState } from './channel.js';
import type { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { normalizeOptions, type DpnsClientOptions, type NormalizedOptions } from './options.js';
import { Register } from './register.js';
import { Session } from './session.js';
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
  readonly #session: Session;
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
      restore: (conn) => this.#session.restore(conn),
      opened: (conn) => this.#opened(conn),
      lost: (reason) => this.#lost(reason),
      watchEvent: (p) => this.#routeEvent(p),
      state: (s) => this.emit('state', s),
      error: (e) => this.emit('error', e),
    });
    this.#session = new Session(this.#channel, this.#opts.token, (e) => this.emit('error', e));
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
      throw this.#session.explain(err);
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
    this.#session.ensureOwnerKey();
    await this.connect();
    const conn = this.#channel.connection;
    // A connection lost meanwhile is fine: the next one identifies before the advertise is sent.
    if (conn !== undefined) await this.#session.identify(conn).catch(() => undefined);
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
}
