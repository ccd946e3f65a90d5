// The ordered index of names: sorted chunks, so a prefix query jumps straight to its range
// and an insert moves at most one chunk instead of the whole array. After a restart a chunk may
// be a run of the snapshot file's lines, stored in name order, whose names are made only when
// the chunk is first touched (a restart at a million names made them all: ~0.2 s).
//
// Names added while a restart replays the log are held aside (defer()) and put in order after it,
// a slice at a time (settle()), or all at once by anything that reads the index first. Put there
// one by one, ~100,000 new names after a million-name snapshot named nearly every run and cost
// ~0.55 s of the restart, most of it collecting garbage; the server answers for a name without
// the ordered index (only patterns need it).

const CHUNK = 512;

/** Consecutive lines of a loaded snapshot, in name order: their names made when asked for. */
export class LineRun implements Iterable<string> {
  constructor(
    readonly from: number,
    readonly to: number,
    /** The name of line `from` (kept: every search compares with chunks' first names). */
    readonly first: string,
    private readonly nameAt: (k: number) => string,
  ) {}

  names(): string[] {
    return Array.from(this);
  }

  *[Symbol.iterator](): Generator<string> {
    yield this.first;
    for (let k = this.from + 1; k < this.to; k++) yield this.nameAt(k);
  }
}

type Chunk = string[] | LineRun;

export class OrderedNames {
  private chunks: Chunk[] = [];
  private count = 0;
  /** Names added but not yet in the chunks; never one the chunks hold. */
  private pending = new Set<string>();
  private deferring = false;
  /** The pending names in order, being put in the chunks from `at` on (those no longer pending are passed over). */
  private settling: { names: string[]; at: number } | undefined;

  get size(): number {
    this.settleAll();
    return this.count;
  }

  /** Names added from now on, which the index must not hold (as the registry adds only new names), are held aside. */
  defer(): void {
    this.deferring = true;
  }

  /** Names added from now on go straight in; those held aside wait for settle() or for a read. */
  endDeferring(): void {
    this.deferring = false;
  }

  /**
   * Puts names held aside in place, in order, until `deadline` (performance.now()) passes. True
   * when none is left.
   */
  settle(deadline: number): boolean {
    if (this.pending.size === 0) {
      this.settling = undefined;
      return true;
    }
    // Sorted once (the default order is compareNames'; ~20 ms for 100,000 names): adds made
    // meanwhile go straight in, deletes leave the pending set.
    const s = (this.settling ??= { names: [...this.pending].sort(), at: 0 });
    while (s.at < s.names.length && performance.now() < deadline) s.at = this.mergeFrom(s.names, s.at);
    if (s.at < s.names.length) return false;
    this.settling = undefined;
    // Names left are ones added while deferring after the sort: sorted and merged in turn.
    return this.settle(deadline);
  }

  private settleAll(): void {
    if (this.pending.size > 0) this.settle(Number.POSITIVE_INFINITY);
  }

  /**
   * Merges the pending names of `names` from `at` on that belong in one chunk (those before the
   * next chunk's first name) into it; where the next such run of names starts.
   */
  private mergeFrom(names: readonly string[], at: number): number {
    let first = names[at] as string;
    while (!this.pending.has(first)) {
      if (++at === names.length) return at;
      first = names[at] as string;
    }
    if (this.chunks.length === 0) this.chunks.push([]);
    const { ci, chunk } = this.chunkOf(first);
    const next = this.chunks[ci + 1];
    const limit = next === undefined ? undefined : firstOf(next);
    const merged: string[] = [];
    let i = 0;
    for (; at < names.length; at++) {
      const name = names[at] as string;
      if (limit !== undefined && name >= limit) break;
      if (!this.pending.delete(name)) continue;
      while (i < chunk.length && (chunk[i] as string) < name) merged.push(chunk[i++] as string);
      if (chunk[i] === name) continue;
      merged.push(name);
      this.count++;
    }
    while (i < chunk.length) merged.push(chunk[i++] as string);
    const pieces: string[][] = [];
    if (merged.length <= CHUNK * 2) pieces.push(merged);
    else for (let k = 0; k < merged.length; k += CHUNK) pieces.push(merged.slice(k, k + CHUNK));
    this.chunks.splice(ci, 1, ...pieces);
    return at;
  }

  /** Replaces the contents with `names` (any order); used once at recovery. */
  reset(names: Iterable<string>): void {
    this.clearPending();
    this.sortAll(names);
  }

  /** The chunks made anew from `names` (any order); names held aside stay so. */
  private sortAll(names: Iterable<string>): void {
    const all = [...names].sort(compareNames);
    this.chunks = [];
    for (let i = 0; i < all.length; i += CHUNK) this.chunks.push(all.slice(i, i + CHUNK));
    this.count = all.length;
  }

  /**
   * Replaces the contents with `names`, which are usually in order already (a snapshot stores
   * them so): checked in one pass, and sorted only when they are not.
   */
  resetOrdered(names: string[]): void {
    this.clearPending();
    let ordered = true;
    for (let i = 1; i < names.length && ordered; i++) ordered = (names[i - 1] as string) < (names[i] as string);
    if (!ordered) {
      this.sortAll(names);
      return;
    }
    this.chunks = [];
    for (let i = 0; i < names.length; i += CHUNK) this.chunks.push(names.slice(i, i + CHUNK));
    this.count = names.length;
  }

