// Sorting many names at once, in the order of compareNames (UTF-16 code units). A snapshot made
// from the one before sorts the names changed since (an eighth of the registry: 125,000 at a
// million names); the built-in sort compares whole strings through a generic comparison, ~100 ms
// for those, against ~40 ms here (63–72 ms with ChangedEntries' pass that keeps each name's last change;
// 80–210 ms on the AMD VM of the benchmarks since session 22, where memory is slower). Names share long prefixes (`/grow/g12/s…`), so a three-way
// radix quicksort (Bentley and Sedgewick) fits: each partition step reads one code unit of each
// name instead of comparing them from the start again. A range whose names all share the next
// unit skips straight past their whole common prefix in one pass (a unit at a time, a prefix of
// 40 units was 40 passes over every name, each a cache miss a name).

/** Below this many, a range is sorted by insertion (fewer steps than partitioning it). */
const SMALL = 12;

/**
 * A range still unsorted after this many code units walked one by one (shared prefixes skipped
 * in one go do not count) is merge sorted instead, by whole-string comparisons: names can be
 * made (clients choose them) so each radix pass only splits one name off, and then their length
 * times their number of passes would be the cost, against n log n comparisons.
 */
const DEEP = 32;

/** A deep range is merge sorted from blocks of this many, each sorted at once by the built-in sort. */
const BLOCK = 256;

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
  kind: 'partition';
  lo: number;
  hi: number;
  d: number;
  walked: number;
  pivot: number;
  lt: number;
  gt: number;
  i: number;
}

/** A range whose names all share their first `d` units, being read for how many more they all share (`common`, up to name `i`). */
interface PrefixScan {
  kind: 'scan';
  lo: number;
  hi: number;
  walked: number;
  ref: string;
  from: number;
  common: number;
  i: number;
}

/**
 * sortedIndexes' sort, done a step at a time: run() does about `units` names' worth of work and
 * says whether any is left, so the event loop can answer requests between steps (125,000 changed
 * names at a million held it 80–210 ms at once on the benchmark VM; a partition of all of them
 * alone is a step too long to take whole). Ranges left to sort wait on a stack; the one being
 * partitioned, scanned or merged keeps its place between runs.
 */
export class NameSort {
  readonly indexes: Uint32Array;
  /** Ranges left, four numbers each: lo, hi, how many code units their names share, and how many of those were walked one by one. */
  private readonly todo: number[];
  private work: Partition | PrefixScan | RangeMerge | undefined;

  constructor(private readonly names: readonly string[]) {
    this.indexes = new Uint32Array(names.length);
    for (let i = 0; i < names.length; i++) this.indexes[i] = i;
    this.todo = [0, names.length, 0, 0];
  }

  /** Sorts on for about `units` names' worth of work; whether any is left. */
  run(units: number): boolean {
    const { names, indexes: idx, todo } = this;
    let budget = units;
    while (budget > 0) {
      if (this.work === undefined) {
        if (todo.length === 0) return false;
        const walked = todo.pop() as number;
        const d = todo.pop() as number;
        const hi = todo.pop() as number;
        const lo = todo.pop() as number;
        if (hi - lo <= SMALL) {
          insertionSort(names, idx, lo, hi);
          budget -= hi - lo + 1;
          continue;
        }
        if (walked >= DEEP) this.work = new RangeMerge(names, idx, lo, hi);
        else {
          const pivot = unitAt(names[idx[lo + Math.floor(Math.random() * (hi - lo))] as number] as string, d);
          this.work = { kind: 'partition', lo, hi, d, walked, pivot, lt: lo, gt: hi - 1, i: lo };
        }
      }
      const w = this.work;
      if (w instanceof RangeMerge) {
        budget = w.run(budget);
        if (!w.done) continue;
      } else if (w.kind === 'scan') {
        budget = this.scan(w, budget);
        if (w.i < w.hi) continue;
        todo.push(w.lo, w.hi, w.common, w.walked);
      } else {
        budget = this.partition(w, budget);
        if (w.i <= w.gt) continue;
        const { lo, hi, lt, gt, d, walked, pivot } = w;
        todo.push(lo, lt, d, walked, gt + 1, hi, d, walked);
        if (pivot < 0) {
          // All the same name: back into their first order (partitioning does not keep it).
          idx.subarray(lt, gt + 1).sort();
        } else if (lt === lo && gt + 1 === hi) {
          // Every name has this unit: read on for all the units they share, in one pass.
          const ref = names[idx[lo] as number] as string;
          this.work = { kind: 'scan', lo, hi, walked: walked + 1, ref, from: d + 1, common: ref.length, i: lo + 1 };
          continue;
        } else todo.push(lt, gt + 1, d + 1, walked + 1);
      }
      this.work = undefined;
    }
    return this.work !== undefined || todo.length > 0;
  }

