// Bounds over all DNS sources together. Per-source limits (source-limits.ts) hold a source to its
// share, but a UDP source address can be forged and the per-source table forgets its oldest
// entries, so a client forging many sources would escape them; these bounds it cannot.
import { TokenBucket } from '../rate-limit.js';

export class GlobalLimits {
  private readonly queries: TokenBucket;
  private launchWaits = 0;

  constructor(
    queriesPerSecond: number,
    /** Queries that may wait for a launch at once, over every source and transport. */
    readonly maxLaunchWaits: number,
    now: () => number = Date.now,
  ) {
    this.queries = new TokenBucket(queriesPerSecond, queriesPerSecond * 60, now);
  }

  /** Spends one query of the whole server's allowance; false when all sources together send too many. */
  takeQuery(): boolean {
    return this.queries.take();
  }

  /** Queries waiting for a launch now. */
  get launchesInFlight(): number {
    return this.launchWaits;
  }

  /** Starts one wait for a launch; false (and nothing started) when maxLaunchWaits are already waiting. */
  enterLaunch(): boolean {
    if (this.launchWaits >= this.maxLaunchWaits) return false;
    this.launchWaits++;
    return true;
  }

  /** Ends a wait that enterLaunch started. */
  leaveLaunch(): void {
    this.launchWaits--;
  }
}
