// Reading a table's values in rising precedence: defaults, the JSON config file, the environment,
// then flags (or a caller's options); a later layer replaces what an earlier one gave, a list
// included. Every value is checked by its kind, and a bad one names where it came from.
import { ConfigError, readConfigFile } from '@dpns/node-kit';
import { defaultValue, type Entry, type SettingsTable, type Specs, type Values } from './table.js';

export interface LoadInput {
  /** Values by setting name, undefined when not given: the command line's (cliValues) or a caller's options. */
  flags: Readonly<Record<string, unknown>>;
  /** How each flags value was spelled on the command line (cliValues), for messages; the setting's name when absent (code). */
  flagNames?: Readonly<Record<string, string>>;
  env: NodeJS.ProcessEnv;
  /** --config FILE; when absent, the table's CONFIG variable may name one. */
  configFile?: string;
}

export interface Loaded<S extends Specs> {
  values: Values<S>;
  /** The settings a layer gave, rather than left at their defaults. */
  given: ReadonlySet<keyof S & string>;
  /** A line for each deprecated spelling used, saying what to write instead. */
  deprecated: string[];
}

export function loadSettings<S extends Specs>(table: SettingsTable<S>, input: LoadInput): Loaded<S> {
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  const deprecated: string[] = [];
  for (const e of table.entries) {
    const d = defaultValue(e.spec);
    if (d !== undefined) values[e.name] = d;
  }
  const take = (e: Entry, v: unknown, at: string): void => {
    values[e.name] = e.spec.kind.parse(v, at);
    given.add(e.name);
  };

  const file = input.configFile ?? nonEmpty(input.env[table.configEnv]);
  if (file !== undefined && file !== '') {
    const where = `config file ${file}`;
    const raw = readConfigFile(file);
    for (const [key, v] of Object.entries(raw)) {
      const e = table.entries.find((x) => x.name === key || x.spec.deprecated?.key === key);
      if (e === undefined) throw new ConfigError(`${where}: unknown setting ${JSON.stringify(key)} (known: ${table.entries.map((x) => x.name).join(', ')})`);
      if (e.name !== key) {
        deprecated.push(`${where}: ${JSON.stringify(key)} is deprecated; write ${JSON.stringify(e.name)}`);
        if (e.name in raw) continue;
      }
      take(e, v, `${where}: ${key}`);
    }
  }

  for (const e of table.entries) {
    const old = e.spec.deprecated?.env;
    const oldValue = old === undefined ? undefined : nonEmpty(input.env[old]);
    if (old !== undefined && oldValue !== undefined) deprecated.push(`environment: ${old} is deprecated; set ${e.env}`);
    const [name, v] = nonEmpty(input.env[e.env]) !== undefined ? [e.env, input.env[e.env] as string] : [old, oldValue];
    if (name === undefined || v === undefined) continue;
    take(e, e.spec.kind.flag === 'repeatable' ? commaList(v) : v, `environment: ${name}`);
  }

  for (const [name, v] of Object.entries(input.flags)) {
    if (v === undefined) continue;
    const e = table.entries.find((x) => x.name === name);
    if (e === undefined) throw new ConfigError(`command line: unknown setting ${JSON.stringify(name)}`);
    take(e, v, `command line: ${input.flagNames?.[name] ?? name}`);
  }
  return { values: values as Values<S>, given: given as ReadonlySet<keyof S & string>, deprecated };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** "a, b,,c" → ["a", "b", "c"]: a repeatable setting's items in one variable. */
function commaList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
