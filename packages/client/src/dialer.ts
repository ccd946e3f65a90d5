// A channel's dial loop: rounds of dialing (primary-race.ts for the primary, dial.ts otherwise)
// with a wait between them (round-pacing.ts), until a connection is open and its session
// restored, or, before the first connection, until the owner gives up. One loop at a time; `stop()` aborts a dial in progress and waits for it.
import type { ClientOptions as WsOptions } from 'ws';
import { DpnsError, isDpnsError } from '@dpns/protocol';
import type { BackoffOptions } from './backoff.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import { dialRound, type Serves } from './dial.js';
import { racePrimary } from './primary-race.js';
import { RoundPacing } from './round-pacing.js';
import type { ServerList } from './server-list.js';

export interface DialerOptions {
  serves: Serves;
  connectTimeoutMs: number;
  ws: WsOptions;
  backoff: BackoffOptions;
}

/** What the loop asks of the channel that runs it. */
export interface DialerHost {
  /** A method, not a field: the channel may close during any await of the loop. */
  isClosed(): boolean;
  /** Login and identify on a fresh connection, before it is handed over. */
  restore(conn: Connection): Promise<void>;
  /** The loop has ended with this connection open and restored. */
  opened(conn: Connection): void;
  /** A round failed: true to try again after a back-off, false to give up. */
  retry(err: DpnsError): boolean;
  /** The loop has ended without a connection, after `retry` said no. */
  gaveUp(err: DpnsError): void;
}

export class Dialer {
  #running = false;
  /** The running loop, awaited by stop(). */
  #loop: Promise<void> | undefined;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  readonly #abort = new AbortController();
  readonly #pacing: RoundPacing;
  /** The last round's connection was greeted and then lost while the session was restored on it. */
  #lostWhileRestoring = false;

  constructor(
    private readonly servers: ServerList,
    private readonly opts: DialerOptions,
    private readonly handlers: ConnectionHandlers,
    private readonly host: DialerHost,
  ) {
    this.#pacing = new RoundPacing(opts.backoff);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts the loop unless it runs; waits `delayMs` first (pacing moves between servers). */
  start(delayMs = 0): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run(delayMs);
  }

  /** A connection stayed open: the next failure starts from the shortest back-off again. */
  resetBackoff(): void {
    this.#pacing.reset();
  }

  /** Aborts a dial in progress, ends a back-off early, and resolves once the loop is over. */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
    await this.#loop;
  }

  async #run(delayMs: number): Promise<void> {
    try {
      if (delayMs > 0) await this.#pause(delayMs);
      await this.#untilOpen();
    } finally {
      this.#running = false;
    }
  }

  /**
   * `#running` is cleared before the host hears the outcome: a caller that retries from a
   * rejection handler must start a new loop rather than join this finished one.
   */
  async #untilOpen(): Promise<void> {
    const host = this.host;
    while (!host.isClosed()) {
      let conn: Connection | undefined;
      try {
        const { start, first } = this.servers.nextRound();
        const dialOpts = { connectTimeoutMs: this.opts.connectTimeoutMs, ws: this.opts.ws, signal: this.#abort.signal };
        conn = this.opts.serves === 'primary'
          ? await racePrimary(this.servers, start, first, dialOpts, this.handlers)
          : await dialRound(this.servers, start, first, this.opts.serves, dialOpts, this.handlers);
        this.servers.openedAt(conn.endpoint);
        if (!host.isClosed()) await host.restore(conn);
        if (host.isClosed()) {
          await conn.close();
          return;
        }
        if (conn.state !== 'open') throw new DpnsError('CONNECTION_LOST', `connection to ${conn.endpoint.label} closed while logging in`);
        this.#lostWhileRestoring = false;
        this.#running = false;
        host.opened(conn);
        return;
      } catch (err) {
        if (conn !== undefined) void conn.close();
        if (host.isClosed()) return;
        let e = isDpnsError(err) ? err : new DpnsError('CONNECTION_LOST', String(err), { cause: err });
        // A server greeted us and the connection then died while logging in (its process was
        // killed, say): the cluster answers, so this is worth another round even before the
        // first connection, as a round that found only candidates is.
        if (conn !== undefined && e.code === 'CONNECTION_LOST' && e.details?.answered !== true) {
          e = new DpnsError('CONNECTION_LOST', e.message, { details: { ...e.details, answered: true }, cause: err });
        }
        if (!host.retry(e)) {
          this.#running = false;
          host.gaveUp(e);
          return;
        }
        // The first time a greeted connection is lost while logging in (its server was killed
        // under it), the next round goes at once: its members hold us until the election is
        // over (primary-race.ts). Again and again, and the rounds are paced as after any failure.
        const lostNow = conn !== undefined && !this.#lostWhileRestoring;
        this.#lostWhileRestoring = conn !== undefined;
        if (!lostNow) await this.#pause(this.#pacing.after(e.details?.answered === true));
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
}
