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
  const sort = new NameSort(names);
  while (sort.run(Infinity));
  return sort.indexes;
}

/** The code unit at `d`, or -1 past the end (a name sorts before every longer one it begins). */
function unitAt(s: string, d: number): number {
  return d < s.length ? s.charCodeAt(d) : -1;
}

/** One range being partitioned around `pivot` at code unit `d`: [lo, lt) less, [lt, i) equal, (gt, hi) greater. */
interface Partition {
  lo: number;
  hi: number;
  d: number;
  pivot: number;
  lt: number;
  gt: number;
  i: number;
}

/**
 * sortedIndexes' sort, done a step at a time: run() does about `units` names' worth of work and
 * says whether any is left, so the event loop can answer requests between steps (125,000 changed
 * names at a million held it 80–210 ms at once on the benchmark VM; a partition of all of them
 * alone, one pass per code unit of a shared prefix like `/grow/g`, is a step too long to take whole).
 * Ranges left to sort wait on a stack; the one being partitioned keeps its place between runs.
 */
export class NameSort {
  readonly indexes: Uint32Array;
  /** Ranges left, three numbers each: lo, hi, and how many code units their names share. */
  private readonly todo: number[];
  private part: Partition | undefined;

  constructor(private readonly names: readonly string[]) {
    this.indexes = new Uint32Array(names.length);
    for (let i = 0; i < names.length; i++) this.indexes[i] = i;
    this.todo = [0, names.length, 0];
  }

  /** Sorts on for about `units` names' worth of work; whether any is left. */
  run(units: number): boolean {
    const { names, indexes: idx, todo } = this;
    let budget = units;
    while (budget > 0) {
      if (this.part === undefined) {
        if (todo.length === 0) return false;
        const d = todo.pop() as number;
        const hi = todo.pop() as number;
        const lo = todo.pop() as number;
        if (hi - lo <= SMALL) {
          insertionSort(names, idx, lo, hi);
          budget -= hi - lo + 1;
          continue;
        }
        if (d >= DEEP) {
          idx.subarray(lo, hi).sort((v, w) => byNameThenIndex(names, v, w));
          budget -= (hi - lo) * 8;
          continue;
        }
        const pivot = unitAt(names[idx[lo + Math.floor(Math.random() * (hi - lo))] as number] as string, d);
        this.part = { lo, hi, d, pivot, lt: lo, gt: hi - 1, i: lo };
      }
      const p = this.part;
      let { lt, gt, i } = p;
      const { pivot, d } = p;
      const end = budget;
      let n = 0;
      for (; i <= gt && n < end; n++) {
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
      budget -= n + 1;
      p.lt = lt;
      p.gt = gt;
      p.i = i;
      if (i <= gt) continue;
      this.part = undefined;
      todo.push(p.lo, lt, d, gt + 1, p.hi, d);
      // All the same name: back into their first order (partitioning does not keep it).
      if (pivot < 0) idx.subarray(lt, gt + 1).sort();
      else todo.push(lt, gt + 1, d + 1);
    }
    return this.part !== undefined || todo.length > 0;
  }
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
