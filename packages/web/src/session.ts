// The page's link to the name server: connects to the page's own origin, reconnects with
// back-off when the connection drops, logs in again with the admin token it was given, and checks
// the server is alive (and how far its clock is from ours) with a `ping` every few seconds.
import { adminProof } from '@dpns/protocol/admin-proof';
import { RpcConnection, RpcError } from './rpc.js';
import type { HelloParams, MethodName, Params, Result, WatchEventParams } from './protocol.js';

export type LinkState = 'connecting' | 'open' | 'waiting' | 'closed';

/** What the header shows about the connection. */
export interface SessionStatus {
  state: LinkState;
  /** The current connection's hello (absent until the first one). */
  hello?: HelloParams;
  /** Whether this connection has logged in as admin. */
  admin: boolean;
  /** Why the last connection ended, while reconnecting. */
  lastError?: string;
  /** Epoch ms of the next reconnect attempt while `waiting`. */
  retryAt?: number;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const PING_EVERY_MS = 5_000;
const PING_DEADLINE_MS = 10_000;
/** sessionStorage key of the admin token: kept for this tab only, never in localStorage. */
const TOKEN_KEY = 'dpns.adminToken';

export class Session {
  private conn: RpcConnection | undefined;
  private status: SessionStatus = { state: 'connecting', admin: false };
  private token: string | undefined;
  private backoffMs = MIN_BACKOFF_MS;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private readonly statusListeners = new Set<(s: SessionStatus) => void>();
  private readonly readyListeners = new Set<() => void>();
  private readonly eventListeners = new Set<(ev: WatchEventParams) => void>();
  /** Server clock minus ours, in ms, from the last ping: `since` is the server's clock. */
  clockOffsetMs = 0;

  constructor(private readonly url: string) {
    this.token = readStoredToken();
  }

  /** Opens the first connection. */
  start(): void {
    this.connect();
  }

  /** Ends the session for good; safe to call twice. */
  close(): void {
    this.setStatus({ state: 'closed' });
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    this.conn?.close();
  }

  get current(): SessionStatus {
    return this.status;
  }

  /** Whether an admin token is known (given in this tab), whether or not it was accepted yet. */
  get hasToken(): boolean {
    return this.token !== undefined;
  }

  onStatus(fn: (s: SessionStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /** Called after each (re)connection's hello and re-login: the moment to watch again. */
  onReady(fn: () => void): () => void {
    this.readyListeners.add(fn);
    return () => this.readyListeners.delete(fn);
  }

  onWatchEvent(fn: (ev: WatchEventParams) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    if (this.conn === undefined || this.status.state !== 'open') {
      return Promise.reject(new RpcError('CONNECTION_LOST', 'not connected to the name server; reconnecting'));
    }
    return this.conn.call(method, params);
  }

  /**
   * Proves `token` on the current connection and keeps it (in memory, and in this tab's
   * sessionStorage when `remember`) to log in again after a reconnect. A refused token is dropped.
   */
  async login(token: string, remember: boolean): Promise<void> {
    const hello = this.status.hello;
    if (hello === undefined || this.status.state !== 'open') throw new RpcError('CONNECTION_LOST', 'not connected to the name server');
    try {
      await this.call('login', { proof: adminProof(token, hello.nonce) });
    } catch (e) {
      if (e instanceof RpcError && e.code === 'UNAUTHORIZED') this.forgetToken();
      throw e;
    }
    this.token = token;
    if (remember) writeStoredToken(token);
    this.setStatus({ admin: true });
  }

  /** Drops the admin token (this connection stays admin until it ends, as the protocol says). */
  forgetToken(): void {
    this.token = undefined;
    writeStoredToken(undefined);
  }

  private connect(): void {
    if (this.status.state === 'closed') return;
    this.setStatus({ state: 'connecting', admin: false });
    const conn = new RpcConnection(this.url, {
      onWatchEvent: (ev) => {
        for (const fn of this.eventListeners) fn(ev);
      },
      onClose: (reason) => {
        if (this.conn === conn) this.dropped(reason);
      },
    });
    this.conn = conn;
    conn.hello.then(
      (hello) => this.opened(conn, hello),
      () => undefined, // onClose handles it
    );
  }

  private async opened(conn: RpcConnection, hello: HelloParams): Promise<void> {
    this.backoffMs = MIN_BACKOFF_MS;
    this.setStatus({ state: 'open', hello, admin: false, lastError: undefined, retryAt: undefined });
    if (this.token !== undefined) {
      try {
        await this.login(this.token, false);
      } catch {
        // A refused token was dropped by login(); the page asks again on the next admin action.
      }
    }
    if (this.conn !== conn) return;
    window.clearInterval(this.pingTimer);
    this.pingTimer = window.setInterval(() => void this.ping(conn), PING_EVERY_MS);
    void this.ping(conn);
    for (const fn of this.readyListeners) fn();
  }

  /** A server that stopped answering (a cable pulled, a host frozen) gives no close event for minutes. */
  private async ping(conn: RpcConnection): Promise<void> {
    let timer: number | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = window.setTimeout(() => reject(new RpcError('TIMEOUT', `no answer to ping within ${PING_DEADLINE_MS / 1000} s`)), PING_DEADLINE_MS);
    });
    const sent = Date.now();
    try {
      const r = await Promise.race([conn.call('ping', {}), deadline]);
      this.clockOffsetMs = r.time - (sent + Date.now()) / 2;
    } catch (e) {
      if (e instanceof RpcError && e.code === 'TIMEOUT') conn.close();
    } finally {
      window.clearTimeout(timer);
    }
  }

  private dropped(reason: string): void {
    window.clearInterval(this.pingTimer);
    if (this.status.state === 'closed') return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.setStatus({ state: 'waiting', admin: false, lastError: reason, retryAt: Date.now() + delay });
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  private setStatus(patch: Partial<SessionStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const fn of this.statusListeners) fn(this.status);
  }
}

function readStoredToken(): string | undefined {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled
  }
}

function writeStoredToken(token: string | undefined): void {
  try {
    if (token === undefined) window.sessionStorage.removeItem(TOKEN_KEY);
    else window.sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token lives in memory for this page only.
  }
}
