// Limits on sockets that have not earned their keep yet, and on memory that slow peers make the
// server hold. A peer can open sockets and never finish a request (slowloris), open hundreds of
// WebSockets from one address, or stop reading while the server queues frames for it; each of
// these is capped here, so one peer cannot take what every other peer needs.
import type { Socket } from 'node:net';

/** Plain HTTP sockets (not yet a WebSocket) kept at once; past it the oldest is cut. */
export const MAX_PENDING_HTTP_SOCKETS = 1024;
/** Time to send a request's headers (an upgrade's too). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** An idle keep-alive HTTP socket is closed after this. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Bytes of messages still arriving, over all connections; past it the largest is cut. */
export const MAX_TOTAL_PARTIAL_BYTES = 64 * 1024 * 1024;
/** Output queued for all client connections together; past it the largest queue is cut. */
export const MAX_TOTAL_BUFFERED_BYTES = 256 * 1024 * 1024;

/** Sockets that are still plain HTTP: a slow or idle one is the first to go when there are too many. */
export class PendingSockets {
  private readonly pending = new Set<Socket>();
  /** Sockets cut because there were too many. */
  cut = 0;

  constructor(private readonly max = MAX_PENDING_HTTP_SOCKETS) {}

  get size(): number {
    return this.pending.size;
  }

  /** A socket was accepted. */
  accepted(s: Socket): void {
    this.pending.add(s);
    s.once('close', () => this.pending.delete(s));
    if (this.pending.size > this.max) {
      // A Set iterates in insertion order: the oldest socket that has still not upgraded.
      const oldest = this.pending.values().next().value as Socket;
      this.pending.delete(oldest);
      this.cut++;
      oldest.destroy();
    }
  }

  /** The socket became a WebSocket: its own limits apply from now on. */
  upgraded(s: Socket): void {
    this.pending.delete(s);
  }
}

/** Connections per source address. */
export class AddressCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts one more connection from `addr`; false (and nothing counted) when it already has `max`. */
  take(addr: string): boolean {
    const n = this.counts.get(addr) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(addr, n + 1);
    return true;
  }

  release(addr: string): void {
    const n = (this.counts.get(addr) ?? 1) - 1;
    if (n <= 0) this.counts.delete(addr);
    else this.counts.set(addr, n);
  }
}

/** Something with queued output that can be cut off. */
export interface Buffered {
  /** False once the server is ending it: what it holds is let go as it closes. */
  readonly open: boolean;
  bufferedBytes(): number;
  cutForMemory(): void;
}

/**
 * Cuts the largest queues while the total is over `max`; returns how many were cut. Connections
 * already being ended are left out: a sweep soon after the one that cut them neither counts them
 * again nor cuts another for memory they are about to give back.
 */
export function capTotalBuffered(conns: Iterable<Buffered>, max = MAX_TOTAL_BUFFERED_BYTES): number {
  const sized: { c: Buffered; n: number }[] = [];
  for (const c of conns) if (c.open) sized.push({ c, n: c.bufferedBytes() });
  let total = sized.reduce((t, x) => t + x.n, 0);
  if (total <= max) return 0;
  sized.sort((a, b) => b.n - a.n);
  let cut = 0;
  for (const { c, n } of sized) {
    if (total <= max || n === 0) break;
    c.cutForMemory();
    total -= n;
    cut++;
  }
  return cut;
}

/**
 * Bytes received on each connection since its last complete message: what the server holds for
 * messages still arriving. One connection is capped by the frame size limit; this caps them all
 * together, so many unfinished messages cannot add up.
 */
export class PartialBytes<K> {
  private total = 0;
  private readonly by = new Map<K, number>();

  constructor(private readonly max = MAX_TOTAL_PARTIAL_BYTES) {}

  get bytes(): number {
    return this.total;
  }

  /** `n` more bytes arrived on `k`; returns the connection holding the most when the total is over the cap. */
  received(k: K, n: number): K | undefined {
    this.by.set(k, (this.by.get(k) ?? 0) + n);
    this.total += n;
    if (this.total <= this.max) return undefined;
    let worst: K | undefined;
    let most = -1;
    for (const [c, b] of this.by) {
      if (b > most) {
        most = b;
        worst = c;
      }
    }
    return worst;
  }

  /** A message completed on `k` (or `k` closed): nothing of it is held any more. */
  done(k: K): void {
    this.total -= this.by.get(k) ?? 0;
    this.by.delete(k);
  }
}
