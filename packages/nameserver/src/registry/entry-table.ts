// The registry's entries by name: a Map, over the loaded snapshot's plain services as the lines
// they are in the file (PlainNameIndex), until each is put, removed or read. The Map holds what
// was put since the load; a line whose name was put or removed is shadowed for good; a name the
// Map does not hold is looked up among the lines, and found there as its line's number (a
// LoadedEntry held as a line).
import type { PlainNameIndex } from './plain-name-index.js';

export class EntryTable<V> {
  private readonly map = new Map<string, V>();
  private base: PlainNameIndex | undefined;
  /** Per line of the base (from its first): 1 once its name was put or removed. */
  private shadowed = new Uint8Array(0);
  private baseFrom = 0;
  /** Lines of the base not shadowed. */
  private baseLive = 0;

  /** Empties the table, then holds the indexed lines of [from, to) as entries (their numbers). */
  reset(base?: { index: PlainNameIndex; from: number; to: number }): void {
    this.map.clear();
    this.base = base?.index;
    this.baseFrom = base?.from ?? 0;
    this.shadowed = new Uint8Array(base === undefined ? 0 : base.to - base.from);
    this.baseLive = base?.index.count ?? 0;
    if (this.baseLive === 0) this.dropBase();
  }

  get size(): number {
    return this.baseLive + this.map.size;
  }

  /** Whether any entry is still a line's (number): the lines are needed until none is. */
  get holdsLines(): boolean {
    return this.base !== undefined;
  }

  /** The entry of `name`: the Map's, or the number of its line. */
  get(name: string): V | number | undefined {
    const v = this.map.get(name);
    if (v !== undefined || this.base === undefined) return v;
    const k = this.base.find(name);
    return k < 0 || this.shadowed[k - this.baseFrom] === 1 ? undefined : k;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, value: V): void {
    this.swap(name, value);
  }

  /** Sets `name`'s entry to `value`; what get() gave before (one lookup, where get and set are two). */
  swap(name: string, value: V): V | number | undefined {
    const v = this.map.get(name);
    this.map.set(name, value);
    if (v !== undefined) return v;
    const k = this.shadow(name);
    return k < 0 ? undefined : k;
  }

  /** Removes `name`'s entry; whether it had one. */
  delete(name: string): boolean {
    // A name put since the load has its line (if any) shadowed already.
    return this.map.delete(name) || this.shadow(name) >= 0;
  }

  /** Every entry (a line's as its number), in no particular order. */
  *values(): Generator<V | number> {
    yield* this.map.values();
    yield* this.liveLines();
  }

  /** Every name, in no particular order. */
  *keys(): Generator<string> {
    yield* this.map.keys();
    for (const k of this.liveLines()) yield (this.base as PlainNameIndex).nameAt(k);
  }

  /** The lines not shadowed. */
  private *liveLines(): Generator<number> {
    if (this.base === undefined) return;
    for (const k of this.base.indexed()) if (this.shadowed[k - this.baseFrom] !== 1) yield k;
  }

  /** Shadows the line of `name`, if it has one not shadowed yet: that line, or -1. */
  private shadow(name: string): number {
    if (this.base === undefined) return -1;
    const k = this.base.find(name);
    if (k < 0 || this.shadowed[k - this.baseFrom] === 1) return -1;
    this.shadowed[k - this.baseFrom] = 1;
    if (--this.baseLive === 0) this.dropBase();
    return k;
  }

  /** Every line is shadowed: they answer nothing more, and the index and its arrays can go. */
  private dropBase(): void {
    this.base = undefined;
    this.shadowed = new Uint8Array(0);
  }
}
