// Sorting many names at once, in the order of compareNames (UTF-16 code units). A snapshot made
// from the one before sorts the names changed since (an eighth of the registry: 125,000 at a
// million names); the built-in sort compares whole strings through a generic comparison, ~100 ms
// for those, against ~40 ms here (63–72 ms with ChangedEntries' pass that keeps each name's last change;
// 80–210 ms on the AMD VM of the benchmarks since session 22, where memory is slower). Names share long prefixes (`/grow/g12/s…`), so a three-way
// radix quicksort (Bentley and Sedgewick) fits: each partition step reads one code unit of each
// name instead of comparing them from the start again.

/** Below this many, a range is sorted by insertion (fewer steps than partitioning it). */
const SMALL = 12;

/**
 * Names still equal this many code units in are sorted by whole-string comparisons instead: a
 * radix step reads a unit of every name in the range, so names sharing a long prefix (clients
 * choose them) would cost their length times their number, against n log n native comparisons.
 */
const DEEP = 32;

/**
 * The indexes of `names` in name order; equal names keep their order in `names` (so the last of
 * them is the latest, when they were pushed as they changed). The pivots are random, so no input
 * (names are chosen by clients) makes it slow but by chance.
 */
export function sortedIndexes(names: readonly string[]): Uint32Array {
  const idx = new Uint32Array(names.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  sortRange(names, idx, 0, idx.length, 0);
  return idx;
}

/** The code unit at `d`, or -1 past the end (a name sorts before every longer one it begins). */
function unitAt(s: string, d: number): number {
  return d < s.length ? s.charCodeAt(d) : -1;
}

/** Sorts idx[lo, hi), whose names all begin with the same `d` code units. */
function sortRange(names: readonly string[], idx: Uint32Array, lo: number, hi: number, d: number): void {
  // The middle part (equal at `d`) is taken in this loop, a code unit further each time, so the
  // recursion is only as deep as the random pivots make the smaller and larger parts.
  while (hi - lo > SMALL) {
    if (d >= DEEP) {
      idx.subarray(lo, hi).sort((v, w) => byNameThenIndex(names, v, w));
      return;
    }
    const pivot = unitAt(names[idx[lo + Math.floor(Math.random() * (hi - lo))] as number] as string, d);
    let lt = lo;
    let gt = hi - 1;
    let i = lo;
    while (i <= gt) {
      const v = idx[i] as number;
      const c = unitAt(names[v] as string, d);
      if (c < pivot) {
        idx[i++] = idx[lt] as number;
        idx[lt++] = v;
      } else if (c > pivot) {
        idx[i] = idx[gt] as number;
        idx[gt--] = v;
      } else i++;
    }
    sortRange(names, idx, lo, lt, d);
    sortRange(names, idx, gt + 1, hi, d);
    if (pivot < 0) {
      // All the same name: back into their first order (partitioning does not keep it).
      idx.subarray(lt, gt + 1).sort();
      return;
    }
    lo = lt;
    hi = gt + 1;
    d++;
  }
  insertionSort(names, idx, lo, hi);
}

function byNameThenIndex(names: readonly string[], v: number, w: number): number {
  const s = names[v] as string;
  const t = names[w] as string;
  return s < t ? -1 : s > t ? 1 : v - w;
}

function insertionSort(names: readonly string[], idx: Uint32Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = idx[i] as number;
    let j = i;
    for (; j > lo; j--) {
      const w = idx[j - 1] as number;
      if (byNameThenIndex(names, w, v) < 0) break;
      idx[j] = w;
    }
    idx[j] = v;
  }
}
