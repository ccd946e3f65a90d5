// Liveness of a peer: ping every interval; a peer that has not answered since the last
// ping is dead. So a vanished peer is noticed between one and two intervals after it went.

export interface HeartbeatTarget {
  ping(): void;
  /** Called once, when the peer missed a beat. */
  dead(): void;
}

export class Heartbeat {
  private readonly targets = new Map<HeartbeatTarget, boolean>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
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
    this.timer = undefined;
    this.targets.clear();
  }

  private beat(): void {
    for (const [t, ok] of this.targets) {
      if (!ok) {
        this.targets.delete(t);
        t.dead();
      } else {
        this.targets.set(t, false);
        t.ping();
      }
    }
  }
}
