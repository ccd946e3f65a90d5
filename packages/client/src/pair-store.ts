// The ticket pairs a service has been handed (`ticket.pair`), by pair id: bounded, each kept for
// a limited time, so that a flood of authenticateService calls cannot grow a service's memory and
// an old pair cannot be used forever. A caller may wait briefly for a pair that is on its way
// (the client can reach the service before the name server's notification does).
import type { AuthPair } from '@dpns/protocol';

export interface PairStoreOptions {
  /** How long a pair is good for after it arrived; default 10 minutes. */
  ttlMs?: number;
  /** The most pairs kept; the oldest goes first; default 1000. */
  max?: number;
  /** The clock, for tests. */
  now?: () => number;
}

interface Held {
  pair: AuthPair;
  expires: number;
}

interface Waiter {
  pairId: string;
  resolve: (pair: AuthPair | undefined) => void;
  timer: NodeJS.Timeout;
}

export class PairStore {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Insertion order is arrival order, so the first key is the oldest. */
  readonly #pairs = new Map<string, Held>();
  readonly #waiters = new Set<Waiter>();

  constructor(opts: PairStoreOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.#max = opts.max ?? 1000;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    this.#sweep();
    return this.#pairs.size;
  }

  add(pair: AuthPair): void {
    this.#sweep();
    this.#pairs.delete(pair.pairId);
    while (this.#pairs.size >= this.#max) {
      const oldest = this.#pairs.keys().next();
      if (oldest.done === true) break;
      this.#pairs.delete(oldest.value);
    }
    this.#pairs.set(pair.pairId, { pair, expires: this.#now() + this.#ttlMs });
    for (const w of this.#waiters) {
      if (w.pairId === pair.pairId) this.#settle(w, pair);
    }
  }

  /** The pair, unless it is unknown or expired. */
  get(pairId: string): AuthPair | undefined {
    const held = this.#pairs.get(pairId);
    if (held === undefined) return undefined;
    if (held.expires <= this.#now()) {
      this.#pairs.delete(pairId);
      return undefined;
    }
    return held.pair;
  }

  /** The pair, waiting up to `timeoutMs` for it to arrive; undefined if it does not. */
  wait(pairId: string, timeoutMs: number): Promise<AuthPair | undefined> {
    const now = this.get(pairId);
    // Waits are bounded like pairs: callers are often remote peers of the service.
    if (now !== undefined || timeoutMs <= 0 || this.#waiters.size >= this.#max) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = { pairId, resolve, timer: setTimeout(() => this.#settle(w, undefined), timeoutMs) };
      this.#waiters.add(w);
    });
  }

  /** Forgets every pair and ends every wait (the service is closing). */
  clear(): void {
    this.#pairs.clear();
    for (const w of this.#waiters) this.#settle(w, undefined);
  }

  #settle(w: Waiter, pair: AuthPair | undefined): void {
    clearTimeout(w.timer);
    this.#waiters.delete(w);
    w.resolve(pair);
  }

  /** Drops expired pairs; they are in arrival order, and every pair lives equally long. */
  #sweep(): void {
    const now = this.#now();
    for (const [id, held] of this.#pairs) {
      if (held.expires > now) break;
      this.#pairs.delete(id);
    }
  }
}
