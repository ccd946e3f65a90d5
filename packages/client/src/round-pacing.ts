// How long a dial loop waits after a round that found no server to hold. Two kinds of failed
// round call for different waits:
//
// - No server answered (all down, or unreachable): the ordinary exponential back-off
//   (`reconnect`, 50 ms to 2 s), so that clients do not hammer a network or a host that is gone.
// - Servers answered but none is the primary: a cluster between primaries, electing one. A
//   killed primary's successor is elected in tens of milliseconds, so the first rounds come every
//   5 to 15 ms. Under load, or after a split vote, or when a member waited out its failure window,
//   an election takes longer (hundreds of milliseconds, a second): the rounds then slow down, but
//   never to more than ELECTION_CEILING_MS apart, since every round after the election is a round
//   the application waits for. (With the ordinary back-off here, a client reached a primary
//   elected 500 ms after the kill up to 400 ms late; measured in the failover benchmark.) Only a
//   cluster that has elected no one for ELECTION_PATIENCE_MS (a minority side of a partition)
//   gets the ordinary back-off, as if no server had answered.
//
// Everything resets once a connection opens.
import { Backoff, type BackoffOptions } from './backoff.js';

/** For this long after the first round that found no primary, rounds come every 5 to 15 ms. */
export const ELECTION_FAST_MS = 300;
/** After that, rounds at most this far apart while the cluster keeps answering... */
export const ELECTION_CEILING_MS = 100;
/** ...for this long; then the ordinary back-off. */
export const ELECTION_PATIENCE_MS = 5000;

export class RoundPacing {
  /** After rounds that reached no server. */
  readonly #unreachable: Backoff;
  /** After rounds that found servers but no primary, once past the fast phase. */
  readonly #electing: Backoff;
  /** When the current run of rounds that found servers but no primary began. */
  #electingSince: number | undefined;

  constructor(opts: BackoffOptions, private readonly now: () => number = Date.now, private readonly random: () => number = Math.random) {
    this.#unreachable = new Backoff(opts);
    const ceiling = Math.min(ELECTION_CEILING_MS, opts.maxDelayMs);
    this.#electing = new Backoff({ minDelayMs: Math.min(opts.minDelayMs, ceiling) / 2, maxDelayMs: ceiling });
  }

  /** The wait before the next round, after one that failed; `answered`: some server greeted us. */
  after(answered: boolean): number {
    if (!answered) {
      this.#electingSince = undefined;
      return this.#unreachable.next(this.random);
    }
    const now = this.now();
    this.#electingSince ??= now;
    const electing = now - this.#electingSince;
    if (electing < ELECTION_FAST_MS) return 5 + Math.round(this.random() * 10);
    if (electing < ELECTION_PATIENCE_MS) return this.#electing.next(this.random);
    return this.#unreachable.next(this.random);
  }

  /** A connection opened: the next failure starts from the shortest waits again. */
  reset(): void {
    this.#unreachable.reset();
    this.#electing.reset();
    this.#electingSince = undefined;
  }
}
