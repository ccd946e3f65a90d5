// What a setting's value may be: how it is narrowed from a flag, a variable or a config file, how
// help and docs describe it, and how yargs should take its flag. The checks are @dpns/protocol's
// (config-file.ts), so every daemon words a bad value the same way.
import { resolve } from 'node:path';
import { ConfigError, formatHostPort, parseHostPort, settingInt, settingNonEmpty, settingOneOf } from '@dpns/node-kit';

/**
 * How yargs takes the flag. `number` leaves the text to the kind's own check, so `--x abc` is
 * refused with the setting's range rather than read as NaN; `repeatable` may be given many times,
 * and its environment variable holds the items comma-separated.
 */
export type FlagShape = 'number' | 'string' | 'switch' | 'repeatable';

export interface Kind<T> {
  /** What a value looks like, for --help and docs/SETTINGS.md: "integer 20 … 60000", "HOST:PORT". */
  readonly text: string;
  readonly flag: FlagShape;
  /** Values yargs checks and --help lists itself. */
  readonly choices?: readonly string[];
  /** A value from a flag or a variable (text) or a config file (any JSON), narrowed; `at` names where it came from. */
  parse(v: unknown, at: string): T;
  /** A value as help and docs show it. */
  show(v: T): string;
}

/** An integer in [min, max]; digits in a string (a variable, a flag) count. */
export function int(min: number, max: number): Kind<number> {
  return { text: `integer ${min} … ${max}`, flag: 'number', parse: (v, at) => settingInt(v, [min, max], at), show: String };
}

export function oneOf<const T extends string>(values: readonly T[]): Kind<T> {
  return { text: `one of ${values.join(', ')}`, flag: 'string', choices: values, parse: (v, at) => settingOneOf(v, values, at), show: (v) => v };
}

/** true or false; a variable may also say 1/0 or yes/no. */
export function bool(): Kind<boolean> {
  return { text: 'true or false', flag: 'switch', parse: settingBool, show: String };
}

function settingBool(v: unknown, at: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(`${at}: expected true or false, got ${JSON.stringify(v)}`);
}

/** A non-empty string, with the setting's own check when it has one. */
export function text(what = 'text', check: (v: string, at: string) => string = (v) => v): Kind<string> {
  return { text: what, flag: 'string', parse: (v, at) => check(settingNonEmpty(v, at), at), show: (v) => v };
}

/** A file or directory, made absolute against the working directory. */
export function path(): Kind<string> {
  return { text: 'path', flag: 'string', parse: (v, at) => resolve(settingNonEmpty(v, at)), show: (v) => v };
}

export interface HostPort {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port", split; `examplePort` is the port the error message shows. */
export function endpoint(examplePort: number): Kind<HostPort> {
  return {
    text: 'HOST:PORT', flag: 'string',
    parse: (v, at) => parseHostPort(settingNonEmpty(v, at), at, examplePort),
    show: (v) => formatHostPort(v.host, v.port),
  };
}

/** "host:port" or "[v6]:port", kept as text in the one spelling formatHostPort gives. */
export function address(examplePort: number): Kind<string> {
  const split = endpoint(examplePort);
  return { ...split, parse: (v, at) => split.show(split.parse(v, at)), show: (v) => v };
}

/** Any other kind: a daemon's own lists and objects (an allowlist, a restart spec). */
export function kind<T>(k: Kind<T>): Kind<T> {
  return k;
}
