// The names of a loaded snapshot's plain services, found in the file's lines themselves: a hash
// table of line numbers keyed by the bytes of each line's name. A restart built a string and a
// Map entry a name instead (~0.5 s of a million names' ~2 s, and ~90 MB more to allocate and
// collect); here it reads each line's first few dozen bytes and fills one typed array.
import { plainNameEnd, SERVICE_PREFIX } from './service-line.js';

/** A snapshot file's lines as their bytes, by number. */
export interface LineBytes {
  readonly body: Buffer;
  start(k: number): number;
  end(k: number): number;
}

const NAME_AT = SERVICE_PREFIX.length;
/** The table is filled a part at a time, 2^PART_BITS parts (64 KB each at a million names). */
const PART_BITS = 8;
const EMPTY = 0;

export class PlainNameIndex {
  /**
   * Two numbers a slot: the line number + 1 of a name (0: empty), at the slot its hash probes to
   * first or after, and the name's full hash, compared before its bytes are. Side by side, so a
   * probe reads one cache line, not two (a million names' table is 16 MB).
   */
  private readonly table: Int32Array;
  private readonly mask: number;

  private constructor(
    private readonly lines: LineBytes,
    /** How many lines are indexed. */
    readonly count: number,
    table: Int32Array,
    /** The lines in [from, to) that are not a plain service's (no name read from their bytes). */
    readonly others: readonly number[],
    /** Whether a name was found on two lines: the index then holds only the first (a file no writer makes). */
    readonly duplicated: boolean,
  ) {
    this.table = table;
    this.mask = table.length / 2 - 1;
  }

  /**
   * The index of lines [from, to) of `lines` whose name plainNameEnd() finds. The names are
   * hashed first, then put in the table in the order of the part of it each goes to (a counting
   * sort of the slots' top bits): one after another at random over a million names' 16 MB table,
   * each put missed the CPU's caches (~150 of ~200 ms).
   */
  static build(lines: LineBytes, from: number, to: number): PlainNameIndex {
    let bits = 4;
    while (2 ** bits < (to - from) * 2) bits++;
    const capacity = 2 ** bits;
    const mask = capacity - 1;
    const shift = Math.max(bits - PART_BITS, 0);
    const others: number[] = [];
    const { body } = lines;
    const hashes = new Int32Array(to - from);
    const lineOf = new Int32Array(to - from);
    const inPart = new Int32Array((capacity >>> shift) + 1);
    let named = 0;
    for (let k = from; k < to; k++) {
      const at = lines.start(k);
      const end = plainNameEnd(body, at, lines.end(k));
      if (end < 0) {
        others.push(k);
        continue;
      }
      const h = hashBytes(body, at + NAME_AT, end);
      hashes[named] = h;
      lineOf[named++] = k;
      (inPart[((h & mask) >>> shift) + 1] as number)++;
    }
    for (let p = 1; p < inPart.length; p++) (inPart[p] as number) += inPart[p - 1] as number;
    const order = new Int32Array(named);
    for (let j = 0; j < named; j++) order[(inPart[((hashes[j] as number) & mask) >>> shift] as number)++] = j;
    const table = new Int32Array(capacity * 2);
    let count = 0;
    let duplicated = false;
    for (let o = 0; o < named; o++) {
      const j = order[o] as number;
      const h = hashes[j] as number;
      const k = lineOf[j] as number;
      let slot = h & mask;
      let dup = false;
      for (let line = table[2 * slot] as number; line !== EMPTY; slot = (slot + 1) & mask, line = table[2 * slot] as number) {
        if (table[2 * slot + 1] === h && sameLineNames(lines, k, line - 1)) {
          dup = true;
          break;
        }
      }
      if (dup) {
        duplicated = true;
        continue;
      }
      table[2 * slot] = k + 1;
      table[2 * slot + 1] = h;
      count++;
    }
    return new PlainNameIndex(lines, count, table, others, duplicated);
  }

  /** The line whose name is `name`, or -1. */
  find(name: string): number {
    const h = hashString(name);
    if (h === NOT_PLAIN) return -1;
    const { table, mask, lines } = this;
    for (let slot = h & mask, line = table[2 * slot] as number; line !== EMPTY; slot = (slot + 1) & mask, line = table[2 * slot] as number) {
      if (table[2 * slot + 1] === h && nameIs(lines, line - 1, name)) return line - 1;
    }
    return -1;
  }

  /** The name of indexed line `k`, as a string of its own. */
  nameAt(k: number): string {
    return plainNameAt(this.lines, k);
  }

  /** Every indexed line, in no particular order. */
  *indexed(): Generator<number> {
    for (let i = 0; i < this.table.length; i += 2) if (this.table[i] !== EMPTY) yield (this.table[i] as number) - 1;
  }
}

/** The name of line `k` of `lines`, a plain service's (one plainNameEnd() finds), as a string of its own. */
export function plainNameAt(lines: LineBytes, k: number): string {
  const at = lines.start(k) + NAME_AT;
  return lines.body.toString('latin1', at, lines.body.indexOf(QUOTE, at));
}

const QUOTE = 0x22;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of bytes [from, to), as a signed 32-bit number (as the table holds it). */
function hashBytes(buf: Buffer, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (buf[i] as number), FNV_PRIME);
  return h | 0;
}

/** What hashString() gives a name no plain line can hold. Not a 32-bit number, so no hash is it. */
const NOT_PLAIN = 2 ** 32;

/**
 * hashBytes() of the name's bytes, or NOT_PLAIN when no plain line can hold it (it has a
 * character outside ASCII, a quote or a backslash, or is empty): its code units are then its bytes.
 */
function hashString(name: string): number {
  if (name.length === 0) return NOT_PLAIN;
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80 || c === QUOTE || c === 0x5c) return NOT_PLAIN;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h | 0;
}

/** Whether line `k`'s name is `name` (a name hashString() accepts). */
function nameIs(lines: LineBytes, k: number, name: string): boolean {
  const { body } = lines;
  const at = lines.start(k) + NAME_AT;
  if (at + name.length >= body.length || body[at + name.length] !== QUOTE) return false;
  for (let i = 0; i < name.length; i++) if (body[at + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** Whether plain lines `a` and `b` have the same name. */
function sameLineNames(lines: LineBytes, a: number, b: number): boolean {
  const { body } = lines;
  const x = lines.start(a) + NAME_AT;
  const y = lines.start(b) + NAME_AT;
  for (let i = 0; ; i++) {
    const c = body[x + i];
    if (c !== body[y + i]) return false;
    if (c === QUOTE) return true;
  }
}
