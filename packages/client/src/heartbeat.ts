// Liveness of one socket. A killed server process closes its TCP connections, but a host that
// vanishes (power, cable) does not: without pings the client would wait on a dead socket forever.
import type WebSocket from 'ws';

/** The server is declared dead after this many heartbeats without any frame from it... */
const MISSED_BEATS = 3;
/** ...but never sooner than this, so a server busy with a burst of writes is not dropped. */
const MIN_DEAD_MS = 5000;
/** Silent this many heartbeats (a ping went unanswered): the server may be frozen, not just busy. */
const SILENT_BEATS = 1.25;
const CHECKS_PER_BEAT = 4;

export class Heartbeat {
  #timer: NodeJS.Timeout | undefined;
  #lastHeard = Date.now();

  /**
   * Pings `ws` every `intervalMs`; calls `onDead` once when nothing has been heard for too long,
   * and `onSilent` at each check (four a beat) before that while a ping has gone unanswered.
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly intervalMs: number,
    private readonly onDead: () => void,
    private readonly onSilent: () => void = () => undefined,
  ) {}

  /** Whether nothing has been heard for longer than an answered ping takes. */
  get silent(): boolean {
    return this.intervalMs > 0 && Date.now() - this.#lastHeard > SILENT_BEATS * this.intervalMs;
  }

  start(): void {
    if (this.#timer !== undefined || !(this.intervalMs > 0)) return;
    const deadAfter = Math.max(MISSED_BEATS * this.intervalMs, MIN_DEAD_MS);
    // Four checks a beat, one ping: a frozen server is suspected within a quarter beat of it.
    let tick = 0;
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastHeard > deadAfter) {
        this.stop();
        this.onDead();
        return;
      }
      if (this.silent) this.onSilent();
      // ws answers pings automatically; the pong (or any frame) counts as hearing from it.
      if (tick++ % CHECKS_PER_BEAT === 0) this.ws.ping();
    }, Math.max(10, this.intervalMs / CHECKS_PER_BEAT));
    // A client waiting for nothing but heartbeats must not keep the process alive.
    this.#timer.unref();
  }

  /** Any frame from the server (message or pong) proves it is alive. */
  heard(): void {
    this.#lastHeard = Date.now();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
