// Liveness of one socket. A killed server process closes its TCP connections, but a host that
// vanishes (power, cable) does not: without pings the client would wait on a dead socket forever.
import type WebSocket from 'ws';

/** The server is declared dead after this many heartbeats without any frame from it... */
const MISSED_BEATS = 3;
/** ...but never sooner than this, so a server busy with a burst of writes is not dropped. */
const MIN_DEAD_MS = 5000;
/** Silent this many heartbeats (a ping went unanswered): the server may be frozen, not just busy. */
const SILENT_BEATS = 1.25;
/**
 * Or silent this many heartbeats since a request went out, with nothing heard since: a client
 * that is writing notices a frozen primary within a beat's quarter or half (the checks come four
 * a beat), not only once a ping goes unanswered, which with the default 1 s heartbeat came after
 * the cluster had already elected a successor (about 0.7 s after a SIGSTOP).
 */
const UNANSWERED_BEATS = 0.25;
const CHECKS_PER_BEAT = 4;

export class Heartbeat {
  #timer: NodeJS.Timeout | undefined;
  #lastHeard: number;
  /** When a request went out with nothing heard since; undefined once something was. */
  #awaitingSince: number | undefined;

  /**
   * Pings `ws` every `intervalMs`; calls `onDead` once when nothing has been heard for too long,
   * and `onSilent` at each check (four a beat) before that while a ping has gone unanswered.
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly intervalMs: number,
    private readonly onDead: () => void,
    private readonly onSilent: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.#lastHeard = now();
  }

  /**
   * Whether nothing has been heard for longer than an answered ping takes, or for a quarter beat
   * since a request went out. Only a suspicion: it makes the client ask the other members, never
   * drop the connection by itself.
   */
  get silent(): boolean {
    if (!(this.intervalMs > 0)) return false;
    const now = this.now();
    if (now - this.#lastHeard > SILENT_BEATS * this.intervalMs) return true;
    return this.#awaitingSince !== undefined && now - this.#awaitingSince > UNANSWERED_BEATS * this.intervalMs;
  }

  /** A request that expects an answer went out. */
  sent(): void {
    this.#awaitingSince ??= this.now();
  }

  start(): void {
    if (this.#timer !== undefined || !(this.intervalMs > 0)) return;
    const deadAfter = Math.max(MISSED_BEATS * this.intervalMs, MIN_DEAD_MS);
    // Four checks a beat, one ping: a frozen server is suspected within a quarter beat of it.
    let tick = 0;
    this.#timer = setInterval(() => {
      if (this.now() - this.#lastHeard > deadAfter) {
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
    this.#lastHeard = this.now();
    this.#awaitingSince = undefined;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
