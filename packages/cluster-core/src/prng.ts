// The core's only randomness (election retry delays), seeded and carried in its state, so that a
// simulator run is fixed by its seed. mulberry32: fast, good enough for jitter, not for secrets.

export class Prng {
  constructor(private state: number) {
    this.state = state >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
