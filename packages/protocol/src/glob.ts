// Tcl `string match` patterns over whole names: `*` (any run, "/" included), `?`,
// `[a-z]` sets with ranges, and `\x` for a literal x. Tcl has no set negation, so neither do we.
import { DpnsError } from './errors.js';
import { MAX_NAME_BYTES } from './names.js';

/** The longest pattern accepted. */
export const MAX_PATTERN_LENGTH = 1024;

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
    throw new DpnsError('INVALID_PATTERN', `${where}: a pattern must be a string, got ${typeof pattern}`);
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

function build(pattern: string, where: string): Glob {
  const fail = (why: string): never => {
    throw new DpnsError('INVALID_PATTERN', `${where}: ${why}`, { details: { field: where } });
  };
  if (pattern.length === 0) fail('a pattern must not be empty (use "*" for everything)');
  if (pattern.length > MAX_PATTERN_LENGTH) fail(`a pattern is at most ${MAX_PATTERN_LENGTH} characters, got ${pattern.length}`);
  if (pattern.includes('\0')) fail('a pattern must not contain NUL');

  let re = '^';
  let prefix = '';
  let inPrefix = true;
  let literal = true;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      // Runs of stars are one star; keeps the regex linear.
      if (!re.endsWith('[^]*')) re += '[^]*';
      inPrefix = literal = false;
    } else if (c === '?') {
      re += '[^]';
      inPrefix = literal = false;
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) fail(`unclosed "[" at position ${i + 1}`);
      const body = pattern.slice(i + 1, end);
      if (body.length === 0) fail(`empty set "[]" at position ${i + 1}`);
      re += `[${setBody(body, i + 1, fail)}]`;
      i = end;
      inPrefix = literal = false;
    } else if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) fail('a pattern must not end with a lone "\\"');
      re += escapeRe(next as string);
      if (inPrefix) prefix += next;
      i++;
    } else {
      re += escapeRe(c);
      if (inPrefix) prefix += c;
    }
  }
  re += '$';
  if (literal) {
    const name = prefix;
    return { pattern, literalPrefix: prefix, isLiteral: true, match: (s) => s === name };
  }
  // A pattern whose fixed prefix is already longer than any name can match nothing.
  const regex = new RegExp(re, 's');
  const fixed = prefix;
  const match = fixed.length > MAX_NAME_BYTES
    ? () => false
    : (s: string) => s.startsWith(fixed) && regex.test(s);
  return { pattern, literalPrefix: prefix, isLiteral: false, match };
}

function setBody(body: string, at: number, fail: (why: string) => never): string {
  let out = '';
  for (let j = 0; j < body.length; j++) {
    let c = body[j] as string;
    if (c === '\\') {
      const n = body[j + 1];
      if (n === undefined) fail(`dangling "\\" in set at position ${at}`);
      c = n as string;
      j++;
    }
    if (body[j + 1] === '-' && j + 2 < body.length) {
      let hi = body[j + 2] as string;
      let skip = 2;
      if (hi === '\\' && j + 3 < body.length) { hi = body[j + 3] as string; skip = 3; }
      // Tcl accepts ranges in either order ([z-a] is [a-z]).
      const [lo, up] = c <= hi ? [c, hi] : [hi, c];
      out += `${escapeSet(lo)}-${escapeSet(up)}`;
      j += skip;
    } else {
      out += escapeSet(c);
    }
  }
  return out;
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function escapeSet(c: string): string {
  return /[\\\]^-]/.test(c) ? `\\${c}` : c;
}
