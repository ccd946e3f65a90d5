// Narrowing `unknown` into typed values at the protocol edge. Every failure names the
// field, says what was given and what was expected, and carries INVALID_PARAMS.
import { DpnsError } from './errors.js';
import { CHECK_LIMITS, type HealthCheck, type LaunchSpec } from './entries.js';
import { HOST_PATTERN_RULE, HOSTS_LIMITS, isHostPattern } from './host-patterns.js';

export type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export function bad(field: string, expected: string, got: unknown): DpnsError {
  return new DpnsError('INVALID_PARAMS', `${field}: expected ${expected}, got ${describe(got)}`, {
    details: { field },
  });
}

/** A plain object copied onto a null prototype, so `__proto__` and friends are inert keys. */
export function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'an object', v);
  return Object.assign(Object.create(null) as Obj, v);
}

/** Refuses keys the method does not know, so a typo is an error and not a silent default. */
export function onlyKeys(o: Obj, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new DpnsError('INVALID_PARAMS', `${field}: unknown field ${JSON.stringify(k.slice(0, 64))} (allowed: ${allowed.join(', ') || 'none'})`, {
        details: { field: `${field}.${k.slice(0, 64)}` },
      });
    }
  }
}

export function str(o: Obj, key: string, field: string, opts: { max?: number; min?: number } = {}): string {
  const v = o[key];
  const f = `${field}.${key}`;
  if (typeof v !== 'string') throw bad(f, 'a string', v);
  const max = opts.max ?? 4096;
  if (v.length < (opts.min ?? 1)) throw bad(f, `a non-empty string`, v);
  if (v.length > max) throw bad(f, `at most ${max} characters`, v);
  if (v.includes('\0')) throw bad(f, 'a string without NUL', v);
  return v;
}

export function int(o: Obj, key: string, field: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`${field}.${key}`, `an integer from ${min} to ${max}`, v);
  }
  return v;
}

export function bool(o: Obj, key: string, field: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw bad(`${field}.${key}`, 'true or false', v);
  return v;
}

const DNS_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => IPV4_PART.test(p) && Number(p) <= 255);
}

// Without brackets or a zone id; the last 32 bits may be written as IPv4 (::ffff:192.0.2.1).
function isIPv6(s: string): boolean {
  let t = s;
  if (t.includes('.')) {
    const cut = t.lastIndexOf(':');
    if (!isIPv4(t.slice(cut + 1))) return false;
    t = `${t.slice(0, cut + 1)}0:0`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return false;
  const groups = (x: string): string[] => (x === '' ? [] : x.split(':'));
  if (halves.length === 2) {
    const all = [...groups(halves[0] as string), ...groups(halves[1] as string)];
    return all.length <= 7 && all.every((g) => IPV6_GROUP.test(g));
  }
  const all = t.split(':');
  return all.length === 8 && all.every((g) => IPV6_GROUP.test(g));
}

/**
 * The host rule (PROTOCOL.md §5.10): digits and dots only is an IPv4 literal (four parts of 0 to
 * 255), anything with a colon an IPv6 literal, anything else a DNS name.
 */
export function isHost(v: string): boolean {
  if (/^[0-9.]+$/.test(v)) return isIPv4(v);
  if (v.includes(':')) return isIPv6(v);
  return DNS_NAME.test(v);
}

/**
 * True when `v` is one entry of spec.hosts: a host (the host rule above), or a pattern that is a
 * DNS name once each wildcard stands for a letter. No other wildcard exists (no sets, no
 * escapes), so a pattern never needs quoting beyond the shell's.
 */
export function isHostEntry(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > HOSTS_LIMITS.length) return false;
  if (!isHostPattern(v)) return isHost(v);
  return DNS_NAME.test(v.replace(/[*?]/g, 'x'));
}

/** spec.hosts: 1 to HOSTS_LIMITS.count entries, each isHostEntry, none twice. */
export function hostsValue(v: unknown, f: string): string[] {
  const { count } = HOSTS_LIMITS;
  if (!Array.isArray(v) || v.length === 0 || v.length > count) throw bad(f, `an array of 1 to ${count} host names or patterns`, v);
  const seen = new Set<string>();
  return v.map((h, i) => {
    if (!isHostEntry(h)) throw bad(`${f}[${i}]`, HOST_PATTERN_RULE, h);
    if (seen.has(h)) throw bad(`${f}[${i}]`, 'each host or pattern once', h);
    seen.add(h);
    return h;
  });
}

/** A host name or an IPv4/IPv6 literal. */
export function host(o: Obj, key: string, field: string): string {
  const v = str(o, key, field, { max: 253 });
  if (!isHost(v)) throw bad(`${field}.${key}`, 'a host name or IP address', v);
  return v;
}

export function port(o: Obj, key: string, field: string): number {
  return int(o, key, field, 1, 65535);
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}\$?$/;

/** Limits on a launch spec, so one entry cannot be made huge. */
export const SPEC_LIMITS = {
  args: 256, env: 256, value: 4096, startTimeoutMs: { min: 100, max: 600_000, dflt: 10_000 },
  /** Scale to zero (PROTOCOL.md §7.7): 1 s (tests, demos) to 30 days. */
  idleStopMs: { min: 1000, max: 30 * 86_400_000 },
} as const;

