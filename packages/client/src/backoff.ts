// Reconnect delays: exponential from `minDelayMs` to `maxDelayMs`, with jitter so that many
// clients dropped by the same server crash do not all come back in the same millisecond.

export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
}

export class Backoff {
  #attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next attempt: uniformly random in [d/2, d], d doubling each time. */
  next(random: () => number = Math.random): number {
    const { minDelayMs, maxDelayMs } = this.opts;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  }

  /** Called after a successful connection: the next drop starts from the shortest delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}
