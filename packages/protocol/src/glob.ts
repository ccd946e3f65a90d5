// Tcl `string match` patterns over whole names: `*` (any run, "/" included), `?`,
// `[a-z]` sets with ranges, and `\x` for a literal x. Tcl has no set negation, so neither do we.
import { DpnsError } from './errors.js';
import { MAX_NAME_BYTES } from './names.js';

/** The longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 512;
/** Most `*` wildcards in one pattern (a run of stars counts once: `**` is `*`). */
export const MAX_PATTERN_STARS = 32;
/** Most `[...]` sets in one pattern. */
export const MAX_PATTERN_SETS = 64;

/** A compiled pattern. */
export interface Glob {
  readonly pattern: string;
  /** The characters every match starts with: lets an ordered index skip to them. */
  readonly literalPrefix: string;
  /** True when the pattern has no wildcard at all: it names exactly `literalPrefix`. */
  readonly isLiteral: boolean;
  match(name: string): boolean;
}

const cache = new Map<string, Glob>();
const CACHE_LIMIT = 4096;

/** Compiles a pattern; throws INVALID_PATTERN with the reason when it is malformed. */
export function compileGlob(pattern: unknown, where = 'pattern'): Glob {
  if (typeof pattern !== 'string') {
    throw new DpnsError('INVALID_PATTERN', `${where}: a pattern must be a string, got ${typeof pattern}`, { details: { field: where } });
  }
  // A plain name is its own matcher: cheap to make, and caching every name looked up would
  // only push the real patterns out of the cache.
  if (!hasWildcard(pattern) && pattern.length > 0 && pattern.length <= MAX_PATTERN_LENGTH && !pattern.includes('\0')) {
    return { pattern, literalPrefix: pattern, isLiteral: true, match: (s) => s === pattern };
  }
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const glob = build(pattern, where);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, glob);
  return glob;
}

