// The client's connection to "the name service": dials the servers in order, keeps one open
// connection (to the primary of a cluster, see dial.ts), reconnects after a drop (rotating
// through the servers, with backoff), and carries typed requests over whichever connection is
// open. Session state (login, identify, watches, advertisements) is restored through hooks,
// before queued requests are sent.
//
// Following the primary: a server that answers NOT_PRIMARY is left at once for the primary it
// names (or the next server), and the refused request is sent again there; a failover is a
// reconnect to another server. NO_QUORUM parks the request and tries again after a back-off.
// Writes carry a request id fixed for their lifetime, so that a write in flight when the primary
// died is sent again to the next one, which answers it without applying it twice (requests.ts).
import type { ClientOptions as WsOptions } from 'ws';
import {
  DpnsError, isDpnsError, parseModuleMethod, parseModuleParams, parseParams, WRITE_METHODS, type MethodName, type Params, type RequestId, type Result,
  type TicketPairParams, type WatchEventParams,
} from '@dpns/protocol';
import type { BackoffOptions } from './backoff.js';
import type { Connection } from './connection.js';
import type { Serves } from './dial.js';
import { Dialer } from './dialer.js';
import type { Endpoint } from './endpoints.js';
import type { Incoming } from './frames.js';
import { checkResult } from './guards.js';
import { closedError, lostInFlight, notPrimaryLost, timeoutError } from './local-errors.js';
import { racePrimary } from './primary-race.js';
import { frameFor, newRequestId, RequestTable, resendAfterDrop, settle, type PendingRequest } from './requests.js';
import { ServerList } from './server-list.js';

/** While the primary is silent, how often the other members are asked whether a newer primary exists. */
const PROBE_EVERY_MS = 200;
/** A probe's dial gives up on a member after this long (a frozen one accepts TCP but never greets). */
const PROBE_TIMEOUT_MS = 500;

/** idle: never connected, or the first attempt failed · connecting: dialing or re-dialing · open · closed: for good. */
export type ClientState = 'idle' | 'connecting' | 'open' | 'closed';

export interface ChannelOptions {
  endpoints: Endpoint[];
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  ws: WsOptions;
  /** Keep retrying the very first connection instead of failing when no server answers. */
  waitForServer: boolean;
  /** Which server to hold: the primary (default), or any that serves reads (see dial.ts). */
  serves?: Serves;
}

/** What the owner of the channel does at each step of a connection's life. */
export interface ChannelHooks {
  /** Runs on a fresh connection before anything queued is sent (login, identify). */
  restore(conn: Connection): Promise<void>;
  /** The connection is open and the queue flushed (re-watch, re-advertise). */
  opened(conn: Connection): void;
  /** The open connection dropped; the channel is already re-dialing. */
  lost(reason: DpnsError): void;
  watchEvent(params: WatchEventParams): void;
  /** The server sent a request (`ticket.challenge`); the owner answers it on `conn`. */
  serverRequest(conn: Connection, id: RequestId, method: string, params: unknown): void;
  /** A `ticket.pair` for one of this client's launched services. */
  ticketPair(params: TicketPairParams): void;
  state(state: ClientState): void;
  /** Something went wrong that no request is waiting for. */
  error(err: DpnsError): void;
}

export class Channel {
  #state: ClientState = 'idle';
  #conn: Connection | undefined;
  #nextId = 1;
  readonly #requests = new RequestTable();
  readonly #servers: ServerList;
  readonly #dialer: Dialer;
  /** When the current dial loop began trying to make the very first connection. */
  #firstDialAt: number | undefined;
  /** Why the last dial round failed, until a connection opens: said when a request times out waiting. */
  #lastDialError: DpnsError | undefined;
  #everOpened = false;
  /** A probe of the other members runs (see #probeFrom). */
  #probing = false;
  #openWaiters: { resolve: () => void; reject: (e: DpnsError) => void }[] = [];
  #closing: Promise<void> | undefined;

