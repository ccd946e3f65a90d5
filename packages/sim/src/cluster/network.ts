// The simulator's network: one link at a time between each pair of members, carrying frames
// with a delay and in order, as TCP does. A chaotic run spreads the delays widely and resets
// links at random (a lost frame on a TCP link ends the link: the core relies on a link never
// losing, duplicating or reordering frames, docs/CLUSTER.md); frames still in flight on a link
// that closes may yet be taken (read from the old socket before its close), after the frames of
// a newer link, so a member sees stale and repeated traffic across links. A partition blocks
// frames in one direction or both, and resets half the links it crosses (the rest go silent).
// Each end of a link is a PeerTransport, as the server's PeerLink is.
import type { PeerMessage, PeerTransport } from '@dpns/cluster-core';
import type { EventQueue } from './event-queue.js';

export interface NetworkSettings {
  /** Frames take this long at least, plus up to `jitterMs`. */
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Chaos: the chance that sending a frame resets its link instead (the frame, and those after it in flight, are lost). */
  readonly resetRate: number;
}

class Pair {
  open = true;
  readonly ends: [End, End];
  constructor(readonly net: Network, a: number, b: number) {
    this.ends = [new End(this, a, b), new End(this, b, a)];
  }
}

class End implements PeerTransport {
  onMessage: ((m: PeerMessage) => void) | undefined;
  onClose: ((why: string) => void) | undefined;
  /** When the last frame sent from here arrives (frames keep their order unless the run is chaotic). */
  lastArrival = 0;
  constructor(private readonly pair: Pair, readonly selfSid: number, readonly peerSid: number) {}

  private get other(): End {
    return this.pair.ends[0] === this ? this.pair.ends[1] : this.pair.ends[0];
  }

  send(m: PeerMessage): void {
    const net = this.pair.net;
    if (!this.pair.open || net.blocked(this.selfSid, this.peerSid)) return;
    if (net.s.resetRate > 0 && net.rand() < net.s.resetRate) return this.close('connection reset');
    const at = Math.max(net.q.now + net.delay(), this.lastArrival);
    this.lastArrival = at;
    const other = this.other;
    const outlivesClose = net.s.resetRate > 0 && net.rand() < 0.5;
    net.q.at(at, () => {
      if (this.pair.open || outlivesClose) other.onMessage?.(m);
    });
  }

  close(why: string): void {
    if (!this.pair.open) return;
    this.pair.open = false;
    this.pair.net.forget(this.pair);
    const other = this.other;
    const net = this.pair.net;
    net.q.at(net.q.now, () => this.onClose?.(why));
    net.q.at(net.q.now + net.delay(), () => other.onClose?.(why));
  }
}

export class Network {
  private readonly cut: boolean[][];
  private readonly pairs = new Map<number, Pair>();
  private readonly dialing = new Set<number>();

  constructor(
    readonly q: EventQueue,
    private readonly n: number,
    readonly s: NetworkSettings,
    readonly rand: () => number,
    /** Whether member `sid` can take a link now (running, not paused). */
    private readonly accepts: (sid: number) => boolean,
    /** A link opened: hand each end to its member. */
    private readonly opened: (sid: number, end: PeerTransport) => void,
  ) {
    this.cut = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  }

  delay(): number {
    return this.s.delayMs + this.rand() * this.s.jitterMs;
  }

  blocked(from: number, to: number): boolean {
    return (this.cut[from] as boolean[])[to] as boolean;
  }

  forget(p: Pair): void {
    const key = this.key(p.ends[0].selfSid, p.ends[0].peerSid);
    if (this.pairs.get(key) === p) this.pairs.delete(key);
  }

  /** Member `from` dials `to`: a link opens a moment later, if both can reach each other then. */
  dial(from: number, to: number): void {
    const key = this.key(from, to);
    if (this.pairs.has(key) || this.dialing.has(key)) return;
    this.dialing.add(key);
    this.q.at(this.q.now + this.delay() * 2, () => {
      this.dialing.delete(key);
      if (this.pairs.has(key) || this.blocked(from, to) || this.blocked(to, from) || !this.accepts(from) || !this.accepts(to)) return;
      const p = new Pair(this, from, to);
      this.pairs.set(key, p);
      this.opened(from, p.ends[0]);
      this.opened(to, p.ends[1]);
    });
  }

  /** Closes every link of `sid` (its process died: the kernel resets its connections). */
  dropAll(sid: number, why: string): void {
    for (const p of [...this.pairs.values()]) {
      const end = p.ends.find((e) => e.selfSid === sid);
      end?.close(why);
    }
  }

  /** Blocks frames from `from` to `to`; a link between them may be reset. */
  block(from: number, to: number): void {
    (this.cut[from] as boolean[])[to] = true;
    const p = this.pairs.get(this.key(from, to));
    if (p !== undefined && this.rand() < 0.5) p.ends[0].close('partitioned');
  }

  heal(): void {
    for (const row of this.cut) row.fill(false);
  }

  private key(a: number, b: number): number {
    return a < b ? a * this.n + b : b * this.n + a;
  }
}