  /** Partitions on for `budget`; what is left of it. */
  private partition(p: Partition, budget: number): number {
    const { names, indexes: idx } = this;
    let { lt, gt, i } = p;
    const { pivot, d } = p;
    let n = 0;
    for (; i <= gt && n < budget; n++) {
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
    p.lt = lt;
    p.gt = gt;
    p.i = i;
    return budget - n - 1;
  }

  /** Scans on for `budget`; what is left of it. A name costs one, and one more for every 32 units compared. */
  private scan(s: PrefixScan, budget: number): number {
    const { names, indexes: idx } = this;
    const { ref, from } = s;
    let { common, i } = s;
    let spent = 0;
    for (; i < s.hi && spent < budget; i++) {
      const name = names[idx[i] as number] as string;
      let c = from;
      // Past a name's end charCodeAt is NaN, which equals nothing: the name's length bounds it.
      while (c < common && name.charCodeAt(c) === ref.charCodeAt(c)) c++;
      spent += 1 + ((c - from) >> 5);
      common = c;
    }
    s.common = common;
    s.i = i;
    return budget - spent - 1;
  }
}

/**
 * A merge sort of idx[lo, hi) by whole names (then index), a bounded step at a time: blocks
 * sorted by the built-in sort, then merged in passes of doubling width between idx and a buffer.
 */
class RangeMerge {
  done = false;
  private src: Uint32Array;
  /** Made when the first merge pass starts: a range of one block never needs it. */
  private dst: Uint32Array | undefined;
  /** Whether the runs are in the buffer rather than in idx itself (they move each pass). */
  private inBuffer = false;
  /** The width of the sorted runs in `src`; 0 while the blocks are not yet all sorted. */
  private width = 0;
  /** Where the next block or pair of runs starts. */
  private at = 0;
  /** The pair being merged: cursors into its left and right runs, and into dst. */
  private i = -1;
  private j = 0;
  private k = 0;

  constructor(private readonly names: readonly string[], private readonly idx: Uint32Array, private readonly lo: number, hi: number) {
    this.src = idx.subarray(lo, hi);
  }

  /** Sorts on for `budget` (a comparison costs one); what is left of it. */
  run(budget: number): number {
    const { names } = this;
    const n = this.src.length;
    while (budget > 0) {
      if (this.width === 0) {
        if (this.at < n) {
          this.src.subarray(this.at, Math.min(this.at + BLOCK, n)).sort((v, w) => byNameThenIndex(names, v, w));
          this.at += BLOCK;
          budget -= BLOCK * 8;
          continue;
        }
        this.width = BLOCK;
        this.at = 0;
      }
      if (this.width >= n) {
        if (this.inBuffer) this.idx.set(this.src, this.lo);
        this.done = true;
        return budget;
      }
      if (this.at >= n) {
        // Past the first pass, so the buffer was made.
        [this.src, this.dst] = [this.dst as Uint32Array, this.src];
        this.inBuffer = !this.inBuffer;
        this.width *= 2;
        this.at = 0;
        continue;
      }
      this.dst ??= new Uint32Array(n);
      const { src, dst, at, width } = this;
      const mid = Math.min(at + width, n);
      const end = Math.min(at + 2 * width, n);
      if (this.i < 0) {
        this.i = at;
        this.j = mid;
        this.k = at;
      }
      let { i, j, k } = this;
      for (; k < end && budget > 0; k++, budget--) {
        if (j >= end || (i < mid && byNameThenIndex(names, src[i] as number, src[j] as number) <= 0)) dst[k] = src[i++] as number;
        else dst[k] = src[j++] as number;
      }
      this.i = i;
      this.j = j;
      this.k = k;
      if (k >= end) {
        this.i = -1;
        this.at = end;
      }
    }
    return budget;
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
