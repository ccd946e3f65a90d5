// Tcl `string match` patterns over whole names: `*` (any run, "/" included), `?`,
// `[a-z]` sets with ranges, and `\x` for a literal x. Tcl has no set negation, so neither do we.
import { DpnsError } from './errors.js';
import { MAX_NAME_BYTES } from './names.js';

/** The longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 512;

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
/** A pattern split at its stars: the runs of atoms between them. */
interface Parsed {
  segments: Atom[][];
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
  let prefix = '';
  let inPrefix = true;
  const cur = () => segments[segments.length - 1] as Atom[];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      stars++;
      if (cur().length > 0 || segments.length === 1) segments.push([]);
      inPrefix = false;
    } else if (c === '?') {
      cur().push({ t: '?' });
      inPrefix = false;
    } else if (c === '[') {
      const { atom, end } = parseSet(pattern, i, fail);
      cur().push(atom);
      i = end;
      inPrefix = false;
    } else {
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
  const parsed: Parsed = {
    segments: stars === 0 ? segments : segments.filter((seg, k) => seg.length > 0 || k === 0),
    openStart: pattern.startsWith('*'),
    openEnd: stars > 0 && segments[segments.length - 1]?.length === 0,
  };
  if (stars === 0) parsed.openEnd = false;
  // A pattern whose fixed prefix is already longer than any name can match nothing.
  const fixed = prefix;
  const match = fixed.length > MAX_NAME_BYTES
    ? () => false
    : stars === 0
      ? (s: string) => s.length === (parsed.segments[0] as Atom[]).length && at(parsed.segments[0] as Atom[], s, 0)
      : (s: string) => s.startsWith(fixed) && matchStars(parsed, s);
  return { pattern, literalPrefix: prefix, isLiteral: false, match };
}

/**
 * Matching with stars, without backtracking: the first run is anchored at the start, the
 * last at the end, and each run between is taken at its leftmost place (which is always
 * safe for globs). So a hostile pattern costs at most |name| × |run| per run, never
 * exponential time, which a regex translation would allow.
 */
function matchStars(p: Parsed, s: string): boolean {
  const segs = p.segments;
  let first = 0;
  let last = segs.length - 1;
  let pos = 0;
  let end = s.length;
  if (!p.openStart) {
    const head = segs[0] as Atom[];
    if (head.length > end || !at(head, s, 0)) return false;
    pos = head.length;
    first = 1;
  }
  if (!p.openEnd && last >= first) {
    const tail = segs[last] as Atom[];
    if (end - tail.length < pos || !at(tail, s, end - tail.length)) return false;
    end -= tail.length;
    last--;
  }
  for (let k = first; k <= last; k++) {
    const seg = segs[k] as Atom[];
    if (seg.length === 0) continue;
    let found = -1;
    for (let i = pos; i + seg.length <= end; i++) {
      if (at(seg, s, i)) {
        found = i;
        break;
      }
    }
    if (found < 0) return false;
    pos = found + seg.length;
  }
  return true;
}

/** Whether the run of atoms matches `s` starting at `i`. */
function at(seg: Atom[], s: string, i: number): boolean {
  if (i + seg.length > s.length) return false;
  for (let k = 0; k < seg.length; k++) {
    const a = seg[k] as Atom;
    const ch = s[i + k] as string;
    if (a.t === 'c') {
      if (a.c !== ch) return false;
    } else if (a.t === 'set') {
      if (!a.chars.includes(ch) && !a.ranges.some(([lo, hi]) => ch >= lo && ch <= hi)) return false;
    }
  }
  return true;
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
