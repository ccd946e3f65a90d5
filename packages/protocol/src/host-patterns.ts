// The hosts an auto-start service may run on (spec.hosts): host names, IP literals and host name
// patterns, and which enrolled hosts a pattern takes in. The rule of one entry is validate.ts's
// (isHostEntry); the matching is shared by the name server's host picker and its tests.

/** Bounds of spec.hosts, so one entry cannot make every launch scan without end. */
export const HOSTS_LIMITS = {
  /** Names and patterns in one list. */
  count: 16,
  /** The longest name or pattern (a DNS name's). */
  length: 253,
} as const;

/** What a pattern may be, as the refusals say it. */
export const HOST_PATTERN_RULE = 'a host name or IP address, or a host name pattern where * stands for any run of characters and ? for one (e.g. media-*)';

const WILDCARD = /[*?]/;

/** True when `v` has a wildcard, i.e. is a pattern and not one host. */
export function isHostPattern(v: string): boolean {
  return WILDCARD.test(v);
}

/**
 * Whether `host` is taken in by `pattern` (a host without wildcards takes in only itself). Host
 * names compare without regard to case, as DNS compares them. Iterative, with one backtrack
 * point, so the cost is at most the product of the two lengths (both at most 253).
 */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (!isHostPattern(p)) return p === h;
  let pi = 0;
  let hi = 0;
  let star = -1;
  let mark = 0;
  while (hi < h.length) {
    const c = p[pi];
    if (c === '?' || (c !== undefined && c !== '*' && c === h[hi])) {
      pi++;
      hi++;
    } else if (c === '*') {
      star = pi++;
      mark = hi;
    } else if (star >= 0) {
      pi = star + 1;
      hi = ++mark;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** The hosts of `known` that any of `entries` takes in, each once, in the order of `known`. */
export function hostsTakenIn(entries: readonly string[], known: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const h of known) {
    if (seen.has(h)) continue;
    seen.add(h);
    if (entries.some((e) => hostMatches(e, h))) out.push(h);
  }
  return out;
}
