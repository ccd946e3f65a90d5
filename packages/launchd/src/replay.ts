// The nonces of accepted requests, kept while their timestamp is inside the window: a request
// replayed within the window is caught here, one replayed later is caught as stale.
export class ReplayCache {
  /** nonce → the request's ts. */
  private readonly seen = new Map<string, number>();
  /** Requests with ts at or below this can no longer be told apart from replays (see admit). */
  private floor = Number.NEGATIVE_INFINITY;
  private lastSweep = 0;

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records `nonce`; false when it was seen before and so is a replay. */
  admit(nonce: string, ts: number, now: number): boolean {
    if (now - this.lastSweep >= this.windowMs || this.seen.size >= this.max) this.sweep(now);
    if (ts <= this.floor || this.seen.has(nonce)) return false;
    this.seen.set(nonce, ts);
    if (this.seen.size > this.max) this.evictOldest();
    return true;
  }

  /** Forgets nonces whose ts has left the window: the stale check refuses those requests already. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [nonce, ts] of this.seen) if (ts < now - this.windowMs) this.seen.delete(nonce);
  }

  /**
   * Bounded memory under a flood of fresh requests. Forgetting a nonce would let its request be
   * replayed, so the oldest is dropped and every request as old as it is refused from then on
   * (a name server signs with the current time, so real requests are newer).
   */
  private evictOldest(): void {
    let oldest: [string, number] | undefined;
    for (const e of this.seen) if (oldest === undefined || e[1] < oldest[1]) oldest = e;
    if (oldest === undefined) return;
    this.seen.delete(oldest[0]);
    this.floor = Math.max(this.floor, oldest[1]);
  }
}
