// DpnsClient: the library clients and services use to talk to the dpns name servers.
// It owns the session a connection must carry (admin login, owner identity, watches,
// advertisements) and puts it back after every reconnect; the Channel does the wire work.
import {
  assertName, compileGlob, DpnsError, isDpnsError,
  type EntryView, type LaunchTicket, type Location, type MethodName, type Params, type Result, type TicketPairParams,
  type SingleWatchEvent,
  type WatchEventParams,
  type HealthCheck,
} from '@dpns/protocol';
import { Advertisement, type AdvertisementLink } from './advertisement.js';
import { ClientPair, newBoxKeyPair } from './auth-pair.js';
import type { Channel, ClientState } from './channel.js';
import type { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { Modules } from './modules.js';
import { Agents } from './agents.js';
import { normalizeOptions, type DpnsClientOptions, type NormalizedOptions } from './options.js';
import { Channels, type ChannelRole } from './read-routing.js';
import { Register } from './register.js';
import { ServerRequests } from './server-requests.js';
import { askAnyServer } from './servers-query.js';
import { Session } from './session.js';
import { isUntrustedServer, TicketHolder } from './ticket-holder.js';
import { Watch, type WatchLink, type WatchOptions } from './watch.js';

export interface ClientEvents {
  /** The connection state changed. */
  state: [ClientState];
  /** A connection opened (the first, or after a reconnect) and the session was restored. */
  open: [{ server: string }];
  /** The open connection dropped; the client is reconnecting. */
  disconnect: [DpnsError];
  /** A background failure no caller is waiting for (login refused, identify refused, a bad ticket.pair). */
  error: [DpnsError];
}

/** Options of `findServices`. */
export interface FindOptions {
  /**
   * Launch a named auto-start service that is not running, and answer once it runs (default true).
   * False answers NOT_RUNNING instead.
   */
  launch?: boolean;
}

/** Options of `advertise`. */
export interface AdvertiseOptions {
  /**
   * The launch ticket of a service started by dpns-launchd (`parseLaunchTicket` of its stdin
   * line): every advertisement carries its proof, the name server must prove it holds its half,
   * and the client answers the server's `ticket.challenge` for this name. See DpnsService.
   */
  ticket?: LaunchTicket;
}

/** What `launchService` answers. */
export interface LaunchResult {
  service: Location;
  /** True when this call started it; false when it was already running (or being started). */
  launched: boolean;
}

/** What `killService` answers. */
export interface KillResult {
  revision: number;
  /** The signal that ended it, when the agent had to send one. */
  signal?: 'SIGTERM' | 'SIGKILL';
  /** True when the process was already gone. */
  alreadyGone: boolean;
}

/** What `servers` answers: this server's SID, its epoch, the primary's SID, and a row per member. */
export type ServersResult = Result<'servers'>;
/** What a membership change answers: the member's SID and address, the voters after it, the configuration record's index. */
export type MembershipResult = Result<'servers.add'>;

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

/** A pause that does not keep the process alive. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class DpnsClient extends Emitter<ClientEvents> {
  readonly #opts: NormalizedOptions;
  readonly #channels: Channels;
  /** The connection to the primary: writes, launches, admin calls, advertisements. */
  readonly #channel: Channel;
  readonly #session: Session;
  readonly #watches = new Set<Watch>();
  readonly #watchById = new Map<string, Watch>();
  readonly #earlyEvents = new Map<string, SingleWatchEvent[]>();
  readonly #ads = new Map<string, Advertisement>();
  readonly #tickets = new TicketHolder();
  readonly #serverRequests = new ServerRequests();
  /** Ticketed advertisements refused in a row because the server did not prove itself. */
  #untrustedStreak = 0;
  /** The admin's registry operations. */
  readonly register: Register;
  /** The admin's management of external modules. */
  readonly modules: Modules;
  /** Which launch agents are trusted on which hosts, and join tokens. */
  readonly agents: Agents;

  constructor(options: DpnsClientOptions = {}) {
    super();
    this.#opts = normalizeOptions(options);
    this.#channels = new Channels(this.#opts, this.#opts.readFromBackups, (role) => ({
      restore: (conn) => (role === 'reads' ? Promise.resolve() : this.#session.restore(conn)),
      opened: (conn) => this.#opened(role, conn),
      lost: (reason) => this.#lost(role, reason),
      watchEvent: (p) => this.#routeEvent(p),
      serverRequest: (conn, id, method, params) => void this.#serverRequests.answer(conn, id, method, params),
      ticketPair: (p) => this.#ticketPair(p),
      // `state` follows the connection that reads go over (the only one without read-from-backups).
      state: (s) => {
        if (role !== 'primary') this.emit('state', s);
      },
      error: (e) => this.emit('error', e),
    }));
    this.#channel = this.#channels.primary;
    this.#session = new Session(this.#channel, this.#opts.token, (e) => this.emit('error', e), this.#opts.ownerKey);
    this.register = new Register((method, params) => this.call(method, params));
    this.modules = new Modules((method, params) => this.call(method, params));
    this.agents = new Agents((method, params) => this.call(method, params));
    this.#serverRequests.handle('ticket.challenge', (conn, params) => this.#tickets.answerChallenge(conn, params));
  }

  /** idle · connecting · open · closed: of the connection reads go over (see readFromBackups). */
  get state(): ClientState {
    return this.#channels.reads.state;
  }

  /** The server of the open connection ("host:port"), if any; the reads connection with readFromBackups. */
  get server(): string | undefined {
    return this.#channels.reads.connection?.endpoint.label;
  }

  /**
   * Connects now rather than at the first call (with readFromBackups, the reads connection; the
   * primary's is made at the first call that needs it). Rejects with CONNECTION_LOST if no server answers.
   */
  connect(): Promise<void> {
    return this.#channels.reads.connect();
  }

  /**
   * Sends any protocol method with typed params and result. Params are checked locally first;
   * wire errors reject as DpnsError with the server's code.
   */
  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    return this.#call(method, params);
  }

  async #call<M extends MethodName>(method: M, params: Params<M>, opts: { pinned?: Connection; timeoutMs?: number; built?: boolean } = {}): Promise<Result<M>> {
    try {
      const channel = this.#channels.for(method, params);
      return await (opts.built === true ? channel.requestBuilt(method, params, opts.pinned, opts.timeoutMs) : channel.request(method, params, opts.pinned, opts.timeoutMs));
    } catch (err) {
      throw this.#session.explain(err);
    }
  }

  /**
   * Calls a method of an external module loaded in the name server: `method` is
   * `<prefix>.<method>` (e.g. "dir.lookup"), `params` a JSON object or array. Resolves with the
   * module's answer; a refusal rejects with the module's code (NOT_FOUND, INVALID_PARAMS, ...),
   * a module that fails with MODULE_FAILED (details.cause) or MODULE_TIMEOUT. Never re-sent
   * after a lost connection, since the module may have acted on it.
   */
  async callModule(method: string, params: unknown = {}, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    try {
      return await this.#channel.requestModule(method, params, opts.timeoutMs);
    } catch (err) {
      throw this.#session.explain(err);
    }
  }

  /** Names matching a glob pattern (default every name), sorted. */
  async listServices(pattern = '*'): Promise<string[]> {
    return (await this.call('listServices', { pattern })).names;
  }

  /**
   * Where a name (or the names matching a pattern) runs; aliases are resolved. A name of an
   * auto-start service that is not running is launched first (unless `launch: false`), so this
   * may wait up to `launchTimeoutMs`; a launch that fails rejects with LAUNCH_FAILED.
   */
  async findServices(nameOrPattern: string, opts: FindOptions = {}): Promise<Location[]> {
    const launch = opts.launch ?? true;
    const timeoutMs = launch ? this.#opts.launchTimeoutMs : this.#opts.requestTimeoutMs;
    return (await this.#call('findServices', { pattern: nameOrPattern, launch }, { timeoutMs })).services;
  }

  /**
   * Starts an auto-start service through its host's launch agent and answers once it has
   * advertised (at once when it already runs). LAUNCH_FAILED says why it did not start;
   * RATE_LIMITED when launches are asked for too quickly.
   */
  async launchService(name: string): Promise<LaunchResult> {
    const r = await this.#call('launchService', { name }, { timeoutMs: this.#opts.launchTimeoutMs });
    return { service: r.service, launched: r.launched };
  }

  /** Stops a launched service through its agent: SIGTERM to its process group, then SIGKILL (admin). */
  async killService(name: string): Promise<KillResult> {
    const r = await this.#call('killService', { name }, { timeoutMs: this.#opts.launchTimeoutMs });
    const out: KillResult = { revision: r.revision, alreadyGone: r.alreadyGone };
    if (r.signal !== undefined) out.signal = r.signal;
    return out;
  }

  /** Kills and launches a service again; answers with its new address (admin). */
  async resetService(name: string): Promise<Location> {
    return (await this.#call('resetService', { name }, { timeoutMs: this.#opts.launchTimeoutMs })).service;
  }

  /**
   * The paper's Figure 7: the name server checks the running service still holds its ticket and
   * issues a fresh pair, half to this client (sealed to a one-off key made here) and half to the
   * service. The returned ClientPair proves this client to the service and checks the service.
   */
  async authenticateService(name: string): Promise<ClientPair> {
    const key = newBoxKeyPair();
    const r = await this.#call('authenticateService', { name, boxKey: key.publicKey });
    return ClientPair.open(r, key);
  }

  /** The entries matching a pattern, with their states. */
  async serviceState(pattern = '*'): Promise<EntryView[]> {
    return (await this.call('serviceState', { pattern })).entries;
  }

  /**
   * Every server of the cluster as one of them sees it: role, epoch, last log index, lag and
   * whether it is heard from. Asked of the open connection when there is one (the primary),
   * otherwise of the first server that answers, whatever its role: this works while the cluster
   * has no primary, which is when it is most wanted. A stand-alone server answers with one row.
   */
  async servers(): Promise<ServersResult> {
    if (this.state === 'closed') throw new DpnsError('CLOSED', 'the client is closed');
    const open = [this.#channel, this.#channels.reads].find((c) => c.state === 'open');
    if (open !== undefined) return open.request('servers', {});
    return askAnyServer(this.#opts);
  }

  /**
   * Adds the name server at `address` (HOST:PORT, started with --join) to the cluster as a voter,
   * with the next unused SID (admin). Resolves once the configuration record is committed; a second
   * change while one is pending fails MEMBERSHIP_CHANGE_PENDING (docs/CLUSTER.md, "Membership changes").
   * It waits up to `launchTimeoutMs`, as a launch does: catching a server up with a large registry
   * (a snapshot of a million names) takes seconds.
   */
  async addServer(address: string): Promise<MembershipResult> {
    return this.#call('servers.add', { address }, { timeoutMs: this.#opts.launchTimeoutMs });
  }

  /** Removes member `sid` from the cluster's voters (admin); resolves once the change is committed. */
  async removeServer(sid: number): Promise<MembershipResult> {
    return this.call('servers.remove', { sid });
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
   * `await ad.close()` unadvertises it. A launched service passes its `ticket` (DpnsService
   * does this); a name server that cannot prove it holds the name server's half is not trusted
   * (TICKET_REFUSED), and the next server is tried.
   */
  async advertise(name: string, host: string, port: number, opts: AdvertiseOptions = {}): Promise<Advertisement> {
    assertName(name);
    if (this.#ads.has(name)) throw new DpnsError('ALREADY_EXISTS', `${name} is already advertised by this client`);
    const ticket = opts.ticket;
    if (ticket !== undefined && ticket.service !== name) {
      throw new DpnsError('INVALID_PARAMS', `the launch ticket is for ${ticket.service}, not ${name}`);
    }
    // A launched service re-proves its ticket after a reconnect; only others need an owner key.
    if (ticket === undefined) this.#session.ensureOwnerKey();
    const ad = new Advertisement(name, host, port, this.#adLink, ticket !== undefined);
    if (ticket !== undefined) this.#tickets.hold(ticket);
    try {
      await this.#advertiseFirst(ad);
    } catch (err) {
      if (ticket !== undefined) this.#tickets.release(name);
      throw err;
    }
    if (this.state === 'closed') {
      ad.end();
      return ad;
    }
    this.#ads.set(name, ad);
    return ad;
  }

  /** The first advertisement; a ticketed one tries each server once until one proves itself. */
  async #advertiseFirst(ad: Advertisement): Promise<void> {
    for (let tried = 1; ; tried++) {
      await this.#channel.connect();
      const conn = this.#channel.connection;
      // A connection lost meanwhile is fine: the next one identifies before the advertise is sent.
      if (conn !== undefined) await this.#session.identify(conn).catch(() => undefined);
      try {
        await this.#adLink.advertise(ad);
        return;
      } catch (err) {
        if (!isUntrustedServer(err) || tried >= this.#opts.endpoints.length) throw err;
        this.emit('error', err);
      }
    }
  }

  /** Records a static entry for a program that does not speak dpns; stays until unadvertised (admin). */
  async advertiseStatic(name: string, host: string, port: number, options: { check?: HealthCheck } = {}): Promise<void> {
    await this.call('advertiseService', { name, host, port, static: true, ...(options.check === undefined ? {} : { check: options.check }) });
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
    const closing = this.#channels.close();
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
    recoverable: (err) => this.#recoverable(this.#channels.reads, err),
    isOpen: () => this.#channels.reads.state === 'open',
  };

  readonly #adLink: AdvertisementLink = {
    advertise: (ad) => (ad.ticketed
      ? this.#advertiseWithTicket(ad)
      : this.call('advertiseService', { name: ad.name, host: ad.host, port: ad.port, static: false })),
    unadvertise: async (ad) => {
      await this.call('unadvertiseService', { name: ad.name });
    },
    reportLoad: async (ad, load) => {
      await this.call('reportLoad', { name: ad.name, load });
    },
    release: (ad) => {
      if (this.#ads.get(ad.name) === ad) this.#ads.delete(ad.name);
      if (ad.ticketed) this.#tickets.release(ad.name);
    },
    recoverable: (err) => this.#recoverable(this.#channel, err),
  };

  /**
   * Advertises with the launch ticket's proof over the open connection's nonce, so it is pinned
   * to that connection. A server that fails to prove itself is dropped; the channel then dials
   * the next one, where the advertisement is made again.
   */
  async #advertiseWithTicket(ad: Advertisement): Promise<Result<'advertiseService'>> {
    const conn = this.#channel.connection;
    if (conn === undefined) throw new DpnsError('CONNECTION_LOST', `no open connection to advertise ${ad.name} on`);
    try {
      const r = await this.#tickets.advertise(conn, ad, (params) => this.#call('advertiseService', params, { pinned: conn, built: true }));
      this.#untrustedStreak = 0;
      return r;
    } catch (err) {
      if (isUntrustedServer(err)) {
        // One round through the servers goes at once; after that, pace the rounds, or a lone
        // untrusted server would be re-dialed as fast as it answers.
        const beyond = ++this.#untrustedStreak - this.#opts.endpoints.length;
        if (beyond > 0) await sleep(Math.min(this.#opts.backoff.maxDelayMs, this.#opts.backoff.minDelayMs * 2 ** beyond));
        await conn.close();
      }
      throw err;
    }
  }

  /** A `ticket.pair` for a launched service advertised here: opened with its ticket, handed to its advertisement. */
  #ticketPair(p: TicketPairParams): void {
    const ad = this.#ads.get(p.name);
    if (ad === undefined || !ad.ticketed) {
      this.emit('error', new DpnsError('BAD_RESPONSE', `a ticket.pair arrived for ${p.name}, which this client does not advertise with a ticket`));
      return;
    }
    try {
      ad.deliverPair(this.#tickets.openPair(p));
    } catch (err) {
      this.emit('error', isDpnsError(err) ? err : new DpnsError('INTERNAL', String(err), { cause: err }));
    }
  }

  /** A failure that the next reconnect of `channel` repairs (as opposed to a refusal). */
  #recoverable(channel: Channel, err: unknown): boolean {
    return channel.willReconnect && (isDpnsError(err, 'CONNECTION_LOST') || isDpnsError(err, 'TIMEOUT'));
  }

  /** A connection opened: watches subscribe again over the reads one, advertisements over the primary's. */
  #opened(role: ChannelRole, conn: Connection): void {
    if (role !== 'primary') {
      this.#earlyEvents.clear();
      for (const w of this.#watches) if (w.state === 'detached') w.start();
    }
    if (role !== 'reads') for (const ad of this.#ads.values()) ad.readvertise();
    this.emit('open', { server: conn.endpoint.label });
  }

  #lost(role: ChannelRole, reason: DpnsError): void {
    if (role !== 'primary') {
      this.#watchById.clear();
      this.#earlyEvents.clear();
      for (const w of this.#watches) w.detach();
    }
    if (role !== 'reads') for (const ad of this.#ads.values()) ad.detach();
    this.emit('disconnect', reason);
  }

  #routeEvent(params: WatchEventParams): void {
    const { watchIds, ...change } = params;
    for (const watchId of watchIds) this.#routeOne({ ...change, watchId });
  }

  #routeOne(p: SingleWatchEvent): void {
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
