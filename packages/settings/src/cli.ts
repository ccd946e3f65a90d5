// A table as yargs options, and the parsed flags back as values by setting name. yargs only
// splits the command line and lists the flags in --help: every value is checked by its kind in
// loadSettings, the same check the environment and the config file get.
import type { Options } from 'yargs';
import type { FlagShape } from './kinds.js';
import { shownDefault, type SettingsTable, type Specs } from './table.js';

const SHAPES: Record<FlagShape, Options> = {
  // No yargs type: yargs would turn "abc" into NaN, and the range check could not say what was given.
  number: { requiresArg: true },
  string: { type: 'string', requiresArg: true },
  switch: { type: 'boolean' },
  repeatable: { type: 'string', array: true },
};

/** `--config` and a flag for every setting (a deprecated one hidden), grouped as the table says. */
export function cliOptions<S extends Specs>(table: SettingsTable<S>): Record<string, Options> {
  const out: Record<string, Options> = {
    config: { ...SHAPES.string, describe: `a JSON file of settings, keyed by the names in docs/SETTINGS.md [env ${table.configEnv}]` },
  };
  for (const e of table.entries) {
    const k = e.spec.kind;
    // yargs shows [boolean] and [choices: ...] itself; any other kind says what it takes.
    const what = k.flag === 'switch' || k.choices !== undefined ? '' : ` [${k.text}]`;
    const dflt = shownDefault(e.spec);
    out[e.flag] = {
      ...SHAPES[k.flag],
      describe: `${e.spec.help}${what} [env ${e.env}]`,
      group: `${e.spec.group}:`,
      ...(k.choices === undefined ? {} : { choices: [...k.choices] }),
      ...(dflt === undefined ? {} : { defaultDescription: dflt }),
    };
    const old = e.spec.deprecated?.flag;
    if (old !== undefined) out[old] = { ...SHAPES[k.flag], hidden: true, ...(k.choices === undefined ? {} : { choices: [...k.choices] }) };
  }
  return out;
}

export interface CliValues {
  /** By setting name; a flag not given is absent. */
  values: Record<string, unknown>;
  /** By setting name, the flag as given (a deprecated one included), for loadSettings' messages. */
  flagNames: Record<string, string>;
  configFile?: string;
  /** A line for each deprecated flag used. */
  deprecated: string[];
}

/** The flags yargs parsed (with cliOptions), by setting name. */
export function cliValues<S extends Specs>(table: SettingsTable<S>, args: Readonly<Record<string, unknown>>): CliValues {
  const values: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  const deprecated: string[] = [];
  for (const e of table.entries) {
    const old = e.spec.deprecated?.flag;
    const oldValue = old === undefined ? undefined : args[old];
    if (oldValue !== undefined) deprecated.push(`--${old as string} is deprecated; use --${e.flag}`);
    const [flag, v] = args[e.flag] !== undefined ? [e.flag, args[e.flag]] : [old, oldValue];
    if (v === undefined) continue;
    values[e.name] = v;
    flagNames[e.name] = `--${flag as string}`;
  }
  const config = args.config;
  return { values, flagNames, deprecated, ...(typeof config === 'string' ? { configFile: config } : {}) };
}
