// Liveness of a peer: ping every interval; a peer that has not answered since the last ping is
// dead. So a vanished peer is noticed between one and two intervals after it went.
//
// Fair: a peer is judged only on time the server could have heard it.
// - The judgement runs one turn of the event loop after the beat's timer (setImmediate runs
//   after libuv's poll phase), so answers already waiting in socket buffers are read first.
//   Without this, a server busy for longer than an interval wakes up, fires its timer before it
//   reads its sockets, and drops every peer whose answer is sitting unread.
// - A small probe timer measures how long the event loop was held (a long request, a GC pause,
//   an overloaded machine). A round in which the server could listen for less than three
//   quarters of an interval judges nobody: it starts a fresh round, as if it had just pinged.

export interface HeartbeatTarget {
  ping(): void;
  /** Called once, when the peer missed a beat. */
  dead(): void;
}

export interface HeartbeatOptions {
  /** Monotonic milliseconds. */
  now?: () => number;
  /** Told when a round judged nobody because the server was held for `stalledMs` of it. */
  onLateRound?: (stalledMs: number) => void;
  /** Measure stalls with a probe timer (default true); tests that drive the clock report them with `stalled`. */
  probe?: boolean;
}

/** How often the probe looks at the clock; a tick later than twice this counts as a stall. */
const PROBE_MS = 25;

/**
 * Pings sent per turn of the event loop. A ping is a syscall (~10 µs on the benchmark VM, its
 * pong another read): a round's pings to 1,000 peers in one loop held the event loop ~10 ms,
 * then their pongs, all ready at once, ~10 ms more — once a second, a write arriving then waited
 * for both. In slices, a request waits for one slice at most, and the pongs come back spread.
 */
export const PING_SLICE = 32;

export class Heartbeat {
  private readonly targets = new Map<HeartbeatTarget, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private judging: NodeJS.Immediate | undefined;
  /** The rest of a round's pings, sent a slice a turn. */
  private pinging: { list: readonly HeartbeatTarget[]; next: number; immediate: NodeJS.Immediate } | undefined;
  private lastBeat = 0;
  /** Milliseconds the event loop was held since the last round. */
  private stalledMs = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private lastProbe = 0;
  private readonly now: () => number;
  /** Rounds that judged nobody because the server was late. */
  lateRounds = 0;

  constructor(private readonly intervalMs: number, private readonly opts: HeartbeatOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.lastBeat = this.now();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
    if (this.opts.probe !== false) {
      this.lastProbe = this.now();
      this.probeTimer = setInterval(() => {
        const t = this.now();
        const late = t - this.lastProbe - PROBE_MS;
        this.lastProbe = t;
        if (late > PROBE_MS) this.stalled(late);
      }, PROBE_MS);
      this.probeTimer.unref();
    }
  }

  /** The event loop was held for `ms`: the server could not hear anyone meanwhile. */
  stalled(ms: number): void {
    this.stalledMs += ms;
  }

  add(t: HeartbeatTarget): void {
    this.targets.set(t, true);
  }

  remove(t: HeartbeatTarget): void {
    this.targets.delete(t);
  }

  /** The peer showed it is alive (a pong, or any frame). */
  alive(t: HeartbeatTarget): void {
    if (this.targets.has(t)) this.targets.set(t, true);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.probeTimer !== undefined) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    if (this.judging !== undefined) clearImmediate(this.judging);
    if (this.pinging !== undefined) clearImmediate(this.pinging.immediate);
    this.pinging = undefined;
    this.timer = undefined;
    this.judging = undefined;
    this.targets.clear();
  }

  /** Called by the interval timer; exposed for tests that drive the clock themselves. */
  beat(): void {
    if (this.judging !== undefined) return;
    this.judging = setImmediate(() => {
      this.judging = undefined;
      this.judge();
    });
  }

  private judge(): void {
    const now = this.now();
    // The probe may not have ticked since the last stall ended (the judgement can run first).
    if (this.opts.probe !== false) {
      const late = now - this.lastProbe - PROBE_MS;
      if (late > PROBE_MS) this.stalled(late);
      this.lastProbe = now;
    }
    const hearing = now - this.lastBeat - this.stalledMs;
    const stalled = this.stalledMs;
    this.lastBeat = now;
    this.stalledMs = 0;
    // Pings of the last round still unsent (an interval shorter than its slices took): their
    // peers had no fair chance, so this round judges nobody.
    const unsent = this.pinging !== undefined;
    if (unsent) this.flushPings();
    // A quarter of an interval of slack: timers are never exact, and a loaded machine may be a
    // little behind without any peer having had less than a fair chance.
    const fair = hearing >= this.intervalMs * 0.75 && !unsent;
    if (!fair) {
      this.lateRounds++;
      this.opts.onLateRound?.(stalled);
    }
    const ping: HeartbeatTarget[] = [];
    for (const [t, ok] of this.targets) {
      if (!ok && fair) {
        this.targets.delete(t);
        t.dead();
      } else {
        this.targets.set(t, false);
        ping.push(t);
      }
    }
    this.sendPings(ping, 0);
  }

  /** Pings `list` from `from` on: PING_SLICE now, the rest a slice a turn. */
  private sendPings(list: readonly HeartbeatTarget[], from: number): void {
    const end = Math.min(list.length, from + PING_SLICE);
    this.pingRange(list, from, end);
    this.pinging = end < list.length ? { list, next: end, immediate: setImmediate(() => this.sendPings(list, end)) } : undefined;
  }

  /** Sends the pings still waiting for their turn, at once. */
  private flushPings(): void {
    const p = this.pinging;
    if (p === undefined) return;
    clearImmediate(p.immediate);
    this.pinging = undefined;
    this.pingRange(p.list, p.next, p.list.length);
  }

  /** A peer removed since its round was judged is not pinged. */
  private pingRange(list: readonly HeartbeatTarget[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const t = list[i] as HeartbeatTarget;
      if (this.targets.has(t)) t.ping();
    }
  }
}
