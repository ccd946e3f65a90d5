// A token bucket: `burst` requests at once, refilled at `perMinute`. Launches are open to
// anyone, so each connection gets one, lest a client make the name server spawn without end.

/** Launches one client may ask for at once, and then per minute: a WebSocket connection's `find`/`launch` and a DNS source's queries alike. */
export const LAUNCH_BURST = 20;
export const LAUNCHES_PER_MINUTE = 60;

/** A fresh launch allowance: LAUNCH_BURST at once, then LAUNCHES_PER_MINUTE. */
export function launchBucket(now: () => number = Date.now): TokenBucket {
  return new TokenBucket(LAUNCH_BURST, LAUNCHES_PER_MINUTE, now);
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token; false when none is left. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perMinute) / 60_000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