/** Parses one launch-spec field; shared by `register.add` (all fields) and `register.edit` (some). */
// `redacted` is output only (redact.ts), so it is not a field anyone may set.
export function specField(o: Obj, key: Exclude<keyof LaunchSpec, 'redacted'>, field: string): LaunchSpec[keyof LaunchSpec] {
  const f = `${field}.${key}`;
  switch (key) {
    case 'host':
      return host(o, key, field);
    case 'hosts':
      return hostsValue(o[key], f);
    case 'program': {
      const v = str(o, key, field);
      return v;
    }
    case 'args': {
      const v = o[key];
      if (!Array.isArray(v) || v.length > SPEC_LIMITS.args) throw bad(f, `an array of at most ${SPEC_LIMITS.args} strings`, v);
      return v.map((a, i) => {
        if (typeof a !== 'string' || a.length > SPEC_LIMITS.value || a.includes('\0')) {
          throw bad(`${f}[${i}]`, `a string of at most ${SPEC_LIMITS.value} characters without NUL`, a);
        }
        return a;
      });
    }
    case 'env': {
      const e = object(o[key], f);
      const keys = Object.keys(e);
      if (keys.length > SPEC_LIMITS.env) throw bad(f, `at most ${SPEC_LIMITS.env} variables`, `${keys.length} variables`);
      const out = Object.create(null) as Record<string, string>;
      for (const k of keys) {
        if (!ENV_KEY.test(k) || k.length > 256) throw bad(`${f}`, 'variable names matching [A-Za-z_][A-Za-z0-9_]*', k);
        const val = e[k];
        if (typeof val !== 'string' || val.length > SPEC_LIMITS.value || val.includes('\0')) {
          throw bad(`${f}.${k}`, `a string of at most ${SPEC_LIMITS.value} characters without NUL`, val);
        }
        out[k] = val;
      }
      return out;
    }
    case 'cwd': {
      const v = str(o, key, field);
      if (!v.startsWith('/')) throw bad(f, 'an absolute path', v);
      return v;
    }
    case 'user': {
      const v = str(o, key, field, { max: 32 });
      if (!USER.test(v)) throw bad(f, 'a user name like "svc-demo"', v);
      return v;
    }
    case 'restart': {
      const v = o[key];
      if (v !== 'no' && v !== 'on-failure') throw bad(f, '"no" or "on-failure"', v);
      return v;
    }
    case 'startTimeoutMs': {
      const { min, max } = SPEC_LIMITS.startTimeoutMs;
      return int(o, key, field, min, max);
    }
    case 'check':
      return healthCheckValue(o[key], f);
    case 'idleStopMs': {
      const { min, max } = SPEC_LIMITS.idleStopMs;
      return int(o, key, field, min, max);
    }
    default: {
      const never: never = key;
      throw bad(f, 'a known field', never);
    }
  }
}

const CHECK_KEYS = ['kind', 'path', 'intervalMs', 'timeoutMs', 'threshold'] as const;
/** An HTTP path: absolute, printable ASCII without spaces (so nothing can be smuggled into the request line). */
export const CHECK_PATH = /^\/[!-~]*$/;

/**
 * A health check given in a request (`advertiseService.check`, `spec.check`), with its defaults
 * filled in. Every member is checked, then the rules across members (checkRuleProblem).
 */
export function healthCheckValue(v: unknown, f: string): HealthCheck {
  const o = object(v, f);
  onlyKeys(o, CHECK_KEYS, f);
  if (o.kind !== 'tcp' && o.kind !== 'http') throw bad(`${f}.kind`, '"tcp" or "http"', o.kind);
  if (o.path !== undefined) {
    const p = o.path;
    if (typeof p !== 'string' || p.length > CHECK_LIMITS.path || !CHECK_PATH.test(p)) {
      throw bad(`${f}.path`, `an absolute HTTP path of at most ${CHECK_LIMITS.path} printable ASCII characters without spaces, like "/healthz"`, p);
    }
  }
  const c: HealthCheck = { kind: o.kind, intervalMs: CHECK_LIMITS.intervalMs.dflt, timeoutMs: CHECK_LIMITS.timeoutMs.dflt, threshold: CHECK_LIMITS.threshold.dflt };
  if (typeof o.path === 'string') c.path = o.path;
  for (const k of ['intervalMs', 'timeoutMs', 'threshold'] as const) {
    if (o[k] !== undefined) c[k] = int(o, k, f, CHECK_LIMITS[k].min, CHECK_LIMITS[k].max);
  }
  const problem = checkRuleProblem(c, f);
  if (problem !== undefined) throw problem;
  return c;
}

/**
 * The rules across a check's members, each member already in its bounds (missing numbers take
 * their defaults): a path for http and only for http, and a timeout shorter than the interval.
 */
export function checkRuleProblem(c: { kind: string; path?: string | undefined; intervalMs?: number | undefined; timeoutMs?: number | undefined }, f: string): DpnsError | undefined {
  if (c.kind === 'http' && c.path === undefined) return bad(`${f}.path`, 'a path for an http check, like "/healthz"', undefined);
  if (c.kind === 'tcp' && c.path !== undefined) return bad(`${f}.path`, 'no path for a tcp check', c.path);
  const interval = c.intervalMs ?? CHECK_LIMITS.intervalMs.dflt;
  const timeout = c.timeoutMs ?? CHECK_LIMITS.timeoutMs.dflt;
  if (timeout >= interval) return bad(`${f}.timeoutMs`, `less than the interval (${interval} ms)`, timeout);
  return undefined;
}
