// Per source address: how many DNS queries a second it may send, and how many launches its
// queries may cause (the same allowance as one WebSocket client's find, rate-limit.ts). UDP
// sources can be forged, so the table is bounded: past MAX_SOURCES the oldest is forgotten.
import { launchBucket, TokenBucket } from '../rate-limit.js';

/** Sources remembered at once; a forgotten one starts again with full buckets. */
export const MAX_SOURCES = 10_000;

interface Source {
  queries: TokenBucket;
  launches: TokenBucket;
}

export class SourceLimits {
  private readonly sources = new Map<string, Source>();

  constructor(
    private readonly queriesPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends one query of `address`; false when it sends more than its share. */
  takeQuery(address: string): boolean {
    return this.of(address).queries.take();
  }

  /** Spends one launch of `address`; false when its queries launched too much lately. */
  takeLaunch(address: string): boolean {
    return this.of(address).launches.take();
  }

  private of(address: string): Source {
    let s = this.sources.get(address);
    if (s === undefined) {
      if (this.sources.size >= MAX_SOURCES) {
        const oldest = this.sources.keys().next().value;
        if (oldest !== undefined) this.sources.delete(oldest);
      }
      s = { queries: new TokenBucket(this.queriesPerSecond, this.queriesPerSecond * 60, this.now), launches: launchBucket(this.now) };
      this.sources.set(address, s);
    }
    return s;
  }
}