/** True when the string contains a glob metacharacter, i.e. it is a pattern and not a plain name. */
export function hasWildcard(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/** One position of a pattern: a literal character, any character, or a set. */
type Atom = { t: 'c'; c: string } | { t: '?' } | { t: 'set'; chars: string; ranges: [string, string][] };
/**
 * A run of atoms compiled for matching in time linear in the name: for each ASCII character, a
 * bit mask of the run's positions that accept it (names are ASCII; other characters take a slow
 * path). Shift-and over these masks finds a run in a name in |name| × ⌈|run|/32⌉ steps, whatever
 * the run holds, where trying each start would cost |name| × |run|.
 */
interface Run {
  atoms: Atom[];
  len: number;
  /** 32-bit words per mask. */
  words: number;
  /** masks[code * words + w]: bit k of word w set when atom 32w+k accepts the character `code`. */
  masks: Uint32Array;
}

/** A pattern split at its stars: the runs of atoms between them. */
interface Parsed {
  segments: Run[];
  /** Whether the pattern starts / ends with a star. */
  openStart: boolean;
  openEnd: boolean;
}

function build(pattern: string, where: string): Glob {
  const fail = (why: string): never => {
    throw new DpnsError('INVALID_PATTERN', `${where}: ${why}`, { details: { field: where } });
  };
  if (pattern.length === 0) fail('a pattern must not be empty (use "*" for everything)');
  if (pattern.length > MAX_PATTERN_LENGTH) fail(`a pattern is at most ${MAX_PATTERN_LENGTH} characters, got ${pattern.length}`);
  if (pattern.includes('\0')) fail('a pattern must not contain NUL');

  const segments: Atom[][] = [[]];
  let stars = 0;
  let sets = 0;
  let starGroups = 0;
  let prevStar = false;
  let prefix = '';
  let inPrefix = true;
  const cur = () => segments[segments.length - 1] as Atom[];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (!prevStar) starGroups++;
      prevStar = true;
      stars++;
      if (cur().length > 0 || segments.length === 1) segments.push([]);
      inPrefix = false;
    } else if (c === '?') {
      prevStar = false;
      cur().push({ t: '?' });
      inPrefix = false;
    } else if (c === '[') {
      prevStar = false;
      const { atom, end } = parseSet(pattern, i, fail);
      if (++sets > MAX_PATTERN_SETS) fail(`a pattern has at most ${MAX_PATTERN_SETS} "[...]" sets`);
      cur().push(atom);
      i = end;
      inPrefix = false;
    } else {
      prevStar = false;
      let lit = c;
      if (c === '\\') {
        const next = pattern[i + 1];
        if (next === undefined) fail('a pattern must not end with a lone "\\"');
        lit = next as string;
        i++;
      }
      cur().push({ t: 'c', c: lit });
      if (inPrefix) prefix += lit;
    }
  }
  const literal = stars === 0 && segments.length === 1 && (segments[0] as Atom[]).every((a) => a.t === 'c');
  if (literal) {
    const name = prefix;
    return { pattern, literalPrefix: prefix, isLiteral: true, match: (s) => s === name };
  }
  const runs = (stars === 0 ? segments : segments.filter((seg, k) => seg.length > 0 || k === 0)).map(compileRun);
  if (starGroups > MAX_PATTERN_STARS) fail(`a pattern has at most ${MAX_PATTERN_STARS} "*" wildcards, got ${starGroups}`);
  const parsed: Parsed = {
    segments: runs,
    openStart: pattern.startsWith('*'),
    openEnd: stars > 0 && segments[segments.length - 1]?.length === 0,
  };
  if (stars === 0) parsed.openEnd = false;
  // A pattern that needs more characters than any name has can match nothing.
  const needed = runs.reduce((n, r) => n + r.len, 0);
  const fixed = prefix;
  const match = needed > MAX_NAME_BYTES
    ? () => false
    : stars === 0
      ? (s: string) => s.length === (parsed.segments[0] as Run).len && at(parsed.segments[0] as Run, s, 0)
      : (s: string) => s.startsWith(fixed) && matchStars(parsed, s);
  return { pattern, literalPrefix: prefix, isLiteral: false, match };
}

function compileRun(atoms: Atom[]): Run {
  const len = atoms.length;
  const words = Math.max(1, Math.ceil(len / 32));
  const masks = new Uint32Array(128 * words);
  for (let k = 0; k < len; k++) {
    const a = atoms[k] as Atom;
    const w = k >>> 5;
    const bit = 1 << (k & 31);
    const set = (code: number) => {
      if (code < 128) masks[code * words + w] = ((masks[code * words + w] as number) | bit) >>> 0;
    };
    if (a.t === '?') {
      for (let code = 0; code < 128; code++) set(code);
    } else if (a.t === 'c') {
      set(a.c.charCodeAt(0));
    } else {
      for (const ch of a.chars) set(ch.charCodeAt(0));
      for (const [lo, hi] of a.ranges) for (let code = lo.charCodeAt(0); code <= Math.min(hi.charCodeAt(0), 127); code++) set(code);
    }
  }
  return { atoms, len, words, masks };
}

function accepts(a: Atom, ch: string): boolean {
  if (a.t === '?') return true;
  if (a.t === 'c') return a.c === ch;
  return a.chars.includes(ch) || a.ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
}

/**
 * Matching with stars, without backtracking: the first run is anchored at the start, the
 * last at the end, and each run between is taken at its leftmost place (which is always
 * safe for globs). Each run is found by shift-and, so a hostile pattern costs at most
 * |name| × (runs + ⌈atoms/32⌉) steps, never exponential time, which a regex translation
 * would allow, nor |name| × |pattern|, which trying every start would.
 */