  constructor(private readonly opts: ChannelOptions, private readonly hooks: ChannelHooks) {
    this.#servers = new ServerList(opts.endpoints, opts.backoff);
    this.#dialer = new Dialer(this.#servers, { ...opts, serves: opts.serves ?? 'primary' }, {
      message: (c, msg) => this.#onMessage(c, msg),
      closed: (c, reason) => this.#onClosed(c, reason),
      silent: (c) => this.#probeFrom(c),
    }, {
      isClosed: () => this.#isClosed(),
      restore: (conn) => this.hooks.restore(conn),
      opened: (conn) => this.#opened(conn),
      retry: (e) => this.#retryDial(e),
      gaveUp: (e) => this.#gaveUp(e),
    });
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The open connection, if any. */
  get connection(): Connection | undefined {
    return this.#conn;
  }

  /** True once a connection has been open: from then on the channel re-dials forever. */
  get willReconnect(): boolean {
    return this.#state !== 'closed' && (this.#everOpened || this.opts.waitForServer);
  }

  /** Resolves once a connection is open (dialing if needed). */
  connect(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(closedError());
    if (this.#state === 'open') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#openWaiters.push({ resolve, reject });
      this.#ensureDialing();
    });
  }

  /**
   * Sends a request and resolves with its typed result. Params are checked locally with the
   * protocol's own parser first, so a bad name fails here with the server's wording.
   * `pinned` sends it on that connection only (proofs over its nonce); `timeoutMs` overrides
   * the request timeout (a launch may take up to its start timeout).
   */
  request<M extends MethodName>(method: M, params: Params<M>, pinned?: Connection, timeoutMs = this.opts.requestTimeoutMs): Promise<Result<M>> {
    if (this.#state === 'closed') return Promise.reject(closedError(method));
    let parsed: Params<M>;
    try {
      parsed = parseParams[method](params) as Params<M>;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.requestBuilt(method, parsed, pinned, timeoutMs);
  }

  /**
   * As `request`, for params the library assembled itself, sent without the local check: the
   * server checks them as it checks every request, with the same parser and wording. A launched
   * service's advertisement goes this way, since its process makes no other request, and the
   * check's first use compiles its schema (~2 ms, in the time a launch waits for).
   */
  requestBuilt<M extends MethodName>(method: M, params: Params<M>, pinned?: Connection, timeoutMs = this.opts.requestTimeoutMs): Promise<Result<M>> {
    if (this.#state === 'closed') return Promise.reject(closedError(method));
    const requestId = WRITE_METHODS.has(method) ? newRequestId() : undefined;
    return this.#request(method, params, requestId, pinned, timeoutMs, (r) => checkResult(method, r));
  }

  /**
   * Calls an external module: `method` is `<prefix>.<method>`, `params` a JSON object or array
   * that the module checks itself; the answer is whatever JSON the module gives.
   */
  requestModule(method: string, params: unknown, timeoutMs = this.opts.requestTimeoutMs): Promise<unknown> {
    if (this.#state === 'closed') return Promise.reject(closedError(method));
    let parsed: unknown;
    try {
      if (parseModuleMethod(method) === undefined) {
        throw new DpnsError('INVALID_PARAMS', `${JSON.stringify(method.slice(0, 64))} is not a module method: expected PREFIX.METHOD like dir.lookup, with a prefix that is not a built-in one`);
      }
      parsed = parseModuleParams(params);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#request(method, parsed, undefined, undefined, timeoutMs, (r) => r);
  }

  #request<R>(
    method: string, params: unknown, requestId: string | undefined, pinned: Connection | undefined, timeoutMs: number, check: (result: unknown) => R,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const p: PendingRequest = {
        id: this.#nextId++,
        method,
        params,
        requestId,
        pinned,
        resends: 0,
        conn: undefined,
        parked: undefined,
        lastRefusal: undefined,
        timer: setTimeout(() => {
          if (!this.#requests.remove(p)) return;
          settle(p);
          // Still refused for want of a quorum when time ran out: that says more than TIMEOUT.
          reject(p.lastRefusal ?? timeoutError(method, timeoutMs, {
            connected: p.conn !== undefined, sentWrite: requestId !== undefined && (p.conn !== undefined || p.resends > 0), lastDial: this.#lastDialError,
          }));
        }, timeoutMs),
        resolve: (result) => {
          try {
            resolve(check(result));
          } catch (err) {
            reject(err);
          }
        },
        reject,
      };
      const frame = frameFor(p, pinned ?? this.#conn);
      const limit = (pinned ?? this.#conn)?.hello.maxFrameBytes;
      if (limit !== undefined && Buffer.byteLength(frame) > limit) {
        clearTimeout(p.timer);
        reject(new DpnsError('FRAME_TOO_LARGE', `the ${method} request is ${Buffer.byteLength(frame)} bytes; the server accepts at most ${limit}`));
        return;
      }
      this.#dispatch(p);
    });
  }

  /** Closes for good: pending requests fail with CLOSED, timers stop, the socket closes. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#setState('closed');
    const dialing = this.#dialer.stop();
    this.#requests.rejectAll((p) => closedError(p.method));
    for (const w of this.#openWaiters.splice(0)) w.reject(closedError());
    const conn = this.#conn;
    this.#conn = undefined;
    this.#closing = (async () => {
      await conn?.close();
      // A dial in progress notices the closed state and closes what it opened.
      await dialing;
    })();
    return this.#closing;
  }

  #dispatch(p: PendingRequest): void {
    const conn = p.pinned ?? (this.#state === 'open' ? this.#conn : undefined);
    if (conn === undefined) {
      this.#requests.enqueue(p);
      this.#ensureDialing();
      return;
    }
    this.#send(p, conn);
  }

  #send(p: PendingRequest, conn: Connection): void {
    try {
      conn.send(frameFor(p, conn), true);
    } catch (err) {
      settle(p).reject(isDpnsError(err) ? err : lostInFlight(p.method, conn.endpoint.label, err));
      return;
    }
    this.#requests.sent(p, conn);
  }

  /** Sends `p` again: on the open connection, or first in line for the next one. */
  #resend(p: PendingRequest): void {
    p.conn = undefined;
    p.resends++;
    if (p.pinned !== undefined) {
      if (p.pinned.state === 'open') this.#send(p, p.pinned);
      else settle(p).reject(lostInFlight(p.method, p.pinned.endpoint.label));
      return;
    }
    if (this.#state === 'open' && this.#conn !== undefined) {
      this.#send(p, this.#conn);
      return;
    }
    this.#requests.enqueue(p, true);
    this.#ensureDialing();
  }

  #setState(state: ClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.hooks.state(state);
  }

  /** Starts the dial loop unless it runs; `delayMs` first when moving on from a non-primary. */
  #ensureDialing(delayMs = 0): void {
    if (this.#state === 'closed' || this.#dialer.running) return;
    if (this.#state === 'idle') this.#setState('connecting');
    this.#firstDialAt ??= Date.now();
    this.#dialer.start(delayMs);
  }

  /** A method, not a field read, so TypeScript does not carry a narrowing across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  /**
   * After a failed round: once a connection has been open the channel re-dials forever. Before
   * that it fails fast and visibly (a command line must not hang), except while servers answer
   * but none is the primary (a cluster between primaries, which takes about a second), for at
   * most a request timeout.
   */
  #retryDial(e: DpnsError): boolean {
    this.#lastDialError = e;
    if (this.willReconnect) return true;
    const since = this.#firstDialAt ?? Date.now();
    return e.details?.answered === true && Date.now() - since < this.opts.requestTimeoutMs;
  }

  /** The first connection could not be made: everything waiting for it fails with `e`. */
  #gaveUp(e: DpnsError): void {
    this.#firstDialAt = undefined;
    this.#setState('idle');
    this.#requests.rejectQueued(e);
    for (const w of this.#openWaiters.splice(0)) w.reject(e);
  }

  #opened(conn: Connection): void {
    this.#conn = conn;
    this.#everOpened = true;
    this.#firstDialAt = undefined;
    this.#lastDialError = undefined;
    this.#dialer.resetBackoff();
    this.#setState('open');
    for (const p of this.#requests.drainQueue()) this.#send(p, conn);
    for (const w of this.#openWaiters.splice(0)) w.resolve();
    this.hooks.opened(conn);
  }

  #onMessage(conn: Connection, msg: Incoming): void {
    switch (msg.kind) {
      case 'result': {
        const p = this.#requests.answered(msg.id, conn);
        if (p === undefined) return;
        this.#servers.settled();
        settle(p).resolve(msg.result);
        return;
      }
      case 'error': {
        const p = this.#requests.answered(msg.id, conn);
        const err = DpnsError.fromWire(msg.error);
        if (p === undefined) {
          if (msg.id === null) this.hooks.error(err);
          return;
        }
        if (err.code === 'NOT_PRIMARY') {
          this.#notPrimary(conn, p, err);
          return;
        }
        this.#servers.settled();
        if (err.code === 'NO_QUORUM') {
          this.#noQuorum(p, err);
          return;
        }
        settle(p).reject(err);
        return;
      }
      case 'watch.event':
        if (conn === this.#conn) this.hooks.watchEvent(msg.params);
        return;
      case 'ticket.pair':
        // Sealed under the service's ticket, so it is good whichever connection carried it.
        this.hooks.ticketPair(msg.params);
        return;
      case 'request':
        if (this.#state !== 'closed') this.hooks.serverRequest(conn, msg.id, msg.method, msg.params);
        return;
      // Connection has brought its hello up to date on a `cluster` notification; a primary that
      // steps down closes its connections right after saying so, and that close is what sends
      // the channel elsewhere.
      case 'hello':
      case 'cluster':
      case 'unknown':
        return;
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  /**
   * The primary we are connected to left a ping unanswered. A frozen process (SIGSTOP, a stalled
   * VM) keeps its sockets open, so only the heartbeat's death sentence (seconds) would end the
   * wait, while the other members elect a new primary within their failure window. So the others
   * are asked, every PROBE_EVERY_MS while the silence lasts: one that is primary in a newer epoch
   * than ours is where the next connection goes, and ours is given up. Nothing is lost by asking:
   * a busy primary that answers again, or members that know no newer primary, change nothing.
   */
  #probeFrom(conn: Connection): void {
    const cluster = conn.hello.cluster;
    if (this.#probing || conn !== this.#conn || cluster === undefined || this.#servers.length < 2) return;
    this.#probing = true;
    void (async () => {
      try {
        while (conn === this.#conn && conn.state === 'open' && conn.silent && !this.#isClosed()) {
          const newer = await this.#newerPrimary(conn, cluster.epoch);
          if (newer !== undefined && conn === this.#conn && conn.state === 'open') {
            this.#servers.preferNext(newer.endpoint);
            conn.abandon(`stopped answering; ${newer.endpoint.label} is the primary now (epoch ${newer.epoch})`);
            return;
          }
          await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
        }
      } finally {
        this.#probing = false;
      }
    })();
  }

  /** A primary other than `conn`'s server in an epoch after `epoch`, if one answers. */
  async #newerPrimary(conn: Connection, epoch: number): Promise<{ endpoint: Endpoint; epoch: number } | undefined> {
    const at = this.#servers.indexOf(conn.endpoint);
    let probe: Connection | undefined;
    try {
      // The others at once, not the silent server itself: one frozen member would otherwise hold
      // every probe that finds no primary for its whole connect timeout.
      probe = await racePrimary(this.#servers, at + 1, undefined, {
        connectTimeoutMs: Math.min(this.opts.connectTimeoutMs, PROBE_TIMEOUT_MS), ws: this.opts.ws,
      }, { message: () => undefined, closed: () => undefined }, conn.endpoint);
    } catch {
      return undefined;
    }
    void probe.close();
    const theirs = probe.hello.cluster;
    if (theirs === undefined || theirs.epoch <= epoch || this.#servers.indexOf(probe.endpoint) === at) return undefined;
    return { endpoint: probe.endpoint, epoch: theirs.epoch };
  }

  #onClosed(conn: Connection, reason: DpnsError): void {
    const wasOpen = conn === this.#conn;
    if (wasOpen) this.#conn = undefined;
    this.#rescue(conn, reason);
    if (!wasOpen || this.#state === 'closed') return;
    this.#servers.dropped();
    this.#setState('connecting');
    this.hooks.lost(reason);
    this.#ensureDialing();
  }

  /** The requests in flight on a connection that is gone: sent again, or failed (requests.ts). */
  #rescue(conn: Connection, reason: DpnsError): void {
    const requeue: PendingRequest[] = [];
    for (const p of this.#requests.takeInFlight(conn)) {
      if (this.#state !== 'closed' && resendAfterDrop(p, conn)) {
        p.resends++;
        p.conn = undefined;
        requeue.push(p);
      } else {
        settle(p).reject(lostInFlight(p.method, conn.endpoint.label, reason));
      }
    }
    // Re-sent requests go first, in their original order, ahead of calls made since.
    for (const p of requeue.reverse()) this.#requests.enqueue(p, true);
  }

  /**
   * `conn`'s server is not the primary (any more): the request was not committed there, so it is
   * sent again (a write with its request id, which makes that safe), and the client moves to the primary the answer names when that is a known member of
   * the cluster, otherwise to the next server.
   */
  #notPrimary(conn: Connection, p: PendingRequest, err: DpnsError): void {
    const reason = notPrimaryLost(conn.endpoint.label, err);
    if (conn === this.#conn) {
      this.#conn = undefined;
      this.#rescue(conn, reason);
      const delayMs = this.#servers.moveFrom(conn.endpoint, err.details?.primary);
      this.#setState('connecting');
      this.hooks.lost(reason);
      void conn.close();
      this.#ensureDialing(delayMs);
    }
    // A proof over this connection's nonce (login, identify, a ticket) is no good elsewhere.
    if (p.pinned !== undefined) settle(p).reject(reason);
    else this.#resend(p);
  }

  /** The primary has no majority behind it: wait, then try again (maybe on another primary by then). */
  #noQuorum(p: PendingRequest, err: DpnsError): void {
    p.lastRefusal = err;
    const { minDelayMs, maxDelayMs } = this.opts.backoff;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(p.resends, 30));
    this.#requests.park(p, Math.round(ceiling / 2 + Math.random() * (ceiling / 2)), (q) => this.#resend(q));
  }
}