  /**
   * Replaces the contents with the names of lines [from, to), which a snapshot stores in order,
   * named by `nameAt` only when a chunk of them is first touched. A chunk found out of order then
   * (a file no writer makes) has every name made and sorted.
   */
  resetLines(from: number, to: number, nameAt: (k: number) => string): void {
    this.clearPending();
    this.chunks = [];
    for (let k = from; k < to; k += CHUNK) this.chunks.push(new LineRun(k, Math.min(k + CHUNK, to), nameAt(k), nameAt));
    this.count = to - from;
  }

  /**
   * Every name, in order, as copies of the index's runs (a run of lines as it is: it never
   * changes): a snapshot's image of a million names in under 2 ms, where one flat array of them
   * took ~100 ms (Array.prototype.flat) and held up every request meanwhile.
   */
  copyRuns(): Iterable<string>[] {
    this.settleAll();
    return this.chunks.map((c) => (c instanceof LineRun ? c : c.slice()));
  }

  add(name: string): void {
    if (this.deferring) {
      this.pending.add(name);
      return;
    }
    if (this.pending.has(name)) return;
    if (this.chunks.length === 0) {
      this.chunks.push([name]);
      this.count = 1;
      return;
    }
    const { ci, chunk } = this.chunkOf(name);
    const at = lowerBound(chunk, name);
    if (chunk[at] === name) return;
    chunk.splice(at, 0, name);
    this.count++;
    if (chunk.length > CHUNK * 2) this.chunks.splice(ci, 1, chunk.slice(0, CHUNK), chunk.slice(CHUNK));
  }

  delete(name: string): void {
    if (this.pending.delete(name) || this.chunks.length === 0) return;
    const { ci, chunk } = this.chunkOf(name);
    const at = lowerBound(chunk, name);
    if (chunk[at] !== name) return;
    chunk.splice(at, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
  }

  /**
   * Every name starting with `prefix`, in order; with `after`, only those after it. Found by
   * search each time, so a scan resumed after other work changed the index neither skips nor
   * repeats a name that was there throughout.
   */
  *withPrefix(prefix: string, after?: string): Generator<string> {
    this.settleAll();
    if (this.chunks.length === 0) return;
    let from = after !== undefined && after > prefix ? after : prefix;
    let skip = after;
    for (;;) {
      let { ci, chunk } = this.chunkOf(from);
      let i = lowerBound(chunk, from);
      for (;;) {
        for (; i < chunk.length; i++) {
          const n = chunk[i] as string;
          if (n === skip) continue;
          if (!n.startsWith(prefix)) return;
          yield n;
          from = skip = n;
        }
        if (++ci >= this.chunks.length) return;
        // Named again each step: the caller may add and remove names between two.
        const next = this.named(ci);
        if (next === undefined) break;
        chunk = next;
        i = 0;
      }
      // The index was sorted anew: on from the last name given.
    }
  }

  /** No name held aside (the index is replaced). */
  private clearPending(): void {
    this.pending.clear();
    this.settling = undefined;
  }

  /** The chunk whose range holds `name`: the last chunk whose first element is <= name. */
  private chunkFor(name: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (compareNames(firstOf(this.chunks[mid] as Chunk), name) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Chunk `ci` as an array of names, made from its lines if it is a run of them. A run whose
   * names are not in order, or not between its neighbours' first names, was not written by this
   * program's snapshots: every chunk is then made and the whole sorted as reset() does, and
   * undefined returned (the caller's chunk number means nothing now).
   */
  private named(ci: number): string[] | undefined {
    const c = this.chunks[ci] as Chunk;
    if (!(c instanceof LineRun)) return c;
    const names = c.names();
    const next = this.chunks[ci + 1];
    let ordered = ci === 0 || compareNames(firstOf(this.chunks[ci - 1] as Chunk), names[0] as string) < 0;
    for (let i = 1; i < names.length && ordered; i++) ordered = (names[i - 1] as string) < (names[i] as string);
    if (ordered && next !== undefined) ordered = (names[names.length - 1] as string) < firstOf(next);
    if (!ordered) {
      this.sortAll(this.chunks.flatMap((x) => (x instanceof LineRun ? x.names() : x)));
      return undefined;
    }
    this.chunks[ci] = names;
    return names;
  }

  /** The chunk whose range holds `name`, as names (chunkFor's, after named()). */
  private chunkOf(name: string): { ci: number; chunk: string[] } {
    for (;;) {
      const ci = this.chunkFor(name);
      const chunk = this.named(ci);
      // Undefined only once: the index was sorted anew, and holds no run now.
      if (chunk !== undefined) return { ci, chunk };
    }
  }
}

function firstOf(c: Chunk): string {
  return c instanceof LineRun ? c.first : c[0] as string;
}

/** The order of names everywhere: UTF-16 code units, as `<` compares strings. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(arr: string[], x: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((arr[mid] as string) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