function matchStars(p: Parsed, s: string): boolean {
  const segs = p.segments;
  let first = 0;
  let last = segs.length - 1;
  let pos = 0;
  let end = s.length;
  if (!p.openStart) {
    const head = segs[0] as Run;
    if (head.len > end || !at(head, s, 0)) return false;
    pos = head.len;
    first = 1;
  }
  if (!p.openEnd && last >= first) {
    const tail = segs[last] as Run;
    if (end - tail.len < pos || !at(tail, s, end - tail.len)) return false;
    end -= tail.len;
    last--;
  }
  for (let k = first; k <= last; k++) {
    const run = segs[k] as Run;
    if (run.len === 0) continue;
    const found = leftmost(run, s, pos, end);
    if (found < 0) return false;
    pos = found + run.len;
  }
  return true;
}

/** Whether the run matches `s` starting at `i`. */
function at(run: Run, s: string, i: number): boolean {
  if (i + run.len > s.length) return false;
  const { masks, words } = run;
  for (let k = 0; k < run.len; k++) {
    const code = s.charCodeAt(i + k);
    const ok = code < 128 ? ((masks[code * words + (k >>> 5)] as number) >>> (k & 31)) & 1 : Number(accepts(run.atoms[k] as Atom, s[i + k] as string));
    if (ok === 0) return false;
  }
  return true;
}

/** Scratch state for shift-and; runs are at most MAX_PATTERN_LENGTH atoms. */
const state = new Uint32Array(Math.ceil(MAX_PATTERN_LENGTH / 32) + 1);

/** The leftmost i in [from, end - run.len] where the run matches `s`, or -1 (shift-and, one pass). */
function leftmost(run: Run, s: string, from: number, end: number): number {
  const { masks, words, len } = run;
  const lastWord = (len - 1) >>> 5;
  const lastBit = (len - 1) & 31;
  state.fill(0, 0, words);
  for (let j = from; j < end; j++) {
    const code = s.charCodeAt(j);
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const d = state[w] as number;
      const mask = code < 128 ? (masks[code * words + w] as number) : slowMask(run, s[j] as string, w);
      state[w] = (((d << 1) | carry) & mask) >>> 0;
      carry = d >>> 31;
    }
    if ((((state[lastWord] as number) >>> lastBit) & 1) === 1) return j - len + 1;
  }
  return -1;
}

/** The mask of one word for a character outside ASCII (never in a valid name, but patterns are matched against anything). */
function slowMask(run: Run, ch: string, w: number): number {
  let m = 0;
  for (let b = 0; b < 32; b++) {
    const a = run.atoms[w * 32 + b];
    if (a !== undefined && accepts(a, ch)) m |= 1 << b;
  }
  return m >>> 0;
}

function parseSet(pattern: string, open: number, fail: (why: string) => never): { atom: Atom; end: number } {
  const items: string[] = [];
  let j = open + 1;
  for (; j < pattern.length && pattern[j] !== ']'; j++) {
    let c = pattern[j] as string;
    if (c === '\\') {
      const n = pattern[j + 1];
      if (n === undefined) fail(`dangling "\\" in set at position ${open + 1}`);
      c = n as string;
      j++;
      items.push(`\\${c}`);
    } else {
      items.push(c);
    }
  }
  if (j >= pattern.length) fail(`unclosed "[" at position ${open + 1}`);
  if (items.length === 0) fail(`empty set "[]" at position ${open + 1}`);
  let chars = '';
  const ranges: [string, string][] = [];
  const ch = (item: string) => (item.length === 2 ? (item[1] as string) : item);
  for (let k = 0; k < items.length; k++) {
    const item = items[k] as string;
    if (items[k + 1] === '-' && k + 2 < items.length) {
      const a = ch(item);
      const b = ch(items[k + 2] as string);
      // Tcl accepts ranges in either order ([z-a] is [a-z]).
      ranges.push(a <= b ? [a, b] : [b, a]);
      k += 2;
    } else {
      chars += ch(item);
    }
  }
  return { atom: { t: 'set', chars, ranges }, end: j };
}
