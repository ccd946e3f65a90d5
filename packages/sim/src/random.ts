// A seeded source of randomness: the same seed, the same choices, so a failing run can be named by
// its seed and repeated.

/** mulberry32: a fast 32-bit generator, good enough for choosing operations and timings (not for secrets). Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
