// The client's connection to "the name service": dials the servers in order, keeps one open
// connection, reconnects after a drop (rotating through the servers, with backoff), and carries
// typed requests over whichever connection is open. Session state (login, identify, watches,
// advertisements) is restored through hooks, before queued requests are sent.
import type { ClientOptions as WsOptions } from 'ws';
import {
  DpnsError, isDpnsError, parseModuleMethod, parseModuleParams, parseParams, type MethodName, type Params, type RequestId, type Result, type TicketPairParams,
  type WatchEventParams,
} from '@dpns/protocol';
import { Backoff, type BackoffOptions } from './backoff.js';
import type { Connection } from './connection.js';
import { dialRound } from './dial.js';
import type { Endpoint } from './endpoints.js';
import type { Incoming } from './frames.js';
import { checkResult } from './guards.js';
import { closedError, lostInFlight, timeoutError } from './local-errors.js';
import { isRetriable, RequestTable, type PendingRequest } from './requests.js';

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
  readonly #backoff: Backoff;
  /** Where the next dial round starts; advanced past a server that dropped us. */
  #nextIndex = 0;
  #everOpened = false;
  #dialing = false;
  /** The running dial loop, awaited by close(). */
  #loop: Promise<void> | undefined;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #openWaiters: { resolve: () => void; reject: (e: DpnsError) => void }[] = [];
  #closing: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(private readonly opts: ChannelOptions, private readonly hooks: ChannelHooks) {
    this.#backoff = new Backoff(opts.backoff);
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
    return this.#request(method, parsed, pinned, timeoutMs, (r) => checkResult(method, r));
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
    return this.#request(method, parsed, undefined, timeoutMs, (r) => r);
  }

  #request<R>(method: string, params: unknown, pinned: Connection | undefined, timeoutMs: number, check: (result: unknown) => R): Promise<R> {
    const id = this.#nextId++;
    const frame = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const limit = (pinned ?? this.#conn)?.hello.maxFrameBytes;
    if (limit !== undefined && Buffer.byteLength(frame) > limit) {
      return Promise.reject(new DpnsError('FRAME_TOO_LARGE', `the ${method} request is ${Buffer.byteLength(frame)} bytes; the server accepts at most ${limit}`));
    }
    return new Promise<R>((resolve, reject) => {
      const p: PendingRequest = {
        id,
        method,
        frame,
        pinned,
        retried: false,
        conn: undefined,
        timer: setTimeout(() => {
          if (this.#requests.remove(p)) reject(timeoutError(method, timeoutMs, p.conn !== undefined));
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
      this.#dispatch(p);
    });
  }

  /** Closes for good: pending requests fail with CLOSED, timers stop, the socket closes. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#setState('closed');
    this.#abort.abort();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
    this.#requests.rejectAll((p) => closedError(p.method));
    for (const w of this.#openWaiters.splice(0)) w.reject(closedError());
    const conn = this.#conn;
    this.#conn = undefined;
    this.#closing = (async () => {
      await conn?.close();
      // A dial in progress notices the closed state and closes what it opened.
      await this.#loop;
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
      conn.send(p.frame);
    } catch (err) {
      clearTimeout(p.timer);
      p.reject(isDpnsError(err) ? err : lostInFlight(p.method, conn.endpoint.label, err));
      return;
    }
    this.#requests.sent(p, conn);
  }

  #setState(state: ClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.hooks.state(state);
  }

  #ensureDialing(): void {
    if (this.#state === 'closed' || this.#dialing) return;
    if (this.#state === 'idle') this.#setState('connecting');
    this.#dialing = true;
    this.#loop = this.#dialLoop();
  }

  /** A method, not a field read, so TypeScript does not carry a narrowing across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  async #dialLoop(): Promise<void> {
    try {
      await this.#dialUntilOpen();
    } finally {
      this.#dialing = false;
    }
  }

  /**
   * Dials until a connection is open (or, before the first one, until a round fails).
   * `#dialing` is cleared before requests are settled: a caller that retries from a rejection
   * handler must start a new loop rather than join this finished one.
   */
  async #dialUntilOpen(): Promise<void> {
    while (!this.#isClosed()) {
      let conn: Connection | undefined;
      try {
        const dialled = await dialRound(this.opts.endpoints, this.#nextIndex, {
          connectTimeoutMs: this.opts.connectTimeoutMs, ws: this.opts.ws, signal: this.#abort.signal,
        }, {
          message: (c, msg) => this.#onMessage(c, msg),
          closed: (c, reason) => this.#onClosed(c, reason),
        });
        conn = dialled.conn;
        this.#nextIndex = dialled.index;
        if (!this.#isClosed()) await this.hooks.restore(conn);
        if (this.#isClosed()) {
          await conn.close();
          return;
        }
        if (conn.state !== 'open') throw new DpnsError('CONNECTION_LOST', `connection to ${conn.endpoint.label} closed while logging in`);
        this.#dialing = false;
        this.#opened(conn);
        return;
      } catch (err) {
        if (conn !== undefined) void conn.close();
        if (this.#isClosed()) return;
        const e = isDpnsError(err) ? err : new DpnsError('CONNECTION_LOST', String(err), { cause: err });
        if (!this.willReconnect) {
          // The first connection fails fast and visibly: a command line must not hang.
          this.#dialing = false;
          this.#setState('idle');
          this.#requests.rejectQueued(e);
          for (const w of this.#openWaiters.splice(0)) w.reject(e);
          return;
        }
        await this.#pause(this.#backoff.next());
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.#sleep = undefined;
        resolve();
      };
      this.#sleep = { timer: setTimeout(wake, ms), wake };
    });
  }

  #opened(conn: Connection): void {
    this.#conn = conn;
    this.#everOpened = true;
    this.#backoff.reset();
    this.#setState('open');
    for (const p of this.#requests.drainQueue()) this.#send(p, conn);
    for (const w of this.#openWaiters.splice(0)) w.resolve();
    this.hooks.opened(conn);
  }

  #onMessage(conn: Connection, msg: Incoming): void {
    switch (msg.kind) {
      case 'result':
        this.#requests.answered(msg.id, conn)?.resolve(msg.result);
        return;
      case 'error': {
        const p = this.#requests.answered(msg.id, conn);
        const err = DpnsError.fromWire(msg.error);
        if (p !== undefined) p.reject(err);
        else if (msg.id === null) this.hooks.error(err);
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
      case 'hello':
      case 'unknown':
        return;
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  #onClosed(conn: Connection, reason: DpnsError): void {
    const wasOpen = conn === this.#conn;
    if (wasOpen) this.#conn = undefined;
    const requeue: PendingRequest[] = [];
    for (const p of this.#requests.takeInFlight(conn)) {
      if (this.#state !== 'closed' && p.pinned === undefined && !p.retried && isRetriable(p.method)) {
        p.retried = true;
        p.conn = undefined;
        requeue.push(p);
      } else {
        clearTimeout(p.timer);
        p.reject(lostInFlight(p.method, conn.endpoint.label, reason));
      }
    }
    // Re-sent reads go first, in their original order, ahead of calls made since.
    for (const p of requeue.reverse()) this.#requests.enqueue(p, true);
    if (!wasOpen || this.#state === 'closed') return;
    this.#nextIndex = (this.#nextIndex + 1) % this.opts.endpoints.length;
    this.#setState('connecting');
    this.hooks.lost(reason);
    this.#ensureDialing();
  }
}
