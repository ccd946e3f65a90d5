// Reading yargs' parsed arguments (loosely typed) into the values commands need, and the
// local checks that make a bad name or option exit 2 before anything is sent.
import { compileGlob, hasWildcard, nameProblem } from '@dpns/protocol';
import { UsageError } from './usage-error.js';

/** What yargs hands a command: option and positional values, untyped. */
export type Argv = Record<string, unknown>;

/** A string argument; undefined when absent. */
export function optString(argv: Argv, key: string): string | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError(`--${key} may be given only once`);
  if (typeof v !== 'string' && typeof v !== 'number') throw new UsageError(`--${key} needs a value`);
  return String(v);
}

export function reqString(argv: Argv, key: string): string {
  const v = optString(argv, key);
  if (v === undefined) throw new UsageError(`missing ${key.toUpperCase()}`);
  return v;
}

/** A repeatable option as a list (yargs gives a string for one, an array for several). */
export function stringList(argv: Argv, key: string): string[] | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string' && typeof x !== 'number') throw new UsageError(`--${key} needs a value`);
    return String(x);
  });
}

export function optInt(argv: Argv, key: string, min: number, max: number): number | undefined {
  const raw = optString(argv, key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A service name, checked with the protocol's rule. */
export function name(argv: Argv, key = 'name'): string {
  const v = reqString(argv, key);
  const problem = nameProblem(v);
  if (problem !== undefined) throw new UsageError(`${key.toUpperCase()}: ${problem}`, 'INVALID_NAME');
  return v;
}

/** A glob pattern (default "*"), checked with the protocol's compiler. */
export function pattern(argv: Argv, key = 'pattern'): string {
  const v = optString(argv, key) ?? '*';
  try {
    compileGlob(v, key.toUpperCase());
  } catch (err) {
    throw new UsageError((err as Error).message, 'INVALID_PATTERN');
  }
  return v;
}

/** A name, or a pattern when it has a wildcard. */
export function nameOrPattern(argv: Argv, key: string): string {
  const v = reqString(argv, key);
  return hasWildcard(v) ? pattern(argv, key) : name(argv, key);
}

/** `--env K=V` pairs into an object; a pair without "=" is bad usage. */
export function envPairs(list: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of list) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** "90s", "30m", "1h", "2d" (or plain milliseconds) → milliseconds; `key` names the option in the complaint. */
export function duration(text: string, key: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--${key}: expected a duration like 90s, 30m, 1h or 2d, got ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd' | undefined ?? 'ms'];
  return Number(m[1]) * unit;
}
